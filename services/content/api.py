"""The ContentService servicer: requests in, domain calls, responses out.

Who may call each RPC is declared in ACCESS and enforced by the shared pipeline
before a handler runs; finer rules (author, staff) live in the logic modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, TypeAlias

import grpc

from daira.content.v1 import content_pb2 as pb
from daira.content.v1 import content_pb2_grpc
from services.content import convert
from services.content.comments import Comments
from services.content.deps import Deps
from services.content.feeds import Feeds
from services.content.home_feed import HomeFeed
from services.content.media import Media
from services.content.moderation import Moderation
from services.content.posts import Posts
from services.content.subscriptions import subscriptions
from services.content.videos import Videos
from shared.auth import Access, Role, current_principal
from shared.errors import InvalidArgument
from shared.eventing import Events
from shared.ids import canonical_id, parse_id
from shared.server import Endpoint, Runtime

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

ACCESS = {
    "CreatePost": Access.USER,
    "GetPost": Access.USER,
    "BatchGetPosts": Access.USER,
    "UpdatePost": Access.USER,
    "DeletePost": Access.USER,
    "AddPostMedia": Access.USER,
    "DeletePostMedia": Access.USER,
    "CreateVideo": Access.USER,
    "GetVideo": Access.USER,
    "ListUserVideos": Access.USER,
    "MarkVideoUploaded": Access.SERVICE,
    "CompleteVideoProcessing": Access.SERVICE,
    "FailVideoProcessing": Access.SERVICE,
    "RecordVideoView": Access.USER,
    "CreateComment": Access.USER,
    "GetComment": Access.USER,
    "DeleteComment": Access.USER,
    "ListComments": Access.USER,
    "ListUserPosts": Access.USER,
    "GetHomeFeed": Access.USER,
    "ListTrending": Access.USER,
    "SearchByHashtag": Access.USER,
    "SetContentVisibility": Access.SERVICE,
}


def _user_or_caller(value: str) -> uuid.UUID:
    """The named user, or the calling user; a service has to name one."""
    if value:
        return parse_id("user_id", value)
    principal = current_principal()
    if principal.role is Role.SERVICE:
        raise InvalidArgument("user_id", "is required when a service calls")
    return principal.user_id


def _optional_id(field: str, value: str) -> uuid.UUID | None:
    return parse_id(field, value) if value else None


class ContentServicer(content_pb2_grpc.ContentServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.media = Media(deps)
        self.posts = Posts(deps, self.media)
        self.comments = Comments(deps, self.posts)
        self.feeds = Feeds(deps, self.posts)
        self.home_feed = HomeFeed(deps, self.posts)
        self.videos = Videos(deps)
        self.moderation = Moderation(deps)
        self._reconciler: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the media reconciler; `close` (the endpoint's on_stop) ends it."""
        self._reconciler = asyncio.create_task(self.media.run_reconciler())

    async def close(self) -> None:
        if self._reconciler is not None:
            self._reconciler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciler
        await self._deps.peers.close()

    async def CreatePost(
        self, request: pb.CreatePostRequest, context: Context
    ) -> pb.CreatePostResponse:
        post = await self.posts.create(
            current_principal(), request.text, request.visibility, request.request_id, request.media
        )
        return pb.CreatePostResponse(post=post)

    async def GetPost(self, request: pb.GetPostRequest, context: Context) -> pb.GetPostResponse:
        fields = convert.read_mask(request.read_mask)
        post = await self.posts.get(current_principal(), canonical_id("id", request.id), fields)
        return pb.GetPostResponse(post=post)

    async def BatchGetPosts(
        self, request: pb.BatchGetPostsRequest, context: Context
    ) -> pb.BatchGetPostsResponse:
        fields = convert.read_mask(request.read_mask)
        posts, missing = await self.posts.batch_get(current_principal(), request.ids, fields)
        return pb.BatchGetPostsResponse(posts=posts, missing_ids=missing)

    async def UpdatePost(
        self, request: pb.UpdatePostRequest, context: Context
    ) -> pb.UpdatePostResponse:
        post = await self.posts.update(
            current_principal(), request.post, list(request.update_mask.paths)
        )
        return pb.UpdatePostResponse(post=post)

    async def DeletePost(
        self, request: pb.DeletePostRequest, context: Context
    ) -> pb.DeletePostResponse:
        await self.posts.delete(current_principal(), parse_id("id", request.id))
        return pb.DeletePostResponse()

    async def AddPostMedia(
        self, request: pb.AddPostMediaRequest, context: Context
    ) -> pb.AddPostMediaResponse:
        post_id = parse_id("post_id", request.post_id)
        media = await self.media.add(current_principal(), post_id, request)
        return pb.AddPostMediaResponse(media=media)

    async def DeletePostMedia(
        self, request: pb.DeletePostMediaRequest, context: Context
    ) -> pb.DeletePostMediaResponse:
        await self.media.delete(current_principal(), parse_id("id", request.id))
        return pb.DeletePostMediaResponse()

    async def CreateVideo(
        self, request: pb.CreateVideoRequest, context: Context
    ) -> pb.CreateVideoResponse:
        video = await self.videos.create(
            current_principal(), request.title, request.description, request.request_id
        )
        return pb.CreateVideoResponse(video=video)

    async def GetVideo(self, request: pb.GetVideoRequest, context: Context) -> pb.GetVideoResponse:
        video = await self.videos.get(current_principal(), parse_id("id", request.id))
        return pb.GetVideoResponse(video=video)

    async def ListUserVideos(
        self, request: pb.ListUserVideosRequest, context: Context
    ) -> pb.ListUserVideosResponse:
        videos, token = await self.videos.list_by_author(
            current_principal(),
            _user_or_caller(request.user_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListUserVideosResponse(videos=videos, next_page_token=token)

    async def MarkVideoUploaded(
        self, request: pb.MarkVideoUploadedRequest, context: Context
    ) -> pb.MarkVideoUploadedResponse:
        video = await self.videos.mark_uploaded(parse_id("id", request.id))
        return pb.MarkVideoUploadedResponse(video=video)

    async def CompleteVideoProcessing(
        self, request: pb.CompleteVideoProcessingRequest, context: Context
    ) -> pb.CompleteVideoProcessingResponse:
        video = await self.videos.complete(parse_id("id", request.id), request)
        return pb.CompleteVideoProcessingResponse(video=video)

    async def FailVideoProcessing(
        self, request: pb.FailVideoProcessingRequest, context: Context
    ) -> pb.FailVideoProcessingResponse:
        video = await self.videos.fail(parse_id("id", request.id), request.reason)
        return pb.FailVideoProcessingResponse(video=video)

    async def RecordVideoView(
        self, request: pb.RecordVideoViewRequest, context: Context
    ) -> pb.RecordVideoViewResponse:
        await self.videos.record_view(current_principal(), parse_id("id", request.id))
        return pb.RecordVideoViewResponse()

    async def CreateComment(
        self, request: pb.CreateCommentRequest, context: Context
    ) -> pb.CreateCommentResponse:
        comment = await self.comments.create(
            current_principal(),
            parse_id("post_id", request.post_id),
            request.text,
            _optional_id("parent_id", request.parent_id),
            request.request_id,
        )
        return pb.CreateCommentResponse(comment=comment)

    async def GetComment(
        self, request: pb.GetCommentRequest, context: Context
    ) -> pb.GetCommentResponse:
        comment = await self.comments.get(current_principal(), parse_id("id", request.id))
        return pb.GetCommentResponse(comment=comment)

    async def DeleteComment(
        self, request: pb.DeleteCommentRequest, context: Context
    ) -> pb.DeleteCommentResponse:
        await self.comments.delete(current_principal(), parse_id("id", request.id))
        return pb.DeleteCommentResponse()

    async def ListComments(
        self, request: pb.ListCommentsRequest, context: Context
    ) -> pb.ListCommentsResponse:
        comments, token = await self.comments.list(
            current_principal(),
            parse_id("post_id", request.post_id),
            _optional_id("parent_id", request.parent_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListCommentsResponse(comments=comments, next_page_token=token)

    async def ListUserPosts(
        self, request: pb.ListUserPostsRequest, context: Context
    ) -> pb.ListUserPostsResponse:
        posts, token = await self.feeds.user_posts(
            current_principal(),
            _user_or_caller(request.user_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListUserPostsResponse(posts=posts, next_page_token=token)

    async def GetHomeFeed(
        self, request: pb.GetHomeFeedRequest, context: Context
    ) -> pb.GetHomeFeedResponse:
        posts, authors, token = await self.home_feed.page(
            current_principal(), request.page_size, request.page_token
        )
        return pb.GetHomeFeedResponse(posts=posts, authors=authors, next_page_token=token)

    async def ListTrending(
        self, request: pb.ListTrendingRequest, context: Context
    ) -> pb.ListTrendingResponse:
        posts, token = await self.feeds.trending(
            current_principal(), request.window, request.page_size, request.page_token
        )
        return pb.ListTrendingResponse(posts=posts, next_page_token=token)

    async def SearchByHashtag(
        self, request: pb.SearchByHashtagRequest, context: Context
    ) -> pb.SearchByHashtagResponse:
        posts, token = await self.feeds.hashtag(
            current_principal(), request.tag, request.page_size, request.page_token
        )
        return pb.SearchByHashtagResponse(posts=posts, next_page_token=token)

    async def SetContentVisibility(
        self, request: pb.SetContentVisibilityRequest, context: Context
    ) -> pb.SetContentVisibilityResponse:
        await self.moderation.set_visibility(
            current_principal().subject,
            request.target_kind,
            parse_id("target_id", request.target_id),
            request.state,
            request.reason,
        )
        return pb.SetContentVisibilityResponse()


async def build(runtime: Runtime) -> Endpoint:
    deps = Deps.from_runtime(runtime)
    servicer = ContentServicer(deps)
    servicer.start()
    events = Events(runtime, subscriptions(deps, servicer.home_feed))
    events.start()

    async def stop() -> None:
        await events.close()
        await servicer.close()

    return Endpoint(
        servicer, content_pb2_grpc.add_ContentServiceServicer_to_server, ACCESS, on_stop=stop
    )
