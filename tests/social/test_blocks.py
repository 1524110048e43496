"""Block ends follows both ways (requests too) with their counts and friendship, and keeps
either user from following the other until Unblock."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb

from .conftest import follow, listed, lock, relationship, stats


async def block(stub, who, whom) -> None:
    await stub.Block(pb.BlockRequest(user_id=whom.id), metadata=who.auth)


async def test_block_ends_the_friendship_and_both_follows(stub, alice, bob):
    await follow(stub, alice, bob)
    await follow(stub, bob, alice)

    await block(stub, alice, bob)

    assert await stats(stub, alice, alice) == (0, 0, 0)
    assert await stats(stub, alice, bob) == (0, 0, 0)
    seen = await relationship(stub, alice, bob)
    assert (seen.following, seen.followed_by, seen.friends) == (False, False, False)
    assert (seen.blocking, seen.blocked_by) == (True, False)
    assert (await relationship(stub, bob, alice)).blocked_by is True


async def test_block_withdraws_pending_requests_both_ways(stub, users_stub, alice, bob):
    await lock(users_stub, alice)
    await lock(users_stub, bob)
    await follow(stub, alice, bob)
    await follow(stub, bob, alice)

    await block(stub, bob, alice)

    for account in (alice, bob):
        requests = await listed(
            stub.ListFollowRequests, pb.ListFollowRequestsRequest(), account, "requests"
        )
        assert requests == []


@pytest.mark.parametrize("blocker", ["followee", "follower"])
async def test_nobody_follows_across_a_block(stub, rejected, alice, bob, blocker):
    await block(stub, *((bob, alice) if blocker == "followee" else (alice, bob)))

    failure = await rejected(stub.Follow(pb.FollowRequest(user_id=bob.id), metadata=alice.auth))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["BLOCKED"]
    assert await stats(stub, alice, bob) == (0, 0, 0)


async def test_unblock_lets_them_follow_again(stub, alice, bob):
    await block(stub, bob, alice)

    await stub.Unblock(pb.UnblockRequest(user_id=alice.id), metadata=bob.auth)

    assert await follow(stub, alice, bob) == pb.FOLLOW_STATE_ACTIVE
    assert (await relationship(stub, bob, alice)).blocking is False


async def test_block_and_unblock_are_idempotent(stub, alice, bob):
    await block(stub, alice, bob)
    await block(stub, alice, bob)
    blocks = await listed(stub.ListBlocks, pb.ListBlocksRequest(), alice, "blocks")
    assert blocks == [bob.id]

    for _ in range(2):
        await stub.Unblock(pb.UnblockRequest(user_id=bob.id), metadata=alice.auth)

    assert await listed(stub.ListBlocks, pb.ListBlocksRequest(), alice, "blocks") == []


async def test_blocks_are_listed_newest_first_to_the_blocker_only(stub, accounts, alice, bob):
    others = [await accounts.create() for _ in range(3)]
    for other in others:
        await block(stub, alice, other)

    mine = await listed(stub.ListBlocks, pb.ListBlocksRequest(page_size=2), alice, "blocks")

    assert mine == [other.id for other in reversed(others)]
    assert await listed(stub.ListBlocks, pb.ListBlocksRequest(), bob, "blocks") == []


async def test_a_block_is_never_notified(stub, alice, bob):
    await block(stub, alice, bob)

    reply = await stub.ListNotifications(pb.ListNotificationsRequest(), metadata=bob.auth)

    assert list(reply.notifications) == []


@pytest.mark.parametrize(
    ("user_id", "code"),
    [
        (str(uuid.uuid4()), grpc.StatusCode.NOT_FOUND),
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=["unknown", "empty", "not a uuid"],
)
async def test_block_needs_an_existing_user(stub, rejected, alice, user_id, code):
    failure = await rejected(stub.Block(pb.BlockRequest(user_id=user_id), metadata=alice.auth))

    assert failure.code == code


async def test_blocking_oneself_is_invalid(stub, rejected, alice):
    failure = await rejected(stub.Block(pb.BlockRequest(user_id=alice.id), metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["user_id"]
