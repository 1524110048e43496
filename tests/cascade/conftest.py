"""Harness of the cross-service cascade: users, content, social, payments and moderation
in-process, each against a database of its own, on an event prefix of their own, so that
no other suite's services (which consume the same families in the same groups) take their
events.

The services are started as the other suites start them (their settings and helpers are
imported from those harnesses); content and social call each other, social's port
reserved before content starts; moderation, which asks users and content, starts once
they serve. Accounts, `rejected()` and the autouse check that no call answers UNKNOWN or
INTERNAL come from the users harness.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from daira.content.v1 import content_pb2_grpc
from daira.moderation.v1 import moderation_pb2_grpc
from daira.payments.v1 import payments_pb2_grpc
from daira.social.v1 import social_pb2_grpc
from daira.users.v1 import users_pb2_grpc
from services.content import SPEC as CONTENT
from services.moderation import SPEC as MODERATION
from services.moderation.api import build as build_moderation
from services.payments import SPEC as PAYMENTS
from services.payments.api import build as build_payments
from services.payments.providers.sandbox import Sandbox
from services.social import SPEC as SOCIAL
from services.users import SPEC as USERS
from services.users.api import build as build_users
from shared.server import RunningServer
from tests import harness
from tests.content.conftest import content_service
from tests.moderation.conftest import moderation_settings
from tests.payments.conftest import Sql, payments_settings
from tests.social.conftest import reserved_port, social_service
from tests.users.conftest import (
    Accounts,
    no_call_answers_unknown_or_internal,
    open_channel,
    pytest_runtest_makereport,
    rejected,
    tokens,
    users_settings,
)

__all__ = [
    "no_call_answers_unknown_or_internal",
    "pytest_runtest_makereport",
    "rejected",
    "tokens",
]

PREFIX = f"{harness.EVENTS_PREFIX}-cascade"
DB_PASSWORD = "cascade-test-password"
OWN_STREAMS = {"events_stream_prefix": PREFIX}


@dataclass(frozen=True)
class Platform:
    """Stubs of the five services, and the databases the story checks directly."""

    users: users_pb2_grpc.UserServiceStub
    content: content_pb2_grpc.ContentServiceStub
    social: social_pb2_grpc.SocialServiceStub
    payments: payments_pb2_grpc.PaymentsServiceStub
    moderation: moderation_pb2_grpc.ModerationServiceStub
    sandbox: Sandbox
    ledger: Sql
    users_db_url: str


async def _database(pg_admin_url: str, spec: Any, worker_id: str) -> str:
    name = f"daira_{spec.name}_cascade_{worker_id}"
    return await harness.provision_and_migrate(pg_admin_url, spec, name, DB_PASSWORD)


@pytest.fixture(scope="session")
async def platform(pg_admin_url: str, redis_url: str, worker_id: str) -> AsyncIterator[Platform]:
    urls = {
        spec.name: await _database(pg_admin_url, spec, worker_id)
        for spec in (USERS, CONTENT, SOCIAL, PAYMENTS, MODERATION)
    }
    settings = users_settings(urls["users"], redis_url).model_copy(update=OWN_STREAMS)
    users = await harness.start_serving(USERS, settings, build_users)
    users_address = f"127.0.0.1:{users.port}"
    payments_config = payments_settings(urls["payments"], redis_url, users_address).model_copy(
        update=OWN_STREAMS
    )
    payments = await harness.start_serving(PAYMENTS, payments_config, build_payments)
    channels: list[grpc.aio.Channel] = []

    def stub(server: RunningServer, stub_type: Any) -> Any:
        channels.append(open_channel(server.port))
        return stub_type(channels[-1])

    try:
        with reserved_port() as port:
            async with (
                content_service(
                    urls["content"],
                    redis_url,
                    users_address,
                    social_address=f"127.0.0.1:{port}",
                    **OWN_STREAMS,
                ) as content,
                social_service(
                    urls["social"],
                    redis_url,
                    users_address,
                    f"127.0.0.1:{content.port}",
                    port=port,
                    **OWN_STREAMS,
                ) as social,
            ):
                moderation_config = moderation_settings(
                    urls["moderation"], redis_url, users_address, f"127.0.0.1:{content.port}"
                ).model_copy(update=OWN_STREAMS)
                moderation = await harness.start_serving(
                    MODERATION, moderation_config, build_moderation
                )
                try:
                    yield Platform(
                        users=stub(users, users_pb2_grpc.UserServiceStub),
                        content=stub(content, content_pb2_grpc.ContentServiceStub),
                        social=stub(social, social_pb2_grpc.SocialServiceStub),
                        payments=stub(payments, payments_pb2_grpc.PaymentsServiceStub),
                        moderation=stub(moderation, moderation_pb2_grpc.ModerationServiceStub),
                        sandbox=Sandbox(payments_config),
                        ledger=Sql(urls["payments"]),
                        users_db_url=urls["users"],
                    )
                    for channel in channels:
                        await channel.close()
                finally:
                    await moderation.stop(0)
    finally:
        await payments.stop(0)
        await users.stop(0)


@pytest.fixture(scope="session")
def accounts(platform: Platform) -> Accounts:
    return Accounts(platform.users, platform.users_db_url)
