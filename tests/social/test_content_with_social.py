"""Content with social answering: who sees which posts, reaction counts on posts, and the
notifications of comments, replies and mentions; with social stopped, writes still succeed.
(tests/content runs the same reads with social unreachable.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
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
    content_service,
    create_comment,
    create_post,
    follow,
    get_post,
    notifications_once,
    open_channel,
    post_target,
    react,
    reserved_port,
    social_service,
    user_post_ids,
)

FOLLOWERS = content_pb2.VISIBILITY_FOLLOWERS
COMMENT, REPLY, MENTION = (
    pb.NOTIFICATION_KIND_COMMENT,
    pb.NOTIFICATION_KIND_REPLY,
    pb.NOTIFICATION_KIND_MENTION,
)
# A write must not wait out a downstream timeout to learn that social is down.
FAST_WRITE_SECONDS = 1.0
# How long the `remembering` content reuses social's answers as they are, and keeps them.
REMEMBER_SECONDS = 1
KEPT_SECONDS = 3


def counted(counts: content_pb2.ReactionCounts) -> dict[str, int]:
    """The kinds reacted with, and how often."""
    return {kind: n for kind, n in counts.counts.items() if n}


# --- who sees which posts ----------------------------------------------------------------


async def test_a_followers_post_is_shown_to_a_follower(stub, content_stub, alice, bob):
    await follow(stub, bob, alice)
    post = await create_post(content_stub, alice, visibility=FOLLOWERS)

    assert (await get_post(content_stub, bob, post.id)).id == post.id
    assert await user_post_ids(content_stub, bob, alice.id) == [post.id]


async def test_a_followers_post_is_hidden_from_a_stranger(content_stub, rejected, alice, bob):
    post = await create_post(content_stub, alice, visibility=FOLLOWERS)

    failure = await rejected(get_post(content_stub, bob, post.id))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert await user_post_ids(content_stub, bob, alice.id) == []


async def test_nothing_is_shown_to_a_viewer_the_author_blocks(
    stub, content_stub, rejected, alice, bob
):
    post = await create_post(content_stub, alice)
    await stub.Block(pb.BlockRequest(user_id=bob.id), metadata=alice.auth)

    failure = await rejected(get_post(content_stub, bob, post.id))
    batch = await content_stub.BatchGetPosts(
        content_pb2.BatchGetPostsRequest(ids=[post.id]), metadata=bob.auth
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert (list(batch.posts), list(batch.missing_ids)) == ([], [post.id])
    assert await user_post_ids(content_stub, bob, alice.id) == []


# --- reaction counts ---------------------------------------------------------------------


async def test_reaction_counts_appear_on_get_post(stub, content_stub, alice, bob):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), pb.REACTION_KIND_LOVE)

    seen = await get_post(content_stub, bob, post.id)

    assert seen.reactions.available is True
    assert counted(seen.reactions) == {"LOVE": 1}


async def test_reaction_counts_appear_on_batch_get_posts(stub, content_stub, alice, bob):
    liked, untouched = (
        await create_post(content_stub, alice),
        await create_post(content_stub, alice),
    )
    await react(stub, bob, post_target(liked.id), pb.REACTION_KIND_LIKE)

    reply = await content_stub.BatchGetPosts(
        content_pb2.BatchGetPostsRequest(ids=[liked.id, untouched.id]), metadata=bob.auth
    )

    assert [(p.id, p.reactions.available, counted(p.reactions)) for p in reply.posts] == [
        (liked.id, True, {"LIKE": 1}),
        (untouched.id, True, {}),
    ]


async def test_a_page_of_posts_asks_social_once_for_counts_and_once_for_relations(
    content_stub, alice, bob
):
    posts = [await create_post(content_stub, alice) for _ in range(3)]
    counts, relations = calls_to_social("GetReactionCounts"), calls_to_social("GetRelationships")

    listed = await user_post_ids(content_stub, bob, alice.id)

    assert listed == [p.id for p in reversed(posts)]
    assert calls_to_social("GetReactionCounts") - counts == 1
    assert calls_to_social("GetRelationships") - relations == 1


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


# --- notifications -----------------------------------------------------------------------
# Content's comments and posts reach social as events; where a test expects no
# notification, a later write that does notify shows the earlier event was handled.


def kinds(found: list[pb.Notification]) -> list[tuple[int, str]]:
    return [(n.kind, n.actor_id) for n in found]


async def test_a_comment_notifies_the_posts_author(stub, content_stub, alice, bob):
    post = await create_post(content_stub, alice)

    comment = await create_comment(content_stub, bob, post.id)

    [notification] = await notifications_once(stub, alice, 1)
    assert (notification.kind, notification.actor_id) == (COMMENT, bob.id)
    assert notification.target == pb.Target(kind=pb.TARGET_KIND_COMMENT, id=comment.id)
    assert notification.post_id == post.id


async def test_a_reply_notifies_the_parent_comments_author(stub, content_stub, alice, bob, carol):
    post = await create_post(content_stub, alice)
    parent = await create_comment(content_stub, bob, post.id)

    await create_comment(content_stub, carol, post.id, parent_id=parent.id)

    assert kinds(await notifications_once(stub, bob, 1)) == [(REPLY, carol.id)]


async def test_a_reply_to_the_posts_author_notifies_them_once_as_a_reply(
    stub, content_stub, alice, bob, carol
):
    post = await create_post(content_stub, alice)
    parent = await create_comment(content_stub, alice, post.id)

    await create_comment(content_stub, bob, post.id, parent_id=parent.id)
    await create_comment(content_stub, carol, post.id)

    assert kinds(await notifications_once(stub, alice, 2)) == [(COMMENT, carol.id), (REPLY, bob.id)]


async def test_a_comment_on_ones_own_post_notifies_nobody(stub, content_stub, alice, bob):
    post = await create_post(content_stub, alice)

    await create_comment(content_stub, alice, post.id)
    await create_comment(content_stub, bob, post.id)

    assert kinds(await notifications_once(stub, alice, 1)) == [(COMMENT, bob.id)]


async def test_a_mention_notifies_the_mentioned_user(stub, content_stub, alice, bob):
    post = await create_post(content_stub, alice, f"hello @{bob.username}")

    [notification] = await notifications_once(stub, bob, 1)
    assert (notification.kind, notification.actor_id) == (MENTION, alice.id)
    assert notification.target == post_target(post.id)


async def test_a_mention_in_a_followers_post_notifies_nobody(stub, content_stub, alice, bob):
    await create_post(content_stub, alice, f"hello @{bob.username}", visibility=FOLLOWERS)
    public = await create_post(content_stub, alice, f"and hello @{bob.username}")

    [notification] = await notifications_once(stub, bob, 1)
    assert notification.target == post_target(public.id)


# --- social stopped ----------------------------------------------------------------------


@pytest.fixture
async def social_stopped(
    content_db_url, social_db_url, redis_url, users_server, alice
) -> AsyncIterator[content_pb2_grpc.ContentServiceStub]:
    """A content service whose social answered once, then stopped."""
    users_address = f"127.0.0.1:{users_server.port}"
    with reserved_port() as port:
        async with content_service(
            content_db_url,
            redis_url,
            users_address,
            social_address=f"127.0.0.1:{port}",
            events_stream_prefix=harness.EVENTS_PREFIX,
        ) as content:
            channel = open_channel(content.port)
            stub = content_pb2_grpc.ContentServiceStub(channel)
            content_address = f"127.0.0.1:{content.port}"
            async with social_service(
                social_db_url, redis_url, users_address, content_address, port=port
            ):
                assert (await create_post(stub, alice)).reactions.available
            yield stub
            await channel.close()


async def test_with_social_stopped_a_comment_still_succeeds(social_stopped, alice, bob):
    post = await create_post(social_stopped, alice)

    started = time.monotonic()
    comment = await create_comment(social_stopped, bob, post.id)

    assert time.monotonic() - started < FAST_WRITE_SECONDS
    assert (await get_post(social_stopped, alice, post.id)).comments_count == 1
    assert comment.post_id == post.id


async def test_with_social_stopped_a_post_with_a_mention_still_succeeds(social_stopped, alice, bob):
    started = time.monotonic()
    post = await create_post(social_stopped, alice, f"hello @{bob.username}")

    assert time.monotonic() - started < FAST_WRITE_SECONDS
    assert [m.user_id for m in post.mentions] == [bob.id]
    assert post.reactions.available is False
