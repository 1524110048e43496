"""SetUserStatus: staff suspend, ban and reinstate; sessions end at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
SUSPENDED = users_pb2.USER_STATUS_SUSPENDED
BANNED = users_pb2.USER_STATUS_BANNED
ACTIVE = users_pb2.USER_STATUS_ACTIVE


def set_status(stub, staff, user_id: str, status, until: datetime | None = None, reason="x"):
    request = users_pb2.SetUserStatusRequest(user_id=user_id, status=status, reason=reason)
    if until is not None:
        request.until.FromDatetime(until)
    return stub.SetUserStatus(request, metadata=staff.auth)


def refresh(stub, token: str):
    return stub.RefreshSession(users_pb2.RefreshSessionRequest(refresh_token=token))


async def test_moderator_may_suspend_a_user_until_a_future_time(alice, moderator, stub):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)

    user = (await set_status(stub, moderator, alice.id, SUSPENDED, until)).user

    assert user.id == alice.id
    assert user.status == SUSPENDED
    assert user.status_until.ToDatetime(UTC) == until
    got = await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=moderator.auth)
    assert got.user.status == SUSPENDED


async def test_admin_may_ban_a_user(alice, admin, stub):
    user = (await set_status(stub, admin, alice.id, BANNED)).user

    assert user.status == BANNED


@pytest.mark.parametrize("until", [None, datetime(2000, 1, 1, tzinfo=UTC)], ids=["none", "past"])
async def test_suspension_needs_a_future_until(alice, moderator, stub, rejected, until):
    failure = await rejected(set_status(stub, moderator, alice.id, SUSPENDED, until))

    assert failure.code == INVALID
    assert failure.fields == ["until"]


@pytest.mark.parametrize(
    "status", [users_pb2.USER_STATUS_UNSPECIFIED, users_pb2.USER_STATUS_DELETED, 99]
)
async def test_set_user_status_rejects_unspecified_deleted_or_unknown_status(
    alice, moderator, stub, rejected, status
):
    failure = await rejected(set_status(stub, moderator, alice.id, status))

    assert failure.code == INVALID
    assert failure.fields == ["status"]


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_moderator_may_not_change_a_staff_members_status(
    moderator, accounts, stub, rejected, role
):
    target = await accounts.create(role=role)

    failure = await rejected(set_status(stub, moderator, target.id, BANNED))

    assert failure.code == DENIED
    assert (await accounts.login(target.username, target.password)).user.id == target.id


async def test_admin_may_change_a_moderators_status(admin, accounts, stub):
    target = await accounts.create(role="moderator")

    user = (await set_status(stub, admin, target.id, BANNED)).user

    assert user.status == BANNED


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_nobody_may_change_their_own_status(accounts, stub, rejected, role):
    staff = await accounts.create(role=role)

    failure = await rejected(set_status(stub, staff, staff.id, BANNED))

    assert failure.code == DENIED
    assert (await accounts.login(staff.username, staff.password)).user.id == staff.id


async def test_set_user_status_of_an_unknown_user_is_not_found(moderator, stub, rejected):
    failure = await rejected(set_status(stub, moderator, str(uuid.uuid4()), BANNED))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_deleted_user_cannot_be_reinstated(alice, admin, stub, rejected):
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=alice.auth)

    failure = await rejected(set_status(stub, admin, alice.id, ACTIVE))

    assert failure.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("status", [SUSPENDED, BANNED], ids=["suspend", "ban"])
async def test_set_user_status_ends_the_users_sessions_at_once(
    alice, moderator, stub, rejected, status
):
    until = datetime.now(UTC) + timedelta(days=1) if status == SUSPENDED else None

    await set_status(stub, moderator, alice.id, status, until)

    failure = await rejected(refresh(stub, alice.refresh_token))
    assert failure.code in (grpc.StatusCode.UNAUTHENTICATED, DENIED)


async def test_a_suspension_whose_end_has_passed_no_longer_blocks_login(
    alice, moderator, stub, accounts, rejected
):
    until = datetime.now(UTC) + timedelta(seconds=2)
    await set_status(stub, moderator, alice.id, SUSPENDED, until)
    blocked = await rejected(accounts.login(alice.username, alice.password))
    assert blocked.code == DENIED
    read = await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=moderator.auth)
    assert read.user.status == SUSPENDED

    await asyncio.sleep((until - datetime.now(UTC)).total_seconds() + 0.2)

    login = await accounts.login(alice.username, alice.password)
    assert login.user.status == ACTIVE
    got = await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=moderator.auth)
    assert got.user.status == ACTIVE


async def test_active_reinstates_a_banned_user(alice, moderator, stub, accounts):
    await set_status(stub, moderator, alice.id, BANNED)

    user = (await set_status(stub, moderator, alice.id, ACTIVE)).user

    assert user.status == ACTIVE
    assert (await accounts.login(alice.username, alice.password)).user.id == alice.id


async def test_status_change_shows_at_once_in_get_user(alice, bob, moderator, stub):
    await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)  # cached

    await set_status(stub, moderator, alice.id, BANNED)

    got = await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)
    assert got.user.status == BANNED


async def test_set_user_status_refuses_an_until_outside_the_calendar(bob, admin, stub, rejected):
    request = users_pb2.SetUserStatusRequest(
        user_id=bob.id,
        status=users_pb2.USER_STATUS_SUSPENDED,
        reason="spam",
        until=timestamp_pb2.Timestamp(seconds=2**62),
    )

    failure = await rejected(stub.SetUserStatus(request, metadata=admin.auth))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["until"]
