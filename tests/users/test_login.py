"""Login: credentials for tokens, throttling of guessing, and refused accounts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc

from daira.users.v1 import users_pb2

from .conftest import unique

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


async def test_login_by_username_returns_tokens_session_and_user(accounts, stub):
    request = accounts.new_registration()
    registered = (await stub.Register(request)).user

    login = await accounts.login(request.username, request.password, device="phone")

    assert login.access_token
    assert login.refresh_token
    assert login.session_id
    assert login.access_token_expire_time.ToDatetime(UTC) > datetime.now(UTC)
    assert login.refresh_token_expire_time.ToDatetime(UTC) > datetime.now(UTC)
    assert login.user.id == registered.id
    assert login.user.username == request.username


async def test_login_access_token_authenticates_calls(accounts, stub):
    request = accounts.new_registration()
    registered = (await stub.Register(request)).user
    login = await accounts.login(request.username, request.password)

    got = await stub.GetUser(
        users_pb2.GetUserRequest(id=registered.id),
        metadata=(("authorization", f"Bearer {login.access_token}"),),
    )

    assert got.user.id == registered.id


async def test_login_by_email_ignores_case(accounts, stub):
    request = accounts.new_registration()
    registered = (await stub.Register(request)).user

    login = await accounts.login(request.email.upper(), request.password)

    assert login.user.id == registered.id


async def test_login_wrong_password_and_unknown_login_fail_alike(alice, accounts, rejected):
    wrong_password = await rejected(accounts.login(alice.username, "not-the-password"))
    unknown_login = await rejected(accounts.login(unique(), "not-the-password"))

    assert wrong_password.code == UNAUTHENTICATED
    assert unknown_login.code == UNAUTHENTICATED
    assert wrong_password.message == unknown_login.message
    assert wrong_password.reasons == unknown_login.reasons


async def test_login_after_10_failures_is_resource_exhausted_with_retry_info(
    alice, accounts, rejected
):
    for _ in range(10):
        failure = await rejected(accounts.login(alice.username, "not-the-password"))
        assert failure.code == UNAUTHENTICATED

    throttled = await rejected(accounts.login(alice.username, alice.password))

    assert throttled.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert throttled.retry_delay_seconds is not None
    assert 0 < throttled.retry_delay_seconds <= 15 * 60


async def test_login_throttling_is_per_login(alice, bob, accounts, rejected):
    for _ in range(11):
        await rejected(accounts.login(alice.username, "not-the-password"))

    login = await accounts.login(bob.username, bob.password)

    assert login.user.id == bob.id


async def test_login_of_suspended_user_is_permission_denied(
    alice, moderator, stub, accounts, rejected
):
    until = datetime.now(UTC) + timedelta(days=1)
    request = users_pb2.SetUserStatusRequest(
        user_id=alice.id, status=users_pb2.USER_STATUS_SUSPENDED, reason="spam"
    )
    request.until.FromDatetime(until)
    await stub.SetUserStatus(request, metadata=moderator.auth)

    failure = await rejected(accounts.login(alice.username, alice.password))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert "ACCOUNT_SUSPENDED" in failure.reasons


async def test_login_of_banned_user_is_permission_denied(
    alice, moderator, stub, accounts, rejected
):
    await stub.SetUserStatus(
        users_pb2.SetUserStatusRequest(
            user_id=alice.id, status=users_pb2.USER_STATUS_BANNED, reason="abuse"
        ),
        metadata=moderator.auth,
    )

    failure = await rejected(accounts.login(alice.username, alice.password))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert "ACCOUNT_BANNED" in failure.reasons


async def test_parallel_guessing_gets_no_more_than_10_password_checks(alice, accounts):
    outcomes = await asyncio.gather(
        *(accounts.login(alice.username, f"guess-{i}") for i in range(30)),
        return_exceptions=True,
    )

    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(codes) == 30
    assert codes.count(UNAUTHENTICATED) <= 10
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) >= 20
