"""Social's and users' answers as content remembers them: reused without asking again,
kept until an event forgets them where one does (a username's id, a post's reaction
counts), and asked again where none does (an unknown name)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.social.v1 import social_pb2 as pb
from daira.social.v1 import social_pb2_grpc
from daira.users.v1 import users_pb2
from shared import metrics
from tests import harness

from .conftest import (
    calls_to_social,
    content_and_social,
    counted,
    create_post,
    get_post,
    open_channel,
    post_target,
    react,
)

# How long the `remembering` content reuses social's answers as they are, and keeps them.
REMEMBER_SECONDS = 1
KEPT_SECONDS = 3


@asynccontextmanager
async def remembering_for(
    fresh_seconds: int, kept_seconds: int, content_db_url, social_db_url, redis_url, users_server
) -> AsyncIterator[tuple[content_pb2_grpc.ContentServiceStub, Any]]:
    """Content reusing social's answers for `fresh_seconds` and keeping them for
    `kept_seconds`, and its social."""
    async with content_and_social(
        content_db_url,
        social_db_url,
        redis_url,
        f"127.0.0.1:{users_server.port}",
        social_answers_seconds=fresh_seconds,
        social_answers_kept_seconds=kept_seconds,
    ) as (content, social):
        content_channel, social_channel = open_channel(content.port), open_channel(social.port)
        yield (
            content_pb2_grpc.ContentServiceStub(content_channel),
            social_pb2_grpc.SocialServiceStub(social_channel),
        )
        await content_channel.close()
        await social_channel.close()


@pytest.fixture
async def remembering(content_db_url, social_db_url, redis_url, users_server):
    """Content reusing social's answers for a second and keeping them for three."""
    backends = (content_db_url, social_db_url, redis_url, users_server)
    async with remembering_for(REMEMBER_SECONDS, KEPT_SECONDS, *backends) as both:
        yield both


@pytest.fixture
async def remembering_long(content_db_url, social_db_url, redis_url, users_server):
    """Content reusing social's answers for an hour: only an event changes what it shows."""
    backends = (content_db_url, social_db_url, redis_url, users_server)
    async with remembering_for(3600, 3600, *backends) as both:
        yield both


async def test_remembered_answers_spare_social_the_next_read(remembering, alice, bob):
    content, _ = remembering
    post = await create_post(content, alice)
    await get_post(content, bob, post.id)
    counts, relations = calls_to_social("GetReactionCounts"), calls_to_social("GetRelationships")

    await get_post(content, bob, post.id)

    assert calls_to_social("GetReactionCounts") == counts
    assert calls_to_social("GetRelationships") == relations


async def test_remembered_authors_spare_users_the_next_feed_read(remembering, alice):
    content, _ = remembering
    post = await create_post(content, alice)
    request = content_pb2.GetHomeFeedRequest(page_size=20)
    first = await content.GetHomeFeed(request, metadata=alice.auth)
    assert [p.id for p in first.posts] == [post.id]
    asked = metrics.DOWNSTREAM_CALLS.labels("users", "BatchGetUsers", "OK")._value.get()

    again = await content.GetHomeFeed(request, metadata=alice.auth)

    assert [a.username for a in again.authors] == [alice.username]
    assert metrics.DOWNSTREAM_CALLS.labels("users", "BatchGetUsers", "OK")._value.get() == asked


async def test_a_remembered_mention_spares_users_the_next_post(remembering, alice, bob):
    content, _ = remembering
    await create_post(content, alice, f"hello @{bob.username}")
    asked = metrics.DOWNSTREAM_CALLS.labels("users", "LookupUsers", "OK")._value.get()

    again = await create_post(content, alice, f"again @{bob.username}")

    assert [(m.user_id, m.username) for m in again.mentions] == [(bob.id, bob.username)]
    assert metrics.DOWNSTREAM_CALLS.labels("users", "LookupUsers", "OK")._value.get() == asked


async def test_a_deleted_accounts_username_is_no_longer_resolved_to_it(
    remembering, users_stub, alice, bob
):
    content, _ = remembering
    mentioned = await create_post(content, alice, f"hello @{bob.username}")
    assert [m.user_id for m in mentioned.mentions] == [bob.id]

    await users_stub.DeleteUser(users_pb2.DeleteUserRequest(id=bob.id), metadata=bob.auth)

    deadline = time.monotonic() + 10
    while (await create_post(content, alice, f"again @{bob.username}")).mentions:
        assert time.monotonic() < deadline, "the deleted account's name still resolves to it"
        await asyncio.sleep(0.05)


async def test_an_unknown_name_is_asked_about_again(remembering, alice, bob):
    content, _ = remembering
    unknown = f"nobody_{bob.username[2:]}"
    await create_post(content, alice, f"hello @{unknown}")
    asked = metrics.DOWNSTREAM_CALLS.labels("users", "LookupUsers", "OK")._value.get()

    again = await create_post(content, alice, f"again @{unknown}")

    assert list(again.mentions) == []
    assert metrics.DOWNSTREAM_CALLS.labels("users", "LookupUsers", "OK")._value.get() == asked + 1


async def test_a_new_posts_counts_are_socials_answer_without_asking_it(remembering, alice):
    content, social = remembering
    asked = calls_to_social("GetReactionCounts")

    created = await create_post(content, alice)

    assert calls_to_social("GetReactionCounts") == asked
    request = pb.GetReactionCountsRequest(targets=[post_target(created.id)])
    (social_says,) = (await social.GetReactionCounts(request, metadata=alice.auth)).counts
    assert created.reactions.available is True
    assert dict(created.reactions.counts) == dict(social_says.counts)


async def counts_seen(content: Any, caller: Any, post_id: str) -> dict[str, int]:
    return counted((await get_post(content, caller, post_id)).reactions)


async def liked_once_counted(content: Any, social: Any, author: Any, reader: Any) -> str:
    """A post of `author` whose counts (none) content has remembered, then liked by
    `reader`: its id."""
    post = await create_post(content, author)
    assert await counts_seen(content, reader, post.id) == {}
    await react(social, reader, post_target(post.id), pb.REACTION_KIND_LIKE)
    return post.id


async def test_a_remembered_count_is_not_asked_for_again_once_aged(remembering, alice, bob):
    content, _ = remembering
    post = await create_post(content, alice)
    await counts_seen(content, bob, post.id)
    asked = calls_to_social("GetReactionCounts")
    await asyncio.sleep(KEPT_SECONDS + 0.2)

    await counts_seen(content, bob, post.id)

    assert calls_to_social("GetReactionCounts") == asked


async def test_a_reaction_shows_in_remembered_counts_once_social_tells_of_it(
    remembering_long, alice, bob
):
    content, social = remembering_long
    post_id = await liked_once_counted(content, social, alice, bob)

    shown = await harness.settled(lambda: counts_seen(content, bob, post_id), {"LIKE": 1})

    assert shown == {"LIKE": 1}


async def test_a_withdrawn_reaction_leaves_remembered_counts_once_social_tells_of_it(
    remembering_long, alice, bob
):
    content, social = remembering_long
    post_id = await liked_once_counted(content, social, alice, bob)
    liked = await harness.settled(lambda: counts_seen(content, bob, post_id), {"LIKE": 1})
    assert liked == {"LIKE": 1}

    await social.Unreact(pb.UnreactRequest(target=post_target(post_id)), metadata=bob.auth)

    assert await harness.settled(lambda: counts_seen(content, bob, post_id), {}) == {}
