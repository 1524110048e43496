"""Dead letters: events a consumer group gave up on, kept in `<stream>:dead` with the error
that ended their last attempt, to be listed and, once the handler is fixed, replayed.

A replay adds the event back to its stream as a new entry, so every group of that stream
sees it again: the group that failed handles it afresh (with a new attempt count), and the
groups that had handled it skip it by its id. Each step is written before the next is
taken (dead letter before acknowledgement, re-publication before deletion), so a failure
in between leaves a duplicate, never a loss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from redis.asyncio import Redis

from daira.events.v1 import events_pb2
from shared import metrics

_ERROR_LIMIT = 2000


def dead_stream(stream: str) -> str:
    return f"{stream}:dead"


@dataclass(frozen=True)
class DeadLetter:
    entry_id: str  # in the dead-letter stream
    envelope: bytes  # the serialized daira.events.v1.Event, as it was published
    group: str
    error: str
    attempts: int

    @property
    def event(self) -> events_pb2.Event | None:
        """The envelope parsed, or None when it is not an Event (why it died, then)."""
        try:
            return events_pb2.Event.FromString(self.envelope)
        except DecodeError:
            return None


async def bury(
    redis: Redis,
    stream: str,
    group: str,
    entry_id: str,
    envelope: bytes,
    *,
    error: str,
    attempts: int,
) -> None:
    """Move one pending entry of `group` to the dead-letter stream and acknowledge it."""
    fields: dict[Any, Any] = {
        "event": envelope,
        "group": group,
        "error": error[:_ERROR_LIMIT],
        "attempts": attempts,
        "entry_id": entry_id,
    }
    await redis.xadd(dead_stream(stream), fields)
    await redis.xack(stream, group, entry_id)
    metrics.DEAD_LETTERS.labels(stream, group).inc()


def _letter(entry_id: bytes | str, fields: dict[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        entry_id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
        envelope=fields.get(b"event", b""),
        group=fields.get(b"group", b"").decode(),
        error=fields.get(b"error", b"").decode(errors="replace"),
        attempts=int(fields.get(b"attempts", b"0")),
    )


async def list_dead(
    redis: Redis, stream: str, *, after: str = "-", count: int = 100
) -> list[DeadLetter]:
    """Up to `count` dead letters of `stream`, oldest first, from `after` (an entry id,
    exclusive; "-" for the start), so a long list is read page by page."""
    start = after if after == "-" else f"({after}"
    entries: Any = await redis.xrange(dead_stream(stream), min=start, count=count)
    return [_letter(entry_id, fields) for entry_id, fields in entries]


async def replay_dead(redis: Redis, stream: str, entry_ids: Iterable[str]) -> int:
    """Publish the named dead letters to `stream` again, then delete them; how many were."""
    dead = dead_stream(stream)
    async with redis.pipeline(transaction=False) as pipe:
        for entry_id in entry_ids:
            pipe.xrange(dead, min=entry_id, max=entry_id)
        found = [entry for entries in await pipe.execute() for entry in entries]
    if not found:
        return 0
    letters = [_letter(entry_id, fields) for entry_id, fields in found]
    async with redis.pipeline(transaction=False) as pipe:
        for letter in letters:
            pipe.xadd(stream, {"event": letter.envelope})
        added = await pipe.execute(raise_on_error=False)
    published = [
        letter.entry_id
        for letter, result in zip(letters, added, strict=True)
        if not isinstance(result, Exception)
    ]
    if published:
        await redis.xdel(dead, *published)
    return len(published)
