"""Follow, Unfollow, follow requests to locked accounts, friendships and the counts that
move with them."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb
from daira.users.v1 import users_pb2

from .conftest import follow, listed, lock, notified, relationship, stats

ACTIVE, PENDING = pb.FOLLOW_STATE_ACTIVE, pb.FOLLOW_STATE_PENDING


async def unfollow(stub, who, whom) -> None:
    await stub.Unfollow(pb.UnfollowRequest(user_id=whom.id), metadata=who.auth)


async def requests(stub, account) -> list[str]:
    return await listed(
        stub.ListFollowRequests, pb.ListFollowRequestsRequest(), account, "requests"
    )


async def test_follow_is_active_and_counted(stub, alice, bob):
    assert await follow(stub, alice, bob) == ACTIVE

    assert await stats(stub, alice, bob) == (1, 0, 0)
    assert await stats(stub, alice, alice) == (0, 1, 0)
    seen = await relationship(stub, alice, bob)
    assert (seen.following, seen.followed_by, seen.friends) == (True, False, False)


async def test_following_twice_changes_nothing(stub, alice, bob):
    await follow(stub, alice, bob)

    assert await follow(stub, alice, bob) == ACTIVE
    assert await stats(stub, alice, bob) == (1, 0, 0)
    assert await notified(stub, bob) == [(pb.NOTIFICATION_KIND_FOLLOW, alice.id)]


async def test_following_oneself_is_invalid(stub, rejected, alice):
    failure = await rejected(stub.Follow(pb.FollowRequest(user_id=alice.id), metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["user_id"]


@pytest.mark.parametrize("user_id", ["", "not-a-uuid"])
async def test_follow_needs_a_user_id(stub, rejected, alice, user_id):
    failure = await rejected(stub.Follow(pb.FollowRequest(user_id=user_id), metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["user_id"]


async def test_following_an_unknown_user_is_not_found(stub, rejected, alice):
    request = pb.FollowRequest(user_id=str(uuid.uuid4()))

    failure = await rejected(stub.Follow(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reasons == ["USER_NOT_FOUND"]


async def test_following_a_deleted_user_is_not_found(stub, users_stub, rejected, alice, bob):
    await users_stub.DeleteUser(users_pb2.DeleteUserRequest(id=bob.id), metadata=bob.auth)

    failure = await rejected(stub.Follow(pb.FollowRequest(user_id=bob.id), metadata=alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_follow_notifies_the_followed_user_only(stub, alice, bob):
    await follow(stub, alice, bob)

    assert await notified(stub, bob) == [(pb.NOTIFICATION_KIND_FOLLOW, alice.id)]
    assert await notified(stub, alice) == []


async def test_unfollow_ends_the_follow_and_its_count(stub, alice, bob):
    await follow(stub, alice, bob)

    await unfollow(stub, alice, bob)

    assert await stats(stub, alice, bob) == (0, 0, 0)
    assert await stats(stub, alice, alice) == (0, 0, 0)
    assert (await relationship(stub, alice, bob)).following is False


async def test_unfollow_without_a_follow_changes_nothing(stub, alice, bob):
    await unfollow(stub, alice, bob)

    assert await stats(stub, alice, bob) == (0, 0, 0)


async def test_unfollowing_oneself_is_invalid(stub, rejected, alice):
    request = pb.UnfollowRequest(user_id=alice.id)

    failure = await rejected(stub.Unfollow(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_mutual_follows_make_a_friendship_and_unfollow_ends_it(stub, alice, bob):
    await follow(stub, alice, bob)
    await follow(stub, bob, alice)

    assert await stats(stub, alice, alice) == (1, 1, 1)
    assert await stats(stub, alice, bob) == (1, 1, 1)
    assert (await relationship(stub, alice, bob)).friends is True
    friends = pb.ListFriendsRequest(user_id=alice.id)
    assert await listed(stub.ListFriends, friends, alice, "friends") == [bob.id]

    await unfollow(stub, bob, alice)

    assert await stats(stub, alice, alice) == (0, 1, 0)
    assert await stats(stub, alice, bob) == (1, 0, 0)
    assert await listed(stub.ListFriends, friends, alice, "friends") == []


# --- locked accounts -------------------------------------------------------------------


async def test_following_a_locked_account_is_a_pending_request(stub, users_stub, alice, bob):
    await lock(users_stub, bob)

    assert await follow(stub, alice, bob) == PENDING

    assert await stats(stub, alice, bob) == (0, 0, 0)
    assert await requests(stub, bob) == [alice.id]
    seen = await relationship(stub, alice, bob)
    assert (seen.requested, seen.following) == (True, False)
    assert await notified(stub, bob) == [(pb.NOTIFICATION_KIND_FOLLOW_REQUEST, alice.id)]
    assert await follow(stub, alice, bob) == PENDING


async def test_approving_a_request_makes_the_follow_active(stub, users_stub, alice, bob):
    await lock(users_stub, bob)
    await follow(stub, alice, bob)

    await stub.ApproveFollowRequest(
        pb.ApproveFollowRequestRequest(user_id=alice.id), metadata=bob.auth
    )

    assert await follow(stub, alice, bob) == ACTIVE
    assert await stats(stub, alice, bob) == (1, 0, 0)
    assert await requests(stub, bob) == []
    assert await notified(stub, alice) == [(pb.NOTIFICATION_KIND_FOLLOW_APPROVED, bob.id)]


async def test_approving_the_request_of_a_followed_user_makes_friends(stub, users_stub, alice, bob):
    await lock(users_stub, alice)
    await follow(stub, alice, bob)
    await follow(stub, bob, alice)

    await stub.ApproveFollowRequest(
        pb.ApproveFollowRequestRequest(user_id=bob.id), metadata=alice.auth
    )

    assert await stats(stub, alice, alice) == (1, 1, 1)
    assert (await relationship(stub, alice, bob)).friends is True


async def test_rejecting_a_request_removes_it(stub, users_stub, alice, bob):
    await lock(users_stub, bob)
    await follow(stub, alice, bob)

    await stub.RejectFollowRequest(
        pb.RejectFollowRequestRequest(user_id=alice.id), metadata=bob.auth
    )

    assert await requests(stub, bob) == []
    assert (await relationship(stub, alice, bob)).requested is False
    assert await notified(stub, alice) == []


async def test_unfollow_withdraws_a_request(stub, users_stub, alice, bob):
    await lock(users_stub, bob)
    await follow(stub, alice, bob)

    await unfollow(stub, alice, bob)

    assert await requests(stub, bob) == []
    assert await stats(stub, alice, bob) == (0, 0, 0)


@pytest.mark.parametrize("call", ["ApproveFollowRequest", "RejectFollowRequest"])
async def test_answering_a_request_that_does_not_exist_is_not_found(
    stub, rejected, alice, bob, call
):
    request = getattr(pb, f"{call}Request")(user_id=alice.id)

    failure = await rejected(getattr(stub, call)(request, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reasons == ["FOLLOW_REQUEST_NOT_FOUND"]


@pytest.mark.parametrize("call", ["ApproveFollowRequest", "RejectFollowRequest"])
async def test_an_active_follow_is_no_request_to_answer(stub, rejected, alice, bob, call):
    await follow(stub, alice, bob)
    request = getattr(pb, f"{call}Request")(user_id=alice.id)

    failure = await rejected(getattr(stub, call)(request, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert await stats(stub, alice, bob) == (1, 0, 0)


async def test_only_the_requested_user_may_answer(stub, users_stub, rejected, alice, bob, carol):
    await lock(users_stub, bob)
    await follow(stub, alice, bob)
    request = pb.ApproveFollowRequestRequest(user_id=alice.id)

    failure = await rejected(stub.ApproveFollowRequest(request, metadata=carol.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert await requests(stub, bob) == [alice.id]


async def test_follow_requests_are_listed_newest_first_in_pages(stub, users_stub, accounts, bob):
    await lock(users_stub, bob)
    askers = [await accounts.create() for _ in range(5)]
    for asker in askers:
        await follow(stub, asker, bob)
    request = pb.ListFollowRequestsRequest(page_size=2)

    pages = []
    while True:
        reply = await stub.ListFollowRequests(request, metadata=bob.auth)
        pages.append([r.user_id for r in reply.requests])
        if not reply.next_page_token:
            break
        request.page_token = reply.next_page_token

    assert pages == [[a.id for a in askers[::-1]][i : i + 2] for i in (0, 2, 4)]
