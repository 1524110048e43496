"""Who may call what: every RPC needs a token, and relationships are users' own."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb

from .conftest import bearer, post_target

SOME_ID = str(uuid.uuid4())
TARGET = post_target(SOME_ID)

EVERY_CALL = {
    "Follow": pb.FollowRequest(user_id=SOME_ID),
    "Unfollow": pb.UnfollowRequest(user_id=SOME_ID),
    "ApproveFollowRequest": pb.ApproveFollowRequestRequest(user_id=SOME_ID),
    "RejectFollowRequest": pb.RejectFollowRequestRequest(user_id=SOME_ID),
    "ListFollowRequests": pb.ListFollowRequestsRequest(),
    "ListFollowers": pb.ListFollowersRequest(user_id=SOME_ID),
    "ListFollowing": pb.ListFollowingRequest(user_id=SOME_ID),
    "ListFollowerIds": pb.ListFollowerIdsRequest(user_id=SOME_ID),
    "ListFollowingIds": pb.ListFollowingIdsRequest(user_id=SOME_ID),
    "ListFriends": pb.ListFriendsRequest(user_id=SOME_ID),
    "GetRelationships": pb.GetRelationshipsRequest(viewer_id=SOME_ID, user_ids=[SOME_ID]),
    "GetUserStats": pb.GetUserStatsRequest(user_ids=[SOME_ID]),
    "Block": pb.BlockRequest(user_id=SOME_ID),
    "Unblock": pb.UnblockRequest(user_id=SOME_ID),
    "ListBlocks": pb.ListBlocksRequest(),
    "Mute": pb.MuteRequest(user_id=SOME_ID),
    "Unmute": pb.UnmuteRequest(user_id=SOME_ID),
    "ListMutes": pb.ListMutesRequest(),
    "React": pb.ReactRequest(target=TARGET, kind=pb.REACTION_KIND_LIKE),
    "Unreact": pb.UnreactRequest(target=TARGET),
    "GetReactionCounts": pb.GetReactionCountsRequest(targets=[TARGET]),
    "ListReactions": pb.ListReactionsRequest(target=TARGET),
    "ListNotifications": pb.ListNotificationsRequest(),
    "CountUnreadNotifications": pb.CountUnreadNotificationsRequest(),
    "MarkNotificationsRead": pb.MarkNotificationsReadRequest(),
}
# A user's own relationships, reactions and notifications: a service has none.
USERS_ONLY = (
    "Follow",
    "Unfollow",
    "ApproveFollowRequest",
    "RejectFollowRequest",
    "ListFollowRequests",
    "Block",
    "Unblock",
    "ListBlocks",
    "Mute",
    "Unmute",
    "ListMutes",
    "React",
    "Unreact",
    "ListNotifications",
    "CountUnreadNotifications",
    "MarkNotificationsRead",
)


def test_every_rpc_of_the_contract_is_covered():
    methods = pb.DESCRIPTOR.services_by_name["SocialService"].methods_by_name

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


@pytest.mark.parametrize("method", USERS_ONLY)
async def test_a_service_has_no_relationships_of_its_own(stub, rejected, service_auth, method):
    failure = await rejected(getattr(stub, method)(EVERY_CALL[method], metadata=service_auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["USER_REQUIRED"]
