"""The locked setting: a profile field the owner sets, shown on the profile and the user."""

from __future__ import annotations

import grpc

from daira.users.v1 import users_pb2


def set_locked(stub, account, locked: bool, user_id: str = ""):
    request = users_pb2.UpdateProfileRequest(
        profile=users_pb2.Profile(user_id=user_id or account.id, locked=locked)
    )
    request.update_mask.paths.append("locked")
    return stub.UpdateProfile(request, metadata=account.auth)


async def get_user(stub, viewer, user_id: str) -> users_pb2.User:
    return (await stub.GetUser(users_pb2.GetUserRequest(id=user_id), metadata=viewer.auth)).user


async def test_a_new_account_is_not_locked(alice, bob, stub):
    profile = await stub.GetProfile(users_pb2.GetProfileRequest(), metadata=alice.auth)

    assert profile.profile.locked is False
    assert (await get_user(stub, bob, alice.id)).locked is False


async def test_the_owner_locks_and_unlocks_and_every_read_shows_it_at_once(alice, bob, stub):
    locked = (await set_locked(stub, alice, True)).profile

    assert locked.locked is True
    assert (await get_user(stub, bob, alice.id)).locked is True
    request = users_pb2.GetProfileRequest(user_id=alice.id)
    assert (await stub.GetProfile(request, metadata=bob.auth)).profile.locked is True

    await set_locked(stub, alice, False)

    assert (await get_user(stub, bob, alice.id)).locked is False


async def test_locking_leaves_the_other_fields_alone(alice, stub):
    before = (await stub.GetProfile(users_pb2.GetProfileRequest(), metadata=alice.auth)).profile

    after = (await set_locked(stub, alice, True)).profile

    assert after.display_name == before.display_name
    assert after.bio == before.bio
    assert after.etag != before.etag


async def test_nobody_else_may_lock_an_account(alice, bob, stub, rejected):
    failure = await rejected(set_locked(stub, bob, True, user_id=alice.id))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await get_user(stub, alice, alice.id)).locked is False


async def test_a_service_sees_whether_a_user_is_locked(alice, stub, service_auth):
    await set_locked(stub, alice, True)
    request = users_pb2.BatchGetUsersRequest(ids=[alice.id])
    request.read_mask.paths.extend(["status", "locked"])

    reply = await stub.BatchGetUsers(request, metadata=service_auth)

    assert [(u.id, u.locked) for u in reply.users] == [(alice.id, True)]
