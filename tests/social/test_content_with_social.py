"""Content with social answering: who sees which posts, reaction counts on posts, and the
notifications of comments, replies and mentions; with social stopped, writes still succeed.
(tests/content runs the same reads with social unreachable; how content remembers the
answers is in test_remembered_answers.py.)"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
import pytest

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.social.v1 import social_pb2 as pb
from tests import harness

from .conftest import (
    calls_to_social,
    content_service,
    counted,
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
