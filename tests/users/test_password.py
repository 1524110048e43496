"""ChangePassword: proves the current password, and ends every other session."""

from __future__ import annotations

import grpc

from daira.users.v1 import users_pb2

NEW_PASSWORD = "a brand new password"


def change(stub, account, current: str, new: str = NEW_PASSWORD):
    return stub.ChangePassword(
        users_pb2.ChangePasswordRequest(current_password=current, new_password=new),
        metadata=account.auth,
    )


def refresh(stub, token: str):
    return stub.RefreshSession(users_pb2.RefreshSessionRequest(refresh_token=token))


async def test_change_password_with_a_wrong_current_password_is_unauthenticated(
    alice, stub, accounts, rejected
):
    failure = await rejected(change(stub, alice, "not-the-password"))

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert (await accounts.login(alice.username, alice.password)).user.id == alice.id


async def test_change_password_rejects_an_invalid_new_password(alice, stub, rejected):
    for bad in ("short", "x" * 129):
        failure = await rejected(change(stub, alice, alice.password, bad))

        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.fields == ["new_password"]


async def test_after_change_password_only_the_new_password_logs_in(alice, stub, accounts, rejected):
    await change(stub, alice, alice.password)

    old = await rejected(accounts.login(alice.username, alice.password))
    assert old.code == grpc.StatusCode.UNAUTHENTICATED
    assert (await accounts.login(alice.username, NEW_PASSWORD)).user.id == alice.id


async def test_change_password_ends_other_sessions_and_keeps_the_current_one(
    alice, stub, accounts, rejected
):
    other = await accounts.login(alice.username, alice.password, device="old laptop")

    await change(stub, alice, alice.password)

    assert (await rejected(refresh(stub, other.refresh_token))).code == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert (await refresh(stub, alice.refresh_token)).session_id == alice.session_id
