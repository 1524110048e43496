"""Harness of the moderation service's integration tests.

Per pytest worker: a real users service (reported users, suspensions and bans), a real
content service (reported posts, comments and videos, and their removal; social is
unreachable, as in content's own tests) and the moderation service, all in-process on
random ports, each against its own freshly migrated database and the session's Redis,
signing tokens with one secret. Accounts, `rejected()` and the autouse check that no
call answers UNKNOWN or INTERNAL come from the users harness.

The enforcer retries every 0.1 s (backing off to 0.5 s), so a test that waits for an
effect to be applied waits briefly. Tests that need many callers use `minted` users and
moderators, whose tokens are signed here: moderation and content trust a valid token for
who the caller is.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import duration_pb2
from sqlalchemy.engine import make_url

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.moderation.v1 import moderation_pb2 as pb
from daira.moderation.v1 import moderation_pb2_grpc
from services.content import SPEC as CONTENT
from services.moderation import SPEC
from services.moderation.api import build
from services.moderation.settings import ModerationSettings
from shared.auth import Role, TokenService
from shared.server import RunningServer
from tests import harness
from tests.content.conftest import (
    Database,
    content_service,
    create_comment,
    create_post,
    create_video,
    get_post,
)
from tests.users.conftest import (
    Account,
    Metadata,
    accounts,
    admin,
    alice,
    bearer,
    bob,
    carol,
    moderator,
    no_call_answers_unknown_or_internal,
    open_channel,
    pytest_runtest_makereport,
    rejected,
    tokens,
    users_db_url,
    users_server,
    users_stub,
)

__all__ = [
    "Account",
    "Metadata",
    "accounts",
    "admin",
    "alice",
    "bearer",
    "bob",
    "carol",
    "create_comment",
    "create_post",
    "create_video",
    "get_post",
    "moderator",
    "no_call_answers_unknown_or_internal",
    "pytest_runtest_makereport",
    "rejected",
    "tokens",
    "users_db_url",
    "users_server",
    "users_stub",
]

DB_PASSWORD = "moderation-test-password"
# Reports one account may file per window in these tests.
REPORT_LIMIT = 5
WAIT_ROUNDS = 200
# The event streams of this suite's content services: content services of other suites
# in the session share consumer groups on the session's streams, and would otherwise take
# (and fan out into their own databases) events of this suite's posts, and it theirs.
EVENTS_PREFIX = f"{harness.EVENTS_PREFIX}-moderation"


def moderation_settings(
    database_url: str, redis_url: str, users_address: str, content_address: str
) -> ModerationSettings:
    return ModerationSettings(
        **{
            **harness.service_settings(database_url, redis_url),
            "events_stream_prefix": EVENTS_PREFIX,
        },
        users_address=users_address,
        content_address=content_address,
        report_limit=REPORT_LIMIT,
        enforce_interval_seconds=0.1,
        enforce_backoff_max_seconds=0.5,
    )


@asynccontextmanager
async def moderation_service(
    database_url: str, redis_url: str, users_address: str, content_address: str
) -> AsyncIterator[RunningServer]:
    settings = moderation_settings(database_url, redis_url, users_address, content_address)
    running = await harness.start_serving(SPEC, settings, build)
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture(scope="session")
async def moderation_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_moderation_{worker_id}", DB_PASSWORD
    )


@pytest.fixture(scope="session")
async def content_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, CONTENT, f"daira_content_for_moderation_{worker_id}", DB_PASSWORD
    )


@pytest.fixture(scope="session")
def users_address(users_server: RunningServer) -> str:
    return f"127.0.0.1:{users_server.port}"


@pytest.fixture(scope="session")
async def content_server(
    content_db_url: str, redis_url: str, users_address: str
) -> AsyncIterator[RunningServer]:
    async with content_service(
        content_db_url, redis_url, users_address, events_stream_prefix=EVENTS_PREFIX
    ) as running:
        yield running


@pytest.fixture(scope="session")
async def moderation_server(
    moderation_db_url: str, redis_url: str, users_address: str, content_server: RunningServer
) -> AsyncIterator[RunningServer]:
    content_address = f"127.0.0.1:{content_server.port}"
    async with moderation_service(
        moderation_db_url, redis_url, users_address, content_address
    ) as running:
        yield running


@pytest.fixture(scope="session")
async def stub(
    moderation_server: RunningServer,
) -> AsyncIterator[moderation_pb2_grpc.ModerationServiceStub]:
    channel = open_channel(moderation_server.port)
    yield moderation_pb2_grpc.ModerationServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
async def content_stub(
    content_server: RunningServer,
) -> AsyncIterator[content_pb2_grpc.ContentServiceStub]:
    channel = open_channel(content_server.port)
    yield content_pb2_grpc.ContentServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
def moderation_db(moderation_db_url: str) -> Database:
    """The service's own database, as its role."""
    return Database(moderation_db_url)


@pytest.fixture(scope="session")
def superuser_db(pg_admin_url: str, moderation_db_url: str) -> Database:
    """The service's database as the superuser, who can get past the audit log's triggers."""
    database = make_url(moderation_db_url).database
    url = make_url(pg_admin_url).set(drivername="postgresql", database=database)
    return Database(url.render_as_string(hide_password=False))


@pytest.fixture
async def empty_queue(moderation_db: Database) -> None:
    """No subject, report, decision or appeal from other tests (the audit log stays)."""
    await moderation_db.sql("TRUNCATE subjects, reports, notes, decisions, enforcements, appeals")


@dataclass
class Minted:
    """A user (or moderator) whose token is signed here; no account behind it."""

    id: str
    auth: Metadata


@pytest.fixture(scope="session")
def mint(tokens: TokenService) -> Callable[..., Minted]:
    """`mint()`: a new minted user; `mint(Role.MODERATOR)`: a minted moderator."""

    def new(role: Role = Role.USER) -> Minted:
        user_id = uuid.uuid4()
        token, _ = tokens.issue_access(user_id, role, uuid.uuid4())
        return Minted(str(user_id), bearer(token))

    return new


@pytest.fixture(scope="session")
def service_auth(tokens: TokenService) -> Metadata:
    """Metadata of another Daira service (payments) calling in."""
    return bearer(tokens.issue_service("payments", ttl_seconds=3600))


# --- calls tests share -------------------------------------------------------------------

Caller = Account | Minted


async def report(
    stub: Any,
    who: Caller,
    target_id: str,
    kind: int = pb.SUBJECT_KIND_POST,
    reason: int = pb.REPORT_REASON_SPAM,
    comment: str = "",
) -> pb.Report:
    request = pb.FileReportRequest(
        subject_kind=kind, target_id=target_id, reason=reason, comment=comment
    )
    return (await stub.FileReport(request, metadata=who.auth)).report


async def my_reports(stub: Any, who: Caller) -> list[pb.Report]:
    request = pb.ListMyReportsRequest(page_size=100)
    return list((await stub.ListMyReports(request, metadata=who.auth)).reports)


async def reported_post(
    stub: Any, content_stub: Any, author: Account, reporter: Caller, **options: Any
) -> tuple[content_pb2.Post, pb.Report]:
    """A new post by `author`, reported by `reporter`."""
    post = await create_post(content_stub, author)
    return post, await report(stub, reporter, post.id, **options)


async def decide(
    stub: Any,
    who: Caller,
    subject_id: str,
    action: int,
    reason: str = "breaks the rules",
    **fields: Any,
) -> pb.Decision:
    request = pb.DecideRequest(subject_id=subject_id, action=action, reason=reason, **fields)
    return (await stub.Decide(request, metadata=who.auth)).decision


async def decision(stub: Any, who: Caller, decision_id: str) -> pb.Decision:
    request = pb.GetDecisionRequest(decision_id=decision_id)
    return (await stub.GetDecision(request, metadata=who.auth)).decision


async def until_state(read: Callable[[], Awaitable[pb.Decision]], state: int) -> pb.Decision:
    """Read the decision until it reaches `state` (the enforcer works in the background)."""
    for _ in range(WAIT_ROUNDS):
        found = await read()
        if found.state == state:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"the decision stayed {pb.DecisionState.Name(found.state)}")


async def subject_of(stub: Any, staff: Caller, subject_id: str) -> pb.GetSubjectResponse:
    return await stub.GetSubject(pb.GetSubjectRequest(subject_id=subject_id), metadata=staff.auth)


async def published_video(
    content_stub: Any, author: Account, service: Metadata
) -> content_pb2.Video:
    """A video of `author` through the pipeline to PUBLISHED, so others can see it."""
    video = await create_video(content_stub, author)
    await content_stub.MarkVideoUploaded(
        content_pb2.MarkVideoUploadedRequest(id=video.id), metadata=service
    )
    request = content_pb2.CompleteVideoProcessingRequest(
        id=video.id,
        hls_url="https://cdn.example.com/v/master.m3u8",
        thumbnail_url="https://cdn.example.com/v/thumb.jpg",
        resolution="1920x1080",
        duration=duration_pb2.Duration(seconds=60),
    )
    await content_stub.CompleteVideoProcessing(request, metadata=service)
    return video
