"""A decision is never lost when the owning service is down: it stays PENDING_APPLY and the
enforcer applies it once the service is back.

This test runs content and moderation of its own, on databases of their own, so stopping
content disturbs no other test and no other enforcer sees its decision; content comes
back on the same port."""

from __future__ import annotations

import grpc
import pytest

from daira.content.v1 import content_pb2_grpc
from daira.moderation.v1 import moderation_pb2 as pb
from daira.moderation.v1 import moderation_pb2_grpc
from services.content import SPEC as CONTENT
from services.content.api import build as build_content
from services.moderation import SPEC
from tests import harness
from tests.content.conftest import content_settings

from .conftest import (
    DB_PASSWORD,
    EVENTS_PREFIX,
    decide,
    decision,
    get_post,
    moderation_service,
    open_channel,
    reported_post,
    until_state,
)


@pytest.fixture
async def databases(pg_admin_url: str, worker_id: str) -> tuple[str, str]:
    content = await harness.provision_and_migrate(
        pg_admin_url, CONTENT, f"daira_content_enforced_{worker_id}", DB_PASSWORD
    )
    moderation = await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_moderation_enforcing_{worker_id}", DB_PASSWORD
    )
    return content, moderation


async def test_a_removal_decided_while_content_is_down_is_applied_once_it_returns(
    databases, redis_url, users_address, alice, bob, carol, moderator, rejected
):
    content_db, moderation_db = databases
    settings = content_settings(content_db, redis_url, users_address).model_copy(
        update={"events_stream_prefix": EVENTS_PREFIX}
    )
    content = await harness.start_serving(CONTENT, settings, build_content)
    port = content.port
    async with moderation_service(
        moderation_db, redis_url, users_address, f"127.0.0.1:{port}"
    ) as moderation:
        channel, content_channel = open_channel(moderation.port), open_channel(port)
        stub = moderation_pb2_grpc.ModerationServiceStub(channel)
        content_stub = content_pb2_grpc.ContentServiceStub(content_channel)
        post, filed = await reported_post(stub, content_stub, alice, bob)
        await content.stop(0)

        pending = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)

        back = await harness.start_serving(
            CONTENT, settings.model_copy(update={"port": port}), build_content
        )
        try:
            applied = await until_state(
                lambda: decision(stub, moderator, pending.id), pb.DECISION_STATE_APPLIED
            )
            hidden = await rejected(get_post(content_stub, carol, post.id))
        finally:
            await back.stop(0)
            await channel.close()
            await content_channel.close()

    assert pending.state == pb.DECISION_STATE_PENDING_APPLY
    assert pending.apply_error
    assert applied.apply_attempts >= 2
    assert hidden.code == grpc.StatusCode.NOT_FOUND
