"""Harness of the social service's integration tests.

Per pytest worker: a real users service, a real content service (the authors of the
posts, comments and videos reacted to) and the social service, all in-process on random
ports, each against its own freshly migrated database and the session's Redis, signing
tokens with one secret. Content and social call each other as deployed: social's port is
reserved before content starts, so each is told the other's address. Accounts,
`rejected()` and the autouse check that no call answers UNKNOWN or INTERNAL come from
the users harness; posts, comments and videos from the content harness's helpers.

Most tests use real accounts (Follow, Block and Mute ask users whether the other user
exists); tests that need hundreds of callers use `minted` users, whose tokens are
signed here: social trusts a valid token for who the caller is.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.social.v1 import social_pb2 as pb
from daira.social.v1 import social_pb2_grpc
from daira.users.v1 import users_pb2, users_pb2_grpc
from services.content import SPEC as CONTENT
from services.social import SPEC
from services.social.api import build
from services.social.settings import SocialSettings
from shared import metrics
from shared.auth import Role, TokenService
from shared.ports import reserved_port
from shared.server import RunningServer
from tests import harness
from tests.content.conftest import (
    Database,
    content_service,
    create_comment,
    create_post,
    create_video,
    every_page,
    get_post,
    user_post_ids,
)
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

# The users harness's fixtures and report hook, registered here too by being imported;
# the content harness's helpers, for the tests to import from here.
__all__ = [
    "SECRET",
    "accounts",
    "admin",
    "alice",
    "bob",
    "carol",
    "create_comment",
    "create_post",
    "create_video",
    "every_page",
    "get_post",
    "moderator",
    "no_call_answers_unknown_or_internal",
    "pytest_runtest_makereport",
    "rejected",
    "tokens",
    "user_post_ids",
    "users_db_url",
    "users_server",
    "users_stub",
]

DB_PASSWORD = "social-test-password"
# Authors with more followers than this are home-feed celebrities (merged at read time).
CELEBRITY_FOLLOWERS = 3
# Nothing listens here.
CLOSED_ADDRESS = "127.0.0.1:1"


def social_settings(
    database_url: str, redis_url: str, users_address: str, content_address: str
) -> SocialSettings:
    return SocialSettings(
        **harness.service_settings(database_url, redis_url),
        users_address=users_address,
        content_address=content_address,
    )


@asynccontextmanager
async def social_service(
    database_url: str, redis_url: str, users_address: str, content_address: str, **overrides: Any
) -> AsyncIterator[RunningServer]:
    """An in-process social service, SERVING, calling users and content at these addresses
    (with these `overrides` of its settings)."""
    settings = social_settings(database_url, redis_url, users_address, content_address)
    running = await harness.start_serving(SPEC, settings.model_copy(update=overrides), build)
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture(scope="session")
async def social_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_social_{worker_id}", DB_PASSWORD
    )


@pytest.fixture(scope="session")
async def content_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, CONTENT, f"daira_content_for_social_{worker_id}", DB_PASSWORD
    )


@asynccontextmanager
async def content_and_social(
    content_db_url: str,
    social_db_url: str,
    redis_url: str,
    users_address: str,
    **content_overrides: Any,
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """Content and social in-process, SERVING, each calling the other (and users); content
    with these `content_overrides` of its settings."""
    with reserved_port() as port:
        async with (
            content_service(
                content_db_url,
                redis_url,
                users_address,
                social_address=f"127.0.0.1:{port}",
                events_stream_prefix=harness.EVENTS_PREFIX,
                **content_overrides,
            ) as content,
            social_service(
                social_db_url, redis_url, users_address, f"127.0.0.1:{content.port}", port=port
            ) as social,
        ):
            yield content, social


@pytest.fixture(scope="session")
async def servers(
    content_db_url: str, social_db_url: str, redis_url: str, users_server: RunningServer
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    users_address = f"127.0.0.1:{users_server.port}"
    async with content_and_social(
        content_db_url,
        social_db_url,
        redis_url,
        users_address,
        feed_celebrity_followers=CELEBRITY_FOLLOWERS,
    ) as both:
        yield both


@pytest.fixture(scope="session")
def content_server(servers: tuple[RunningServer, RunningServer]) -> RunningServer:
    """Content, for the posts, comments and videos reacted to; it asks social back."""
    return servers[0]


@pytest.fixture(scope="session")
def social_server(servers: tuple[RunningServer, RunningServer]) -> RunningServer:
    return servers[1]


@pytest.fixture(scope="session")
async def stub(social_server: RunningServer) -> AsyncIterator[social_pb2_grpc.SocialServiceStub]:
    channel = open_channel(social_server.port)
    yield social_pb2_grpc.SocialServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
async def content_stub(
    content_server: RunningServer,
) -> AsyncIterator[content_pb2_grpc.ContentServiceStub]:
    channel = open_channel(content_server.port)
    yield content_pb2_grpc.ContentServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
def social_db(social_db_url: str) -> Database:
    return Database(social_db_url)


@pytest.fixture(scope="session")
def service_auth(tokens: TokenService) -> Metadata:
    """Metadata of another Daira service (content) calling in."""
    return bearer(tokens.issue_service("content", ttl_seconds=3600))


@dataclass(frozen=True)
class Minted:
    """A caller with a valid user token but no account in users."""

    id: str
    auth: Metadata


@pytest.fixture(scope="session")
def mint(tokens: TokenService) -> Any:
    """`mint()`: a new minted user."""

    def new() -> Minted:
        user_id = uuid.uuid4()
        token, _ = tokens.issue_access(user_id, Role.USER, uuid.uuid4())
        return Minted(str(user_id), bearer(token))

    return new


# --- calls tests share -------------------------------------------------------------------

Caller = Account | Minted


async def follow(stub: Any, who: Caller, whom: Caller) -> int:
    """The follow's state (FOLLOW_STATE_ACTIVE or _PENDING)."""
    reply = await stub.Follow(pb.FollowRequest(user_id=whom.id), metadata=who.auth)
    return reply.state


async def hide_post(content_stub: Any, service_auth: Metadata, post_id: str) -> None:
    """Hide the post as moderation would, through content's internal call."""
    hide = content_pb2.SetContentVisibilityRequest(
        target_kind=content_pb2.TARGET_KIND_POST,
        target_id=post_id,
        state=content_pb2.MODERATION_STATE_HIDDEN,
        reason="spam",
    )
    await content_stub.SetContentVisibility(hide, metadata=service_auth)


async def lock(users_stub: users_pb2_grpc.UserServiceStub, account: Account) -> None:
    """Make the account locked, through the users service as its owner would."""
    request = users_pb2.UpdateProfileRequest(
        profile=users_pb2.Profile(user_id=account.id, locked=True)
    )
    request.update_mask.paths.append("locked")
    await users_stub.UpdateProfile(request, metadata=account.auth)


async def stats(stub: Any, caller: Caller, user: Caller) -> tuple[int, int, int]:
    """(followers, following, friends) of `user`."""
    reply = await stub.GetUserStats(
        pb.GetUserStatsRequest(user_ids=[user.id]), metadata=caller.auth
    )
    [found] = reply.stats
    return found.followers_count, found.following_count, found.friends_count


async def relationship(stub: Any, viewer: Caller, other: Caller) -> pb.Relationship:
    request = pb.GetRelationshipsRequest(user_ids=[other.id])
    [found] = (await stub.GetRelationships(request, metadata=viewer.auth)).relationships
    return found


async def listed(call: Any, request: Any, caller: Caller, field: str) -> list[str]:
    """The user ids of every page of a list call, in order."""
    pages = await every_page(call, request, caller.auth, field)
    return [item.user_id for page in pages for item in page]


async def notifications(
    stub: Any, account: Caller, unread_only: bool = False
) -> list[pb.Notification]:
    request = pb.ListNotificationsRequest(page_size=100, unread_only=unread_only)
    pages = await every_page(stub.ListNotifications, request, account.auth, "notifications")
    return [n for page in pages for n in page]


async def notifications_once(
    stub: Any, account: Caller, count: int, wait_seconds: float = 10.0
) -> list[pb.Notification]:
    """The account's notifications once there are at least `count` (those of content's
    comments and mentions arrive as events, shortly after the write)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = await notifications(stub, account)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def notified(stub: Any, account: Caller) -> list[tuple[int, str]]:
    """(kind, actor id) of the account's notifications, newest first."""
    return [(n.kind, n.actor_id) for n in await notifications(stub, account)]


def post_target(post_id: str) -> pb.Target:
    return pb.Target(kind=pb.TARGET_KIND_POST, id=post_id)


def calls_to_social(method: str) -> float:
    """How many calls of `method` content made to social that succeeded, in this process."""
    return metrics.DOWNSTREAM_CALLS.labels("social", method, "OK")._value.get()


async def react(
    stub: Any, who: Caller, target: pb.Target, kind: int = pb.REACTION_KIND_LIKE
) -> pb.Reaction:
    reply = await stub.React(pb.ReactRequest(target=target, kind=kind), metadata=who.auth)
    return reply.reaction


def counted(counts: content_pb2.ReactionCounts) -> dict[str, int]:
    """The kinds reacted with, and how often."""
    return {kind: n for kind, n in counts.counts.items() if n}


async def reaction_counts(stub: Any, caller: Caller, target: pb.Target) -> dict[str, int]:
    request = pb.GetReactionCountsRequest(targets=[target])
    [found] = (await stub.GetReactionCounts(request, metadata=caller.auth)).counts
    return {kind: count for kind, count in found.counts.items() if count}
