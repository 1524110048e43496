"""A deleted account's users.user.deleted soft-deletes its posts (caches dropped, their
media's bytes given back, content.post.removed recorded), its comments with the threads
below them (the counts on others' posts exact) and its videos; once per event, whatever
else the family carries.

These tests run a content service of their own on another event prefix: the social
suite's content service consumes this process's streams in the same group."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from daira.content.v1 import content_pb2 as pb
from daira.content.v1 import content_pb2_grpc
from services.content import cascade
from shared.server import RunningServer
from shared.streams import USERS_ACCOUNTS
from tests import harness
from tests.users.conftest import status_changed, user_deleted

from .conftest import (
    content_service,
    create_comment,
    create_post,
    create_video,
    get_post,
    hashtag_post_ids,
    open_channel,
    storage_used,
    unique_tag,
    user_post_ids,
)
from .test_create_post_media import create_with_media, media_item

PREFIX = f"{harness.EVENTS_PREFIX}-content-cascade"


@pytest.fixture(scope="module")
async def stub(
    content_db_url: str, redis_url: str, users_server: RunningServer
) -> AsyncIterator[content_pb2_grpc.ContentServiceStub]:
    users = f"127.0.0.1:{users_server.port}"
    async with content_service(
        content_db_url, redis_url, users, events_stream_prefix=PREFIX
    ) as running:
        channel = open_channel(running.port)
        yield content_pb2_grpc.ContentServiceStub(channel)
        await channel.close()


async def delete(redis_url, event) -> None:
    await harness.publish(redis_url, USERS_ACCOUNTS, event, prefix=PREFIX)


async def missing(call) -> bool:
    """Whether the call answers NOT_FOUND."""
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.NOT_FOUND
    return False


async def comments(stub, caller, post_id: str, parent_id: str = "") -> list[str]:
    request = pb.ListCommentsRequest(post_id=post_id, parent_id=parent_id, page_size=100)
    return [c.id for c in (await stub.ListComments(request, metadata=caller.auth)).comments]


async def test_a_deleted_users_posts_comments_and_videos_leave_every_read(
    stub, users_stub, content_db, redis_url, alice, bob, moderator
):
    tag = unique_tag()
    tagged = await create_post(stub, alice, f"hello #{tag}")
    with_media = await create_with_media(stub, alice, [media_item(1_000)])
    await create_comment(stub, alice, tagged.id)
    theirs = await create_post(stub, bob)
    first = await create_comment(stub, alice, theirs.id)
    await create_comment(stub, bob, theirs.id, parent_id=first.id)
    kept = await create_comment(stub, bob, theirs.id)
    await create_comment(stub, alice, theirs.id, parent_id=kept.id)
    video = await create_video(stub, alice)
    mentioning = await create_post(stub, bob, f"hi @{alice.username} and @{bob.username}")
    assert [m.user_id for m in mentioning.mentions] == [alice.id, bob.id]
    await get_post(stub, bob, tagged.id)  # cached now
    assert (await get_post(stub, bob, theirs.id)).comments_count == 4

    await delete(redis_url, user_deleted(alice.id))

    assert await harness.settled(lambda: user_post_ids(stub, moderator, alice.id), []) == []
    counted = await harness.settled(
        lambda: _comments_count(stub, bob, theirs.id), 1, wait_seconds=10
    )
    assert counted == 1
    for caller in (bob, moderator):
        assert await missing(stub.GetPost(pb.GetPostRequest(id=tagged.id), metadata=caller.auth))
        assert await missing(
            stub.GetComment(pb.GetCommentRequest(id=first.id), metadata=caller.auth)
        )
        assert await missing(stub.GetVideo(pb.GetVideoRequest(id=video.id), metadata=caller.auth))
        listed = await stub.ListUserVideos(
            pb.ListUserVideosRequest(user_id=alice.id), metadata=caller.auth
        )
        assert list(listed.videos) == []
        assert await comments(stub, caller, theirs.id) == [kept.id]
        assert await comments(stub, caller, theirs.id, kept.id) == []
    reply = await stub.GetComment(pb.GetCommentRequest(id=kept.id), metadata=bob.auth)
    assert reply.comment.replies_count == 0
    assert await hashtag_post_ids(stub, bob, tag) == []
    shown = await harness.settled(lambda: mentioned(stub, bob, mentioning.id), [bob.id])
    assert shown == [bob.id]
    assert await harness.settled(lambda: storage_used(users_stub, alice), 0) == 0
    removed = await content_db.sql(
        "SELECT aggregate_id FROM outbox WHERE event_type = 'content.post.removed'"
        " AND aggregate_id = ANY(%s)",
        [tagged.id, with_media.id],
    )
    assert sorted(r[0] for r in removed) == sorted([tagged.id, with_media.id])


async def mentioned(stub, caller, post_id: str) -> list[str]:
    return [m.user_id for m in (await get_post(stub, caller, post_id)).mentions]


async def _comments_count(stub, caller, post_id: str) -> int:
    return (await get_post(stub, caller, post_id)).comments_count


async def test_more_posts_and_comments_than_a_batch_all_go(
    stub, redis_url, monkeypatch, accounts, bob
):
    monkeypatch.setattr(cascade, "BATCH", 2)
    gone = await accounts.create()
    for _ in range(5):
        await create_post(stub, gone)
    theirs = await create_post(stub, bob)
    for _ in range(5):
        await create_comment(stub, gone, theirs.id)

    await delete(redis_url, user_deleted(gone.id))

    assert await harness.settled(lambda: _comments_count(stub, bob, theirs.id), 0) == 0
    assert await user_post_ids(stub, bob, gone.id) == []


async def test_a_duplicate_delivery_uncounts_once(stub, redis_url, accounts, bob):
    gone, marker = await accounts.create(), await accounts.create()
    theirs = await create_post(stub, bob)
    await create_comment(stub, gone, theirs.id)
    await create_comment(stub, bob, theirs.id)
    marked = await create_post(stub, marker)
    event = user_deleted(gone.id)

    await delete(redis_url, event)
    await delete(redis_url, event)
    # Handled after both copies: the group reads its stream in order.
    await delete(redis_url, user_deleted(marker.id))

    assert await harness.settled(lambda: user_post_ids(stub, bob, marker.id), []) == []
    assert (await get_post(stub, bob, theirs.id)).comments_count == 1
    assert marked.id not in await user_post_ids(stub, bob, marker.id)


async def test_other_events_of_the_family_change_nothing(stub, redis_url, accounts, bob):
    kept, marker = await accounts.create(), await accounts.create()
    post = await create_post(stub, kept)
    await create_post(stub, marker)

    await delete(redis_url, status_changed(kept.id))
    await delete(redis_url, user_deleted(marker.id))

    assert await harness.settled(lambda: user_post_ids(stub, bob, marker.id), []) == []
    assert await user_post_ids(stub, bob, kept.id) == [post.id]


async def test_a_deletion_naming_no_user_ends_in_the_dead_letters(stub, redis_url):
    event = user_deleted("not-a-uuid")

    await delete(redis_url, event)

    letter = await harness.dead_letter(
        redis_url, USERS_ACCOUNTS, event.id, prefix=PREFIX, group=cascade.GROUP
    )
    assert letter is not None
