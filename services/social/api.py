"""The SocialService servicer: requests in, domain calls, responses out.

Who may call each RPC is declared in ACCESS and enforced by the shared pipeline
before a handler runs; finer rules (own relationships, locked accounts) live in the
logic modules.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

import grpc

from daira.social.v1 import social_pb2 as pb
from daira.social.v1 import social_pb2_grpc
from services.social import convert, lists
from services.social.blocks import Blocks
from services.social.deps import Deps
from services.social.follows import Follows
from services.social.lists import Lists
from services.social.notifications import Notifications
from services.social.reactions import Reactions
from services.social.subscriptions import subscriptions
from shared.auth import Access, Role, bearer_token, current_principal
from shared.errors import InvalidArgument
from shared.eventing import Events
from shared.ids import parse_id
from shared.server import Endpoint, Runtime

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

ACCESS = {
    "Follow": Access.USER,
    "Unfollow": Access.USER,
    "ApproveFollowRequest": Access.USER,
    "RejectFollowRequest": Access.USER,
    "ListFollowRequests": Access.USER,
    "ListFollowers": Access.USER,
    "ListFollowing": Access.USER,
    "ListFollowerIds": Access.SERVICE,
    "ListFollowingIds": Access.SERVICE,
    "ListFriends": Access.USER,
    "GetRelationships": Access.USER,
    "GetUserStats": Access.USER,
    "Block": Access.USER,
    "Unblock": Access.USER,
    "ListBlocks": Access.USER,
    "Mute": Access.USER,
    "Unmute": Access.USER,
    "ListMutes": Access.USER,
    "React": Access.USER,
    "Unreact": Access.USER,
    "GetReactionCounts": Access.USER,
    "ListReactions": Access.USER,
    "ListNotifications": Access.USER,
    "CountUnreadNotifications": Access.USER,
    "MarkNotificationsRead": Access.USER,
}


def _user(value: str) -> uuid.UUID:
    return parse_id("user_id", value)


def _user_or_caller(field: str, value: str) -> uuid.UUID:
    """The named user, or the calling user; a service has to name one."""
    if value:
        return parse_id(field, value)
    principal = current_principal()
    if principal.role is Role.SERVICE:
        raise InvalidArgument(field, "is required when a service calls")
    return principal.user_id


class SocialServicer(social_pb2_grpc.SocialServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.follows = Follows(deps)
        self.blocks = Blocks(deps)
        self.lists = Lists(deps)
        self.reactions = Reactions(deps)
        self.notifications = Notifications(deps)

    async def close(self) -> None:
        await self._deps.peers.close()

    async def Follow(self, request: pb.FollowRequest, context: Context) -> pb.FollowResponse:
        state = await self.follows.follow(current_principal(), _user(request.user_id))
        return pb.FollowResponse(state=convert.FOLLOW_STATES[state])

    async def Unfollow(self, request: pb.UnfollowRequest, context: Context) -> pb.UnfollowResponse:
        await self.follows.unfollow(current_principal(), _user(request.user_id))
        return pb.UnfollowResponse()

    async def ApproveFollowRequest(
        self, request: pb.ApproveFollowRequestRequest, context: Context
    ) -> pb.ApproveFollowRequestResponse:
        await self.follows.approve(current_principal(), _user(request.user_id))
        return pb.ApproveFollowRequestResponse()

    async def RejectFollowRequest(
        self, request: pb.RejectFollowRequestRequest, context: Context
    ) -> pb.RejectFollowRequestResponse:
        await self.follows.reject(current_principal(), _user(request.user_id))
        return pb.RejectFollowRequestResponse()

    async def ListFollowRequests(
        self, request: pb.ListFollowRequestsRequest, context: Context
    ) -> pb.ListFollowRequestsResponse:
        requests, token = await self.lists.own(
            current_principal(), lists.REQUESTS, request.page_size, request.page_token
        )
        return pb.ListFollowRequestsResponse(requests=requests, next_page_token=token)

    async def ListFollowers(
        self, request: pb.ListFollowersRequest, context: Context
    ) -> pb.ListFollowersResponse:
        followers, token = await self.lists.connections(
            current_principal(),
            lists.FOLLOWERS,
            _user_or_caller("user_id", request.user_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListFollowersResponse(followers=followers, next_page_token=token)

    async def ListFollowerIds(
        self, request: pb.ListFollowerIdsRequest, context: Context
    ) -> pb.ListFollowerIdsResponse:
        ids, token = await self.lists.ids(
            lists.FOLLOWER_IDS, _user(request.user_id), request.page_size, request.page_token
        )
        return pb.ListFollowerIdsResponse(follower_ids=ids, next_page_token=token)

    async def ListFollowingIds(
        self, request: pb.ListFollowingIdsRequest, context: Context
    ) -> pb.ListFollowingIdsResponse:
        ids, token = await self.lists.ids(
            lists.FOLLOWING_IDS, _user(request.user_id), request.page_size, request.page_token
        )
        return pb.ListFollowingIdsResponse(followee_ids=ids, next_page_token=token)

    async def ListFollowing(
        self, request: pb.ListFollowingRequest, context: Context
    ) -> pb.ListFollowingResponse:
        following, token = await self.lists.connections(
            current_principal(),
            lists.FOLLOWING,
            _user_or_caller("user_id", request.user_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListFollowingResponse(following=following, next_page_token=token)

    async def ListFriends(
        self, request: pb.ListFriendsRequest, context: Context
    ) -> pb.ListFriendsResponse:
        friends, token = await self.lists.connections(
            current_principal(),
            lists.FRIENDS,
            _user_or_caller("user_id", request.user_id),
            request.page_size,
            request.page_token,
        )
        return pb.ListFriendsResponse(friends=friends, next_page_token=token)

    async def GetRelationships(
        self, request: pb.GetRelationshipsRequest, context: Context
    ) -> pb.GetRelationshipsResponse:
        return await self.lists.relationships(
            current_principal(),
            _user_or_caller("viewer_id", request.viewer_id),
            request.user_ids,
        )

    async def GetUserStats(
        self, request: pb.GetUserStatsRequest, context: Context
    ) -> pb.GetUserStatsResponse:
        return pb.GetUserStatsResponse(stats=await self.lists.stats(request.user_ids))

    async def Block(self, request: pb.BlockRequest, context: Context) -> pb.BlockResponse:
        await self.blocks.block(current_principal(), _user(request.user_id))
        return pb.BlockResponse()

    async def Unblock(self, request: pb.UnblockRequest, context: Context) -> pb.UnblockResponse:
        await self.blocks.unblock(current_principal(), _user(request.user_id))
        return pb.UnblockResponse()

    async def ListBlocks(
        self, request: pb.ListBlocksRequest, context: Context
    ) -> pb.ListBlocksResponse:
        blocks, token = await self.lists.own(
            current_principal(), lists.BLOCKS, request.page_size, request.page_token
        )
        return pb.ListBlocksResponse(blocks=blocks, next_page_token=token)

    async def Mute(self, request: pb.MuteRequest, context: Context) -> pb.MuteResponse:
        mute = await self.blocks.mute(
            current_principal(),
            _user(request.user_id),
            request.notifications,
            request.duration if request.HasField("duration") else None,
        )
        return pb.MuteResponse(mute=mute)

    async def Unmute(self, request: pb.UnmuteRequest, context: Context) -> pb.UnmuteResponse:
        await self.blocks.unmute(current_principal(), _user(request.user_id))
        return pb.UnmuteResponse()

    async def ListMutes(
        self, request: pb.ListMutesRequest, context: Context
    ) -> pb.ListMutesResponse:
        mutes, token = await self.lists.mutes(
            current_principal(), request.page_size, request.page_token
        )
        return pb.ListMutesResponse(mutes=mutes, next_page_token=token)

    async def React(self, request: pb.ReactRequest, context: Context) -> pb.ReactResponse:
        target = convert.target("target", request.target)
        kind = convert.reaction_kind("kind", request.kind)
        token = bearer_token(context.invocation_metadata()) or ""
        reaction = await self.reactions.react(current_principal(), token, target, kind)
        return pb.ReactResponse(reaction=reaction)

    async def Unreact(self, request: pb.UnreactRequest, context: Context) -> pb.UnreactResponse:
        await self.reactions.unreact(current_principal(), convert.target("target", request.target))
        return pb.UnreactResponse()

    async def GetReactionCounts(
        self, request: pb.GetReactionCountsRequest, context: Context
    ) -> pb.GetReactionCountsResponse:
        return await self.reactions.counts(request.targets)

    async def ListReactions(
        self, request: pb.ListReactionsRequest, context: Context
    ) -> pb.ListReactionsResponse:
        reactions, token = await self.reactions.list(
            convert.target("target", request.target), request.page_size, request.page_token
        )
        return pb.ListReactionsResponse(reactions=reactions, next_page_token=token)

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: Context
    ) -> pb.ListNotificationsResponse:
        notifications, token = await self.notifications.list(
            current_principal(), request.page_size, request.page_token, request.unread_only
        )
        return pb.ListNotificationsResponse(notifications=notifications, next_page_token=token)

    async def CountUnreadNotifications(
        self, request: pb.CountUnreadNotificationsRequest, context: Context
    ) -> pb.CountUnreadNotificationsResponse:
        count, capped = await self.notifications.count_unread(current_principal())
        return pb.CountUnreadNotificationsResponse(unread_count=count, capped=capped)

    async def MarkNotificationsRead(
        self, request: pb.MarkNotificationsReadRequest, context: Context
    ) -> pb.MarkNotificationsReadResponse:
        marked = await self.notifications.mark_read(current_principal(), request.up_to_id)
        return pb.MarkNotificationsReadResponse(marked_count=marked)


async def build(runtime: Runtime) -> Endpoint:
    deps = Deps.from_runtime(runtime)
    servicer = SocialServicer(deps)
    events = Events(runtime, subscriptions(deps))
    events.start()

    async def stop() -> None:
        await events.close()
        await servicer.close()

    return Endpoint(
        servicer, social_pb2_grpc.add_SocialServiceServicer_to_server, ACCESS, on_stop=stop
    )
