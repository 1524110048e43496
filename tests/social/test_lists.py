"""Followers, following and friends: newest first in keyset pages, and a locked account's
lists shown to the account, its followers, staff and services only."""

from __future__ import annotations

import grpc
import pytest

from daira.social.v1 import social_pb2 as pb

from .conftest import follow, listed, lock

LISTS = {
    "ListFollowers": (pb.ListFollowersRequest, "followers"),
    "ListFollowing": (pb.ListFollowingRequest, "following"),
    "ListFriends": (pb.ListFriendsRequest, "friends"),
}


async def test_followers_and_following_come_newest_first_across_pages(stub, accounts, alice):
    fans = [await accounts.create() for _ in range(5)]
    for fan in fans:
        await follow(stub, fan, alice)
        await follow(stub, alice, fan)

    followers = await listed(
        stub.ListFollowers,
        pb.ListFollowersRequest(user_id=alice.id, page_size=2),
        alice,
        "followers",
    )
    following = await listed(
        stub.ListFollowing, pb.ListFollowingRequest(page_size=3), alice, "following"
    )
    friends = await listed(
        stub.ListFriends, pb.ListFriendsRequest(user_id=alice.id, page_size=4), fans[0], "friends"
    )

    newest_first = [fan.id for fan in reversed(fans)]
    assert followers == newest_first
    assert following == newest_first
    assert friends == newest_first


async def test_a_list_entry_says_since_when(stub, alice, bob):
    await follow(stub, alice, bob)

    reply = await stub.ListFollowers(pb.ListFollowersRequest(user_id=bob.id), metadata=bob.auth)

    [entry] = reply.followers
    assert entry.user_id == alice.id
    assert entry.create_time.seconds > 0


async def test_a_page_token_belongs_to_its_list(stub, rejected, accounts, alice, bob):
    for fan in [await accounts.create() for _ in range(2)]:
        await follow(stub, fan, alice)
    first = await stub.ListFollowers(
        pb.ListFollowersRequest(user_id=alice.id, page_size=1), metadata=alice.auth
    )

    request = pb.ListFollowersRequest(user_id=bob.id, page_token=first.next_page_token)
    failure = await rejected(stub.ListFollowers(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["page_token"]


@pytest.mark.parametrize(
    ("field", "value"), [("page_token", "garbage"), ("page_size", -1), ("user_id", "nope")]
)
async def test_list_arguments_are_checked(stub, rejected, alice, field, value):
    request = pb.ListFollowersRequest(user_id=alice.id)
    setattr(request, field, value)

    failure = await rejected(stub.ListFollowers(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == [field]


@pytest.mark.parametrize("method", sorted(LISTS))
async def test_a_service_must_name_the_user(stub, rejected, service_auth, method):
    request_type, _ = LISTS[method]

    failure = await rejected(getattr(stub, method)(request_type(), metadata=service_auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["user_id"]


@pytest.mark.parametrize("method", sorted(LISTS))
async def test_a_locked_accounts_lists_are_hidden_from_strangers(
    stub, users_stub, rejected, alice, bob, method
):
    await lock(users_stub, bob)
    request_type, _ = LISTS[method]

    failure = await rejected(
        getattr(stub, method)(request_type(user_id=bob.id), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["ACCOUNT_LOCKED"]


@pytest.mark.parametrize("method", sorted(LISTS))
async def test_a_locked_accounts_lists_are_shown_to_it_and_its_followers_and_staff(
    stub, users_stub, alice, bob, carol, moderator, service_auth, method
):
    await follow(stub, carol, bob)
    await lock(users_stub, bob)
    await follow(stub, alice, bob)
    await stub.ApproveFollowRequest(
        pb.ApproveFollowRequestRequest(user_id=alice.id), metadata=bob.auth
    )
    request_type, field = LISTS[method]
    request = request_type(user_id=bob.id)

    for viewer in (bob.auth, alice.auth, moderator.auth, service_auth):
        reply = await getattr(stub, method)(request, metadata=viewer)
        if method == "ListFollowers":
            assert {c.user_id for c in getattr(reply, field)} == {alice.id, carol.id}


async def test_a_pending_request_does_not_open_a_locked_accounts_lists(
    stub, users_stub, rejected, alice, bob
):
    await lock(users_stub, bob)
    await follow(stub, alice, bob)
    request = pb.ListFollowersRequest(user_id=bob.id)

    failure = await rejected(stub.ListFollowers(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def id_pages(stub, service_auth, call: str, request) -> list[list[str]]:
    """Every page of ListFollowerIds or ListFollowingIds, as service_auth reads them."""
    pages = []
    while True:
        reply = await getattr(stub, call)(request, metadata=service_auth)
        pages.append(list(reply.follower_ids if call == "ListFollowerIds" else reply.followee_ids))
        if not reply.next_page_token:
            return pages
        request.page_token = reply.next_page_token


async def test_follower_ids_are_the_active_followers_newest_first_across_pages(
    stub, accounts, service_auth, users_stub, alice
):
    fans = [await accounts.create() for _ in range(5)]
    for fan in fans:
        await follow(stub, fan, alice)
    requester = await accounts.create()
    await lock(users_stub, alice)
    await follow(stub, requester, alice)
    request = pb.ListFollowerIdsRequest(user_id=alice.id, page_size=2)

    pages = await id_pages(stub, service_auth, "ListFollowerIds", request)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == [fan.id for fan in reversed(fans)]


async def test_following_ids_are_the_active_follows_newest_first_across_pages(
    stub, accounts, service_auth, users_stub, alice
):
    idols = [await accounts.create() for _ in range(5)]
    for idol in idols:
        await follow(stub, alice, idol)
    locked = await accounts.create()
    await lock(users_stub, locked)
    await follow(stub, alice, locked)
    request = pb.ListFollowingIdsRequest(user_id=alice.id, page_size=2)

    pages = await id_pages(stub, service_auth, "ListFollowingIds", request)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == [idol.id for idol in reversed(idols)]


ID_LISTS = {
    "ListFollowerIds": pb.ListFollowerIdsRequest,
    "ListFollowingIds": pb.ListFollowingIdsRequest,
}


@pytest.mark.parametrize("call", ID_LISTS)
@pytest.mark.parametrize(
    ("field", "value"), [("page_token", "garbage"), ("page_size", -1), ("user_id", "nope")]
)
async def test_id_lists_arguments_are_checked(
    stub, rejected, service_auth, alice, call, field, value
):
    request = ID_LISTS[call](user_id=alice.id)
    setattr(request, field, value)

    failure = await rejected(getattr(stub, call)(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == [field]


@pytest.mark.parametrize("call", ID_LISTS)
async def test_id_lists_are_for_services_only(stub, rejected, alice, moderator, call):
    request = ID_LISTS[call](user_id=alice.id)

    for caller in (alice, moderator):
        failure = await rejected(getattr(stub, call)(request, metadata=caller.auth))

        assert failure.code == grpc.StatusCode.PERMISSION_DENIED
        assert failure.reasons == ["ROLE_NOT_ALLOWED"]
