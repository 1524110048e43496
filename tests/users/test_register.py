"""Register: who may sign up, with what, and what they get."""

from __future__ import annotations

import asyncio
import random
import string

import grpc
import pytest

from daira.users.v1 import users_pb2

from .conftest import unique

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_register_creates_active_user_with_user_role_and_free_tier(accounts, stub):
    request = accounts.new_registration(display_name="Alice A.")

    user = (await stub.Register(request)).user

    assert user.id
    assert user.username == request.username
    assert user.email == request.email
    assert user.display_name == "Alice A."
    assert user.role == users_pb2.ROLE_USER
    assert user.status == users_pb2.USER_STATUS_ACTIVE
    assert user.subscription_tier == "free"
    assert user.HasField("create_time")


async def test_register_lowercases_username(accounts, stub):
    request = accounts.new_registration()
    request.username = request.username.upper()

    user = (await stub.Register(request)).user

    assert user.username == request.username.lower()


async def test_register_defaults_display_name_to_username(accounts, stub):
    request = accounts.new_registration(display_name="")

    user = (await stub.Register(request)).user

    assert user.display_name == request.username


@pytest.mark.parametrize("length", [3, 30])
async def test_register_accepts_username_of_3_to_30_characters(accounts, stub, length):
    name = "".join(random.choices(string.ascii_lowercase + string.digits + "_", k=length))
    request = accounts.new_registration(username=name)
    request.email = f"{unique()}@example.com"

    user = (await stub.Register(request)).user

    assert user.username == name


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "bad-name", "bad name", "bäd_name", ""],
    ids=["too-short", "too-long", "hyphen", "space", "non-ascii", "empty"],
)
async def test_register_rejects_invalid_username(accounts, stub, rejected, username):
    request = accounts.new_registration()
    request.username = username

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["username"]


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
async def test_register_rejects_invalid_email(accounts, stub, rejected, email):
    request = accounts.new_registration()
    request.email = email

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["email"]


@pytest.mark.parametrize("length", [9, 129])
async def test_register_rejects_password_outside_10_to_128_characters(
    accounts, stub, rejected, length
):
    request = accounts.new_registration()
    request.password = "p" * length

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["password"]


@pytest.mark.parametrize("length", [10, 128])
async def test_register_accepts_password_of_10_to_128_characters(accounts, stub, length):
    request = accounts.new_registration()
    request.password = "p" * length

    await stub.Register(request)

    login = await accounts.login(request.username, request.password)
    assert login.access_token


async def test_register_rejects_display_name_longer_than_50(accounts, stub, rejected):
    request = accounts.new_registration(display_name="d" * 51)

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["display_name"]


async def test_register_rejects_duplicate_username_ignoring_case(accounts, stub, rejected):
    first = accounts.new_registration()
    await stub.Register(first)
    second = accounts.new_registration()
    second.username = first.username.upper()

    failure = await rejected(stub.Register(second))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


async def test_register_rejects_duplicate_email_ignoring_case(accounts, stub, rejected):
    first = accounts.new_registration()
    await stub.Register(first)
    second = accounts.new_registration()
    second.email = first.email.upper()

    failure = await rejected(stub.Register(second))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


async def test_register_response_never_contains_the_password_or_its_hash(accounts, stub):
    request = accounts.new_registration()

    response = await stub.Register(request)

    wire = response.SerializeToString()
    assert request.password.encode() not in wire
    assert b"$argon2" not in wire


async def test_parallel_registrations_of_one_username_yield_exactly_one_account(accounts, stub):
    username = unique()
    requests = []
    for _ in range(20):
        request = accounts.new_registration(username=username)
        request.email = f"{unique()}@example.com"
        requests.append(request)

    outcomes = await asyncio.gather(*(stub.Register(r) for r in requests), return_exceptions=True)

    successes = [o for o in outcomes if isinstance(o, users_pb2.RegisterResponse)]
    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(successes) == 1
    assert codes == [grpc.StatusCode.ALREADY_EXISTS] * 19


async def test_parallel_registrations_of_one_email_yield_exactly_one_account(accounts, stub):
    email = f"{unique()}@example.com"
    requests = []
    for _ in range(20):
        request = accounts.new_registration()
        request.email = email
        requests.append(request)

    outcomes = await asyncio.gather(*(stub.Register(r) for r in requests), return_exceptions=True)

    successes = [o for o in outcomes if isinstance(o, users_pb2.RegisterResponse)]
    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(successes) == 1
    assert codes == [grpc.StatusCode.ALREADY_EXISTS] * 19
