"""GetUser and BatchGetUsers: visibility of email, field masks, missing and malformed ids."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def get_user(stub, user_id: str, auth, paths: list[str] | None = None):
    request = users_pb2.GetUserRequest(id=user_id)
    if paths is not None:
        request.read_mask.CopyFrom(field_mask_pb2.FieldMask(paths=paths))
    return stub.GetUser(request, metadata=auth)


async def test_get_user_answers_any_signed_in_caller(alice, bob, stub):
    user = (await get_user(stub, alice.id, bob.auth)).user

    assert user.id == alice.id
    assert user.username == alice.username
    assert user.role == users_pb2.ROLE_USER
    assert user.status == users_pb2.USER_STATUS_ACTIVE


async def test_get_user_hides_email_from_other_users(alice, bob, stub):
    user = (await get_user(stub, alice.id, bob.auth)).user

    assert user.email == ""


async def test_get_user_shows_email_to_the_user_themself(alice, stub):
    user = (await get_user(stub, alice.id, alice.auth)).user

    assert user.email == alice.email


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_get_user_shows_email_to_staff(alice, accounts, stub, role):
    staff = await accounts.create(role=role)

    user = (await get_user(stub, alice.id, staff.auth)).user

    assert user.email == alice.email


async def test_get_user_read_mask_returns_only_the_named_fields_and_the_id(alice, stub):
    user = (await get_user(stub, alice.id, alice.auth, ["username"])).user

    assert user == users_pb2.User(id=alice.id, username=alice.username)


async def test_get_user_read_mask_cannot_reveal_anothers_email(alice, bob, stub):
    user = (await get_user(stub, alice.id, bob.auth, ["username", "email"])).user

    assert user == users_pb2.User(id=alice.id, username=alice.username)


async def test_get_user_of_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(get_user(stub, str(uuid.uuid4()), alice.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "1234"])
async def test_get_user_with_malformed_id_is_invalid(alice, stub, rejected, bad_id):
    failure = await rejected(get_user(stub, bad_id, alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["id"]


async def test_get_user_with_unknown_read_mask_path_is_invalid(alice, stub, rejected):
    failure = await rejected(get_user(stub, alice.id, alice.auth, ["username", "password_hash"]))

    assert failure.code == INVALID
    assert failure.fields == ["read_mask"]


async def test_batch_get_users_returns_found_users_in_request_order_and_lists_missing(
    accounts, alice, stub
):
    others = [await accounts.create() for _ in range(3)]
    missing = str(uuid.uuid4())
    ids = [others[2].id, missing, alice.id, others[0].id]

    response = await stub.BatchGetUsers(
        users_pb2.BatchGetUsersRequest(ids=ids), metadata=alice.auth
    )

    assert [u.id for u in response.users] == [others[2].id, alice.id, others[0].id]
    assert list(response.missing_ids) == [missing]


async def test_batch_get_users_shows_email_only_of_the_caller(alice, bob, stub):
    response = await stub.BatchGetUsers(
        users_pb2.BatchGetUsersRequest(ids=[alice.id, bob.id]), metadata=alice.auth
    )

    assert [u.email for u in response.users] == [alice.email, ""]


async def test_batch_get_users_applies_the_read_mask(alice, bob, stub):
    request = users_pb2.BatchGetUsersRequest(ids=[alice.id, bob.id])
    request.read_mask.paths.append("display_name")

    response = await stub.BatchGetUsers(request, metadata=alice.auth)

    assert list(response.users) == [
        users_pb2.User(id=alice.id, display_name=alice.username),
        users_pb2.User(id=bob.id, display_name=bob.username),
    ]


async def test_batch_get_users_accepts_100_ids(alice, stub):
    ids = [alice.id] + [str(uuid.uuid4()) for _ in range(99)]

    response = await stub.BatchGetUsers(
        users_pb2.BatchGetUsersRequest(ids=ids), metadata=alice.auth
    )

    assert [u.id for u in response.users] == [alice.id]
    assert len(response.missing_ids) == 99


async def test_batch_get_users_rejects_more_than_100_ids(alice, stub, rejected):
    ids = [str(uuid.uuid4()) for _ in range(101)]

    failure = await rejected(
        stub.BatchGetUsers(users_pb2.BatchGetUsersRequest(ids=ids), metadata=alice.auth)
    )

    assert failure.code == INVALID
    assert failure.fields == ["ids"]


async def test_batch_get_users_rejects_a_malformed_id(alice, stub, rejected):
    failure = await rejected(
        stub.BatchGetUsers(
            users_pb2.BatchGetUsersRequest(ids=[alice.id, "not-a-uuid"]), metadata=alice.auth
        )
    )

    assert failure.code == INVALID
    assert len(failure.fields) == 1
    assert failure.fields[0].startswith("ids")
