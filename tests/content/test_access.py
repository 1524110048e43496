"""Who may call what: every RPC needs a token, internal ones a service token."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import bearer

SOME_ID = str(uuid.uuid4())

EVERY_CALL = {
    "CreatePost": content_pb2.CreatePostRequest(text="hi"),
    "GetPost": content_pb2.GetPostRequest(id=SOME_ID),
    "BatchGetPosts": content_pb2.BatchGetPostsRequest(ids=[SOME_ID]),
    "UpdatePost": content_pb2.UpdatePostRequest(post=content_pb2.Post(id=SOME_ID, text="x")),
    "DeletePost": content_pb2.DeletePostRequest(id=SOME_ID),
    "AddPostMedia": content_pb2.AddPostMediaRequest(post_id=SOME_ID),
    "DeletePostMedia": content_pb2.DeletePostMediaRequest(id=SOME_ID),
    "CreateVideo": content_pb2.CreateVideoRequest(title="t"),
    "GetVideo": content_pb2.GetVideoRequest(id=SOME_ID),
    "ListUserVideos": content_pb2.ListUserVideosRequest(user_id=SOME_ID),
    "MarkVideoUploaded": content_pb2.MarkVideoUploadedRequest(id=SOME_ID),
    "CompleteVideoProcessing": content_pb2.CompleteVideoProcessingRequest(id=SOME_ID),
    "FailVideoProcessing": content_pb2.FailVideoProcessingRequest(id=SOME_ID),
    "RecordVideoView": content_pb2.RecordVideoViewRequest(id=SOME_ID),
    "CreateComment": content_pb2.CreateCommentRequest(post_id=SOME_ID, text="hi"),
    "GetComment": content_pb2.GetCommentRequest(id=SOME_ID),
    "DeleteComment": content_pb2.DeleteCommentRequest(id=SOME_ID),
    "ListComments": content_pb2.ListCommentsRequest(post_id=SOME_ID),
    "ListUserPosts": content_pb2.ListUserPostsRequest(user_id=SOME_ID),
    "GetHomeFeed": content_pb2.GetHomeFeedRequest(),
    "ListTrending": content_pb2.ListTrendingRequest(),
    "SearchByHashtag": content_pb2.SearchByHashtagRequest(tag="cats"),
    "SetContentVisibility": content_pb2.SetContentVisibilityRequest(
        target_kind=content_pb2.TARGET_KIND_POST,
        target_id=SOME_ID,
        state=content_pb2.MODERATION_STATE_HIDDEN,
    ),
}
INTERNAL_CALLS = (
    "MarkVideoUploaded",
    "CompleteVideoProcessing",
    "FailVideoProcessing",
    "SetContentVisibility",
)


def test_every_rpc_of_the_contract_is_covered():
    methods = content_pb2.DESCRIPTOR.services_by_name["ContentService"].methods_by_name

    assert set(methods) == set(EVERY_CALL)


@pytest.mark.parametrize("method", sorted(EVERY_CALL))
async def test_rpc_without_a_token_is_unauthenticated(stub, rejected, method):
    failure = await rejected(getattr(stub, method)(EVERY_CALL[method]))

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", sorted(EVERY_CALL))
async def test_rpc_with_a_forged_token_is_unauthenticated(stub, rejected, method):
    failure = await rejected(
        getattr(stub, method)(EVERY_CALL[method], metadata=bearer("not-a-token"))
    )

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", INTERNAL_CALLS)
@pytest.mark.parametrize("role", ["user", "moderator", "admin"])
async def test_internal_rpc_with_a_user_token_is_permission_denied(
    accounts, stub, rejected, method, role
):
    caller = await accounts.create(role=role)

    failure = await rejected(getattr(stub, method)(EVERY_CALL[method], metadata=caller.auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_service_cannot_author_a_post(stub, service_auth, rejected):
    request = content_pb2.CreatePostRequest(text="from a service", request_id=str(uuid.uuid4()))

    failure = await rejected(stub.CreatePost(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
