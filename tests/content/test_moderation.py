"""SetContentVisibility: moderation hides, removes and restores posts, comments and videos.

Hidden or removed content disappears from every read except a moderator's; VISIBLE
brings it back. Only service tokens (the moderation service) may set it.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import (
    create_comment,
    create_post,
    create_video,
    get_post,
    hashtag_post_ids,
    trending_ids,
    unique_tag,
    user_post_ids,
)

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
VISIBLE = content_pb2.MODERATION_STATE_VISIBLE
HIDDEN = content_pb2.MODERATION_STATE_HIDDEN
REMOVED = content_pb2.MODERATION_STATE_REMOVED
POST = content_pb2.TARGET_KIND_POST
COMMENT = content_pb2.TARGET_KIND_COMMENT
VIDEO = content_pb2.TARGET_KIND_VIDEO


def set_visibility(stub, auth, kind: int, target_id: str, state: int, reason: str = "spam"):
    request = content_pb2.SetContentVisibilityRequest(
        target_kind=kind, target_id=target_id, state=state, reason=reason
    )
    return stub.SetContentVisibility(request, metadata=auth)


async def comment_ids(stub, account, post_id: str) -> list[str]:
    request = content_pb2.ListCommentsRequest(post_id=post_id, page_size=100)
    return [c.id for c in (await stub.ListComments(request, metadata=account.auth)).comments]


async def published_video(stub, account, service_auth) -> content_pb2.Video:
    video = await create_video(stub, account)
    await stub.MarkVideoUploaded(
        content_pb2.MarkVideoUploadedRequest(id=video.id), metadata=service_auth
    )
    request = content_pb2.CompleteVideoProcessingRequest(
        id=video.id,
        hls_url="https://cdn.example.com/m.m3u8",
        thumbnail_url="https://cdn.example.com/t.jpg",
        resolution="1280x720",
    )
    request.duration.seconds = 10
    return (await stub.CompleteVideoProcessing(request, metadata=service_auth)).video


async def video_ids(stub, account, user_id: str) -> list[str]:
    request = content_pb2.ListUserVideosRequest(user_id=user_id, page_size=100)
    return [v.id for v in (await stub.ListUserVideos(request, metadata=account.auth)).videos]


@pytest.mark.parametrize("state", [HIDDEN, REMOVED])
async def test_moderated_post_is_not_found_for_its_author_and_others(
    alice, bob, stub, service_auth, rejected, state
):
    post = await create_post(stub, alice)

    await set_visibility(stub, service_auth, POST, post.id, state)

    assert (await rejected(get_post(stub, alice, post.id))).code == NOT_FOUND
    assert (await rejected(get_post(stub, bob, post.id))).code == NOT_FOUND


@pytest.mark.parametrize("state", [HIDDEN, REMOVED])
async def test_moderated_post_is_shown_to_moderators_with_its_state(
    alice, moderator, stub, service_auth, state
):
    post = await create_post(stub, alice)

    await set_visibility(stub, service_auth, POST, post.id, state)

    assert (await get_post(stub, moderator, post.id)).moderation_state == state


async def test_hidden_post_leaves_every_listing(alice, bob, stub, service_auth):
    tag = unique_tag()
    post = await create_post(stub, alice, f"#{tag}")
    await create_comment(stub, bob, post.id)

    await set_visibility(stub, service_auth, POST, post.id, HIDDEN)

    assert post.id not in await user_post_ids(stub, alice, alice.id)
    assert post.id not in await user_post_ids(stub, bob, alice.id)
    assert await hashtag_post_ids(stub, bob, tag) == []
    assert post.id not in await trending_ids(stub, bob)
    batch = await stub.BatchGetPosts(
        content_pb2.BatchGetPostsRequest(ids=[post.id]), metadata=bob.auth
    )
    assert list(batch.missing_ids) == [post.id]


async def test_hidden_post_is_listed_for_moderators(alice, moderator, stub, service_auth):
    post = await create_post(stub, alice)

    await set_visibility(stub, service_auth, POST, post.id, HIDDEN)

    assert post.id in await user_post_ids(stub, moderator, alice.id)


async def test_visible_restores_a_hidden_post_everywhere(alice, bob, stub, service_auth):
    tag = unique_tag()
    post = await create_post(stub, alice, f"#{tag}")
    await set_visibility(stub, service_auth, POST, post.id, HIDDEN)

    await set_visibility(stub, service_auth, POST, post.id, VISIBLE)

    shown = await get_post(stub, bob, post.id)
    assert shown.moderation_state == VISIBLE
    assert await user_post_ids(stub, bob, alice.id) == [post.id]
    assert await hashtag_post_ids(stub, bob, tag) == [post.id]
    assert post.id in await trending_ids(stub, bob)


async def test_hidden_post_cannot_be_edited_by_its_author(alice, stub, service_auth, rejected):
    post = await create_post(stub, alice, "before moderation")
    await set_visibility(stub, service_auth, POST, post.id, HIDDEN)
    request = content_pb2.UpdatePostRequest(
        post=content_pb2.Post(id=post.id, text="sneaky edit", etag=post.etag)
    )
    request.update_mask.paths.append("text")

    failure = await rejected(stub.UpdatePost(request, metadata=alice.auth))

    assert failure.code in (NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)


async def test_hidden_post_cannot_be_commented_on(alice, bob, stub, service_auth, rejected):
    post = await create_post(stub, alice)
    await set_visibility(stub, service_auth, POST, post.id, HIDDEN)

    failure = await rejected(create_comment(stub, bob, post.id))

    assert failure.code == NOT_FOUND


async def test_hidden_comment_leaves_the_thread_for_everyone_but_moderators(
    alice, bob, moderator, stub, service_auth
):
    post = await create_post(stub, alice)
    kept = await create_comment(stub, bob, post.id)
    hidden = await create_comment(stub, bob, post.id)

    await set_visibility(stub, service_auth, COMMENT, hidden.id, HIDDEN)

    assert await comment_ids(stub, alice, post.id) == [kept.id]
    assert await comment_ids(stub, bob, post.id) == [kept.id]
    assert await comment_ids(stub, moderator, post.id) == [kept.id, hidden.id]


async def test_visible_restores_a_hidden_comment(alice, bob, stub, service_auth):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await set_visibility(stub, service_auth, COMMENT, comment.id, REMOVED)

    await set_visibility(stub, service_auth, COMMENT, comment.id, VISIBLE)

    assert await comment_ids(stub, alice, post.id) == [comment.id]


async def test_hidden_video_is_not_found_except_for_moderators(
    alice, bob, moderator, stub, service_auth, rejected
):
    video = await published_video(stub, alice, service_auth)

    await set_visibility(stub, service_auth, VIDEO, video.id, HIDDEN)

    request = content_pb2.GetVideoRequest(id=video.id)
    for account in (alice, bob):
        failure = await rejected(stub.GetVideo(request, metadata=account.auth))
        assert failure.code == NOT_FOUND
    shown = (await stub.GetVideo(request, metadata=moderator.auth)).video
    assert shown.moderation_state == HIDDEN


async def test_hidden_video_leaves_the_users_video_list(alice, bob, stub, service_auth):
    video = await published_video(stub, alice, service_auth)

    await set_visibility(stub, service_auth, VIDEO, video.id, HIDDEN)

    assert await video_ids(stub, bob, alice.id) == []
    assert await video_ids(stub, alice, alice.id) == []


async def test_visible_restores_a_hidden_video(alice, bob, stub, service_auth):
    video = await published_video(stub, alice, service_auth)
    await set_visibility(stub, service_auth, VIDEO, video.id, HIDDEN)

    await set_visibility(stub, service_auth, VIDEO, video.id, VISIBLE)

    assert await video_ids(stub, bob, alice.id) == [video.id]


async def test_hidden_video_counts_no_views(alice, bob, stub, service_auth, rejected):
    video = await published_video(stub, alice, service_auth)
    await set_visibility(stub, service_auth, VIDEO, video.id, HIDDEN)

    failure = await rejected(
        stub.RecordVideoView(content_pb2.RecordVideoViewRequest(id=video.id), metadata=bob.auth)
    )

    assert failure.code in (NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)


@pytest.mark.parametrize("kind", [POST, COMMENT, VIDEO])
async def test_set_content_visibility_of_an_unknown_target_is_not_found(
    stub, service_auth, rejected, kind
):
    failure = await rejected(set_visibility(stub, service_auth, kind, str(uuid.uuid4()), HIDDEN))

    assert failure.code == NOT_FOUND


async def test_set_content_visibility_with_a_malformed_id_is_invalid(stub, service_auth, rejected):
    failure = await rejected(set_visibility(stub, service_auth, POST, "not-a-uuid", HIDDEN))

    assert failure.code == INVALID
    assert failure.fields == ["target_id"]


@pytest.mark.parametrize(
    ("field", "kind", "state"),
    [
        ("target_kind", content_pb2.TARGET_KIND_UNSPECIFIED, HIDDEN),
        ("target_kind", 9, HIDDEN),
        ("state", POST, content_pb2.MODERATION_STATE_UNSPECIFIED),
        ("state", POST, 9),
    ],
)
async def test_set_content_visibility_refuses_unknown_kinds_and_states(
    alice, stub, service_auth, rejected, field, kind, state
):
    post = await create_post(stub, alice)

    failure = await rejected(set_visibility(stub, service_auth, kind, post.id, state))

    assert failure.code == INVALID
    assert failure.fields == [field]
    assert (await get_post(stub, alice, post.id)).moderation_state == VISIBLE


async def test_set_content_visibility_refuses_a_nul_in_the_reason(
    alice, stub, service_auth, rejected
):
    post = await create_post(stub, alice)

    failure = await rejected(set_visibility(stub, service_auth, POST, post.id, HIDDEN, "a\x00"))

    assert failure.code == INVALID
    assert failure.fields == ["reason"]
    assert (await get_post(stub, alice, post.id)).moderation_state == VISIBLE


async def test_set_content_visibility_by_a_moderators_user_token_is_permission_denied(
    alice, moderator, stub, rejected
):
    post = await create_post(stub, alice)

    failure = await rejected(set_visibility(stub, moderator.auth, POST, post.id, HIDDEN))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await get_post(stub, alice, post.id)).moderation_state == VISIBLE
