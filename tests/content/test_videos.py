"""Videos: the processing state machine, who drives it, listings and exact view counts."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import duration_pb2

from daira.content.v1 import content_pb2

from .conftest import create_video, every_page, new_request_id

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED

UPLOADING = content_pb2.VIDEO_STATE_UPLOADING
PROCESSING = content_pb2.VIDEO_STATE_PROCESSING
PUBLISHED = content_pb2.VIDEO_STATE_PUBLISHED
FAILED = content_pb2.VIDEO_STATE_FAILED


def mark_uploaded(stub, auth, video_id: str):
    return stub.MarkVideoUploaded(content_pb2.MarkVideoUploadedRequest(id=video_id), metadata=auth)


def complete(stub, auth, video_id: str, **overrides):
    fields = {
        "hls_url": "https://cdn.example.com/v/master.m3u8",
        "thumbnail_url": "https://cdn.example.com/v/thumb.jpg",
        "duration": duration_pb2.Duration(seconds=93, nanos=500_000_000),
        "resolution": "1920x1080",
        **overrides,
    }
    request = content_pb2.CompleteVideoProcessingRequest(id=video_id, **fields)
    return stub.CompleteVideoProcessing(request, metadata=auth)


def fail(stub, auth, video_id: str, reason: str = "codec not supported"):
    request = content_pb2.FailVideoProcessingRequest(id=video_id, reason=reason)
    return stub.FailVideoProcessing(request, metadata=auth)


async def get_video(stub, account, video_id: str) -> content_pb2.Video:
    request = content_pb2.GetVideoRequest(id=video_id)
    return (await stub.GetVideo(request, metadata=account.auth)).video


async def published_video(stub, account, service_auth) -> content_pb2.Video:
    video = await create_video(stub, account)
    await mark_uploaded(stub, service_auth, video.id)
    return (await complete(stub, service_auth, video.id)).video


async def user_video_ids(stub, account, user_id: str, page_size: int = 100) -> list[str]:
    request = content_pb2.ListUserVideosRequest(user_id=user_id, page_size=page_size)
    pages = await every_page(stub.ListUserVideos, request, account.auth, "videos")
    return [video.id for page in pages for video in page]


async def test_create_video_starts_in_uploading(alice, stub):
    video = await create_video(stub, alice, "My first video")

    assert video.id
    assert (video.author_id, video.title, video.state) == (alice.id, "My first video", UPLOADING)
    assert video.view_count == 0
    assert video.moderation_state == content_pb2.MODERATION_STATE_VISIBLE
    assert await get_video(stub, alice, video.id) == video


async def test_create_video_is_idempotent_on_request_id(alice, stub):
    request = content_pb2.CreateVideoRequest(title="once", request_id=new_request_id())

    first = (await stub.CreateVideo(request, metadata=alice.auth)).video
    again = (await stub.CreateVideo(request, metadata=alice.auth)).video

    assert again.id == first.id
    assert await user_video_ids(stub, alice, alice.id) == [first.id]


async def test_create_video_reusing_a_request_id_with_another_title_is_already_exists(
    alice, stub, rejected
):
    request_id = new_request_id()
    request = content_pb2.CreateVideoRequest(title="first", request_id=request_id)
    await stub.CreateVideo(request, metadata=alice.auth)

    request.title = "second"
    failure = await rejected(stub.CreateVideo(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("field", "value"), [("title", ""), ("title", "x" * 201), ("description", "a\x00b")]
)
async def test_create_video_refuses_bad_input_and_writes_nothing(
    alice, stub, rejected, field, value
):
    request = content_pb2.CreateVideoRequest(title="ok", request_id=new_request_id())
    setattr(request, field, value)

    failure = await rejected(stub.CreateVideo(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == [field]
    assert await user_video_ids(stub, alice, alice.id) == []


async def test_mark_video_uploaded_moves_it_to_processing(alice, stub, service_auth):
    video = await create_video(stub, alice)

    marked = (await mark_uploaded(stub, service_auth, video.id)).video

    assert marked.state == PROCESSING
    assert (await get_video(stub, alice, video.id)).state == PROCESSING


async def test_complete_video_processing_publishes_it_with_its_renditions(
    alice, stub, service_auth
):
    video = await create_video(stub, alice)
    await mark_uploaded(stub, service_auth, video.id)

    done = (await complete(stub, service_auth, video.id)).video

    assert done.state == PUBLISHED
    assert done.hls_url == "https://cdn.example.com/v/master.m3u8"
    assert done.thumbnail_url == "https://cdn.example.com/v/thumb.jpg"
    assert done.duration == duration_pb2.Duration(seconds=93, nanos=500_000_000)
    assert done.resolution == "1920x1080"
    assert await get_video(stub, alice, video.id) == done


async def test_fail_video_processing_records_the_reason(alice, stub, service_auth):
    video = await create_video(stub, alice)
    await mark_uploaded(stub, service_auth, video.id)

    failed = (await fail(stub, service_auth, video.id, "corrupt upload")).video

    assert (failed.state, failed.failure_reason) == (FAILED, "corrupt upload")
    assert await get_video(stub, alice, video.id) == failed


@pytest.mark.parametrize(
    ("history", "step"),
    [
        ([], "complete"),
        ([], "fail"),
        (["mark"], "mark"),
        (["mark", "complete"], "mark"),
        (["mark", "complete"], "complete"),
        (["mark", "complete"], "fail"),
        (["mark", "fail"], "complete"),
        (["mark", "fail"], "mark"),
        (["mark", "fail"], "fail"),
    ],
)
async def test_any_other_video_transition_is_failed_precondition_and_changes_nothing(
    alice, stub, service_auth, rejected, history, step
):
    steps = {
        "mark": lambda v: mark_uploaded(stub, service_auth, v),
        "complete": lambda v: complete(stub, service_auth, v),
        "fail": lambda v: fail(stub, service_auth, v),
    }
    video = await create_video(stub, alice)
    for earlier in history:
        await steps[earlier](video.id)
    before = await get_video(stub, alice, video.id)

    failure = await rejected(steps[step](video.id))

    assert failure.code == PRECONDITION
    assert await get_video(stub, alice, video.id) == before


@pytest.mark.parametrize("step", ["mark", "complete", "fail"])
@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
async def test_video_processing_rpcs_refuse_user_tokens(
    accounts, stub, service_auth, rejected, step, role
):
    caller = await accounts.create(role=role)
    video = await create_video(stub, caller)
    if step != "mark":
        await mark_uploaded(stub, service_auth, video.id)
    call = {
        "mark": lambda: mark_uploaded(stub, caller.auth, video.id),
        "complete": lambda: complete(stub, caller.auth, video.id),
        "fail": lambda: fail(stub, caller.auth, video.id),
    }[step]
    before = await get_video(stub, caller, video.id)

    failure = await rejected(call())

    assert failure.code == DENIED
    assert await get_video(stub, caller, video.id) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hls_url", ""),
        ("hls_url", "ftp://cdn.example.com/x.m3u8"),
        ("thumbnail_url", "not a url"),
        ("resolution", "big"),
        ("duration", duration_pb2.Duration()),
        ("duration", duration_pb2.Duration(seconds=-5)),
    ],
)
async def test_complete_video_processing_refuses_bad_renditions(
    alice, stub, service_auth, rejected, field, value
):
    video = await create_video(stub, alice)
    await mark_uploaded(stub, service_auth, video.id)

    failure = await rejected(complete(stub, service_auth, video.id, **{field: value}))

    assert failure.code == INVALID
    assert failure.fields == [field]
    assert (await get_video(stub, alice, video.id)).state == PROCESSING


async def test_video_transition_of_an_unknown_video_is_not_found(stub, service_auth, rejected):
    failure = await rejected(mark_uploaded(stub, service_auth, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_get_video_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(get_video(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_get_video_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(get_video(stub, alice, "not-a-uuid"))

    assert failure.code == INVALID
    assert failure.fields == ["id"]


async def test_get_video_of_someone_elses_published_video(alice, bob, stub, service_auth):
    video = await published_video(stub, alice, service_auth)

    assert (await get_video(stub, bob, video.id)).id == video.id


@pytest.mark.parametrize("state", ["uploading", "processing", "failed"])
async def test_get_video_of_someone_elses_unpublished_video_is_not_found(
    alice, bob, stub, service_auth, rejected, state
):
    video = await create_video(stub, alice)
    if state != "uploading":
        await mark_uploaded(stub, service_auth, video.id)
    if state == "failed":
        await fail(stub, service_auth, video.id)

    failure = await rejected(get_video(stub, bob, video.id))

    assert failure.code == NOT_FOUND


async def test_list_user_videos_shows_the_author_all_of_theirs_newest_first(
    alice, stub, service_auth
):
    uploading = await create_video(stub, alice)
    processing = await create_video(stub, alice)
    await mark_uploaded(stub, service_auth, processing.id)
    published = await published_video(stub, alice, service_auth)

    ids = await user_video_ids(stub, alice, alice.id)

    assert ids == [published.id, processing.id, uploading.id]


async def test_list_user_videos_shows_others_only_published_ones(alice, bob, stub, service_auth):
    await create_video(stub, alice)
    failed = await create_video(stub, alice)
    await mark_uploaded(stub, service_auth, failed.id)
    await fail(stub, service_auth, failed.id)
    published = await published_video(stub, alice, service_auth)

    assert await user_video_ids(stub, bob, alice.id) == [published.id]


async def test_list_user_videos_pages_have_no_repeats_or_gaps(alice, stub):
    created = [(await create_video(stub, alice)).id for _ in range(5)]

    assert await user_video_ids(stub, alice, alice.id, page_size=2) == created[::-1]


async def test_list_user_videos_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    request = content_pb2.ListUserVideosRequest(user_id=alice.id, page_size=-1)

    failure = await rejected(stub.ListUserVideos(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_list_user_videos_with_a_malformed_user_id_is_invalid(alice, stub, rejected):
    request = content_pb2.ListUserVideosRequest(user_id="nope")

    failure = await rejected(stub.ListUserVideos(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["user_id"]


async def test_record_video_view_counts_one_view(alice, bob, stub, service_auth):
    video = await published_video(stub, alice, service_auth)

    await stub.RecordVideoView(content_pb2.RecordVideoViewRequest(id=video.id), metadata=bob.auth)

    assert (await get_video(stub, alice, video.id)).view_count == 1


async def test_record_video_view_100_in_parallel_counts_exactly_100(alice, bob, stub, service_auth):
    video = await published_video(stub, alice, service_auth)
    request = content_pb2.RecordVideoViewRequest(id=video.id)

    await asyncio.gather(*(stub.RecordVideoView(request, metadata=bob.auth) for _ in range(100)))

    assert (await get_video(stub, alice, video.id)).view_count == 100


async def test_record_video_view_of_an_unpublished_video_counts_nothing(alice, stub, rejected):
    video = await create_video(stub, alice)
    request = content_pb2.RecordVideoViewRequest(id=video.id)

    failure = await rejected(stub.RecordVideoView(request, metadata=alice.auth))

    assert failure.code in (PRECONDITION, NOT_FOUND)
    assert (await get_video(stub, alice, video.id)).view_count == 0


async def test_record_video_view_of_an_unknown_video_is_not_found(alice, stub, rejected):
    request = content_pb2.RecordVideoViewRequest(id=str(uuid.uuid4()))

    failure = await rejected(stub.RecordVideoView(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND
