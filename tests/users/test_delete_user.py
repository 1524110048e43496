"""DeleteUser: self or admin; the account disappears and its name and email become free."""

from __future__ import annotations

import uuid

import grpc

from daira.users.v1 import users_pb2


def delete(stub, account, user_id: str):
    return stub.DeleteUser(users_pb2.DeleteUserRequest(id=user_id), metadata=account.auth)


async def test_deleted_user_is_not_found(alice, bob, stub, rejected):
    await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)  # cached

    await delete(stub, alice, alice.id)

    failure = await rejected(stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth))
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_deleted_user_is_missing_from_batch_get(alice, bob, stub):
    await delete(stub, alice, alice.id)

    response = await stub.BatchGetUsers(
        users_pb2.BatchGetUsersRequest(ids=[alice.id, bob.id]), metadata=bob.auth
    )

    assert [u.id for u in response.users] == [bob.id]
    assert list(response.missing_ids) == [alice.id]


async def test_deleting_another_user_is_permission_denied(alice, bob, stub, rejected):
    failure = await rejected(delete(stub, bob, alice.id))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bob.auth)).user


async def test_moderator_may_not_delete_a_user(alice, moderator, stub, rejected):
    failure = await rejected(delete(stub, moderator, alice.id))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_admin_may_delete_a_user(alice, admin, stub, rejected):
    await delete(stub, admin, alice.id)

    failure = await rejected(
        stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=admin.auth)
    )
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_admin_deleting_an_unknown_user_is_not_found(admin, stub, rejected):
    failure = await rejected(delete(stub, admin, str(uuid.uuid4())))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_deleted_user_cannot_log_in(alice, stub, accounts, rejected):
    await delete(stub, alice, alice.id)

    by_username = await rejected(accounts.login(alice.username, alice.password))
    by_email = await rejected(accounts.login(alice.email, alice.password))

    assert by_username.code == grpc.StatusCode.UNAUTHENTICATED
    assert by_email.code == grpc.StatusCode.UNAUTHENTICATED


async def test_deleting_a_user_ends_their_sessions(alice, stub, rejected):
    await delete(stub, alice, alice.id)

    failure = await rejected(
        stub.RefreshSession(users_pb2.RefreshSessionRequest(refresh_token=alice.refresh_token))
    )
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


async def test_deleted_users_username_and_email_can_be_registered_again(alice, stub):
    await delete(stub, alice, alice.id)

    again = await stub.Register(
        users_pb2.RegisterRequest(
            username=alice.username, email=alice.email, password="another password"
        )
    )

    assert again.user.id != alice.id
    assert again.user.username == alice.username


async def test_deleted_users_profile_is_not_found(alice, bob, stub, rejected):
    request = users_pb2.GetProfileRequest(user_id=alice.id)
    await stub.GetProfile(request, metadata=bob.auth)  # cached

    await delete(stub, alice, alice.id)

    failure = await rejected(stub.GetProfile(request, metadata=bob.auth))
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_deleting_a_deleted_user_again_is_not_found(alice, admin, stub, rejected):
    await delete(stub, alice, alice.id)

    failure = await rejected(delete(stub, admin, alice.id))

    assert failure.code == grpc.StatusCode.NOT_FOUND
