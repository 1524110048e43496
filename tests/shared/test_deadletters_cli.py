"""The dead-letter command: an operator lists a stream's dead letters and replays them."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf import wrappers_pb2
from redis.asyncio import Redis

from shared import deadletters_cli
from shared.deadletters import bury
from shared.outbox import envelope, stream_name


@pytest.fixture
async def buried(redis_url: str) -> tuple[str, str, str]:
    """(prefix, family, event id) of one dead letter."""
    prefix, family = f"cli-{uuid.uuid4().hex[:8]}", "test.things"
    event = envelope("test.thing.done", "x", wrappers_pb2.Int64Value(value=1), request_id="r")
    stream = stream_name(prefix, family)
    async with Redis.from_url(redis_url) as redis:
        entry_id = await redis.xadd(stream, {"event": event.SerializeToString()})
        await bury(
            redis, stream, "test.group", entry_id.decode(), event.SerializeToString(),
            error="boom", attempts=5,
        )  # fmt: skip
    return prefix, family, event.id


async def test_list_names_each_dead_event_with_its_error(redis_url, buried, capsys):
    prefix, family, event_id = buried

    code = await deadletters_cli.run(
        deadletters_cli.parse_args(["--redis-url", redis_url, "--prefix", prefix, "list", family])
    )

    out = capsys.readouterr().out
    assert code == 0
    assert f"test.thing.done {event_id}" in out
    assert "group=test.group" in out and "error=boom" in out


async def test_replay_puts_the_event_back_on_its_stream(redis_url, buried):
    prefix, family, _ = buried
    stream = stream_name(prefix, family)
    async with Redis.from_url(redis_url) as redis:
        (entry_id, _), *_ = await redis.xrange(f"{stream}:dead")
        before = await redis.xlen(stream)

        code = await deadletters_cli.run(
            deadletters_cli.parse_args(
                ["--redis-url", redis_url, "--prefix", prefix, "replay", family, entry_id.decode()]
            )
        )

        assert code == 0
        assert await redis.xlen(stream) == before + 1
        assert await redis.xlen(f"{stream}:dead") == 0
