"""Harness of the content service's integration tests.

Per pytest worker: a real users service and the content service, both in-process on
random ports, each against its own freshly migrated database (daira_users_<worker>,
daira_content_<worker>) and the session's Redis, signing tokens with one secret. The
content service finds users at its real address, but `social_address` names a closed
port, so every test here runs the "social unreachable" degraded path: relations
unknown (public posts only), reaction counts unavailable, notifications dropped.
tests/social runs content against a real social service. Accounts, the `rejected()`
helper and the autouse check that no call answers UNKNOWN or INTERNAL come from the
users harness (tests/users/conftest.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.users.v1 import users_pb2, users_pb2_grpc
from services.content import SPEC
from services.content.api import build
from services.content.settings import ContentSettings
from shared.auth import TokenService
from shared.server import RunningServer
from tests import harness
from tests.users.conftest import (
    SECRET,
    Account,
    Metadata,
    accounts,
    admin,
    alice,
    bearer,
    bob,
    carol,
    libpq_url,
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

# The users harness's fixtures and report hook, registered here too by being imported.
__all__ = [
    "SECRET",
    "accounts",
    "admin",
    "alice",
    "bob",
    "carol",
    "moderator",
    "no_call_answers_unknown_or_internal",
    "pytest_runtest_makereport",
    "rejected",
    "tokens",
    "users_db_url",
    "users_server",
    "users_stub",
]

DB_PASSWORD = "content-test-password"
ALONE_PREFIX = f"{harness.EVENTS_PREFIX}-content-alone"
# Nothing listens here: the social service is unreachable in every test of this package.
SOCIAL_ADDRESS = "127.0.0.1:1"


def content_settings(database_url: str, redis_url: str, users_address: str) -> ContentSettings:
    return ContentSettings(
        # Streams of their own: a content without social must not take, in the consumer
        # groups they would share, the events meant for tests/social's content.
        **{
            **harness.service_settings(database_url, redis_url),
            "events_stream_prefix": ALONE_PREFIX,
        },
        users_address=users_address,
        social_address=SOCIAL_ADDRESS,
        # Every read asks social afresh, so a test sees a reaction or block at once
        # (remembering is tested on its own, in tests/social/test_content_with_social.py).
        social_answers_seconds=0,
    )


@asynccontextmanager
async def content_service(
    database_url: str, redis_url: str, users_address: str, **overrides: Any
) -> AsyncIterator[RunningServer]:
    """An in-process content service, SERVING, with these settings (and `overrides`)."""
    settings = content_settings(database_url, redis_url, users_address)
    running = await harness.start_serving(SPEC, settings.model_copy(update=overrides), build)
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture(scope="session")
async def content_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_content_{worker_id}", DB_PASSWORD
    )


@pytest.fixture(scope="session")
async def content_server(
    content_db_url: str, redis_url: str, users_server: RunningServer
) -> AsyncIterator[RunningServer]:
    users_address = f"127.0.0.1:{users_server.port}"
    async with content_service(content_db_url, redis_url, users_address) as running:
        yield running


@pytest.fixture(scope="session")
async def stub(
    content_server: RunningServer,
) -> AsyncIterator[content_pb2_grpc.ContentServiceStub]:
    channel = open_channel(content_server.port)
    yield content_pb2_grpc.ContentServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
def service_auth(tokens: TokenService) -> Metadata:
    """Metadata of another Daira service (moderation, the video pipeline) calling in."""
    return bearer(tokens.issue_service("moderation", ttl_seconds=3600))


@pytest.fixture(scope="session")
def content_db(content_db_url: str) -> Database:
    return Database(content_db_url)


class Database:
    """Direct SQL on a service's database, for checks a client cannot make."""

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)

    async def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cursor = await conn.execute(statement, params)
            return await cursor.fetchall() if cursor.description else []


# --- calls tests share -------------------------------------------------------------------


def new_request_id() -> str:
    return str(uuid.uuid4())


async def create_post(
    stub: content_pb2_grpc.ContentServiceStub,
    account: Account,
    text: str = "",
    visibility: int = content_pb2.VISIBILITY_PUBLIC,
    request_id: str = "",
) -> content_pb2.Post:
    request = content_pb2.CreatePostRequest(
        text=text or f"post {uuid.uuid4().hex}",
        visibility=visibility,
        request_id=request_id or new_request_id(),
    )
    return (await stub.CreatePost(request, metadata=account.auth)).post


async def get_post(
    stub: content_pb2_grpc.ContentServiceStub, account: Account, post_id: str
) -> content_pb2.Post:
    request = content_pb2.GetPostRequest(id=post_id)
    return (await stub.GetPost(request, metadata=account.auth)).post


async def create_comment(
    stub: content_pb2_grpc.ContentServiceStub,
    account: Account,
    post_id: str,
    text: str = "",
    parent_id: str = "",
    request_id: str = "",
) -> content_pb2.Comment:
    request = content_pb2.CreateCommentRequest(
        post_id=post_id,
        text=text or f"comment {uuid.uuid4().hex[:8]}",
        parent_id=parent_id,
        request_id=request_id or new_request_id(),
    )
    return (await stub.CreateComment(request, metadata=account.auth)).comment


async def create_video(
    stub: content_pb2_grpc.ContentServiceStub, account: Account, title: str = ""
) -> content_pb2.Video:
    request = content_pb2.CreateVideoRequest(
        title=title or f"video {uuid.uuid4().hex[:8]}",
        description="a test video",
        request_id=new_request_id(),
    )
    return (await stub.CreateVideo(request, metadata=account.auth)).video


async def storage_used(users_stub: users_pb2_grpc.UserServiceStub, account: Account) -> int:
    request = users_pb2.GetStorageUsageRequest(user_id=account.id)
    return (await users_stub.GetStorageUsage(request, metadata=account.auth)).usage.used_bytes


async def every_page(call: Any, request: Any, metadata: Metadata, field: str) -> list[list[Any]]:
    """Follow next_page_token from `request` to the end; the pages, as lists."""
    pages: list[list[Any]] = []
    while True:
        reply = await call(request, metadata=metadata)
        pages.append(list(getattr(reply, field)))
        if not reply.next_page_token:
            return pages
        assert len(pages) < 1000, "pagination does not end"
        request.page_token = reply.next_page_token


async def trending_ids(
    stub: content_pb2_grpc.ContentServiceStub,
    account: Account,
    window: int = content_pb2.TRENDING_WINDOW_UNSPECIFIED,
) -> list[str]:
    """Every post of the trending list, best first, following every page."""
    request = content_pb2.ListTrendingRequest(window=window, page_size=100)
    pages = await every_page(stub.ListTrending, request, account.auth, "posts")
    return [post.id for page in pages for post in page]


async def user_post_ids(
    stub: content_pb2_grpc.ContentServiceStub, account: Account, author_id: str
) -> list[str]:
    request = content_pb2.ListUserPostsRequest(user_id=author_id, page_size=100)
    pages = await every_page(stub.ListUserPosts, request, account.auth, "posts")
    return [post.id for page in pages for post in page]


async def hashtag_post_ids(
    stub: content_pb2_grpc.ContentServiceStub, account: Account, tag: str
) -> list[str]:
    request = content_pb2.SearchByHashtagRequest(tag=tag, page_size=100)
    pages = await every_page(stub.SearchByHashtag, request, account.auth, "posts")
    return [post.id for page in pages for post in page]


def unique_tag() -> str:
    return "t" + uuid.uuid4().hex[:12]
