"""LookupUsers: exact usernames, ignoring case, in one call."""

from __future__ import annotations

import grpc

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def lookup(stub, auth, *names: str):
    return stub.LookupUsers(users_pb2.LookupUsersRequest(usernames=list(names)), metadata=auth)


async def test_lookup_finds_users_by_exact_username_ignoring_case(alice, bob, stub):
    found = (await lookup(stub, alice.auth, alice.username.upper(), bob.username)).users

    assert {u.id for u in found} == {alice.id, bob.id}


async def test_lookup_leaves_out_unknown_names(alice, stub):
    found = (await lookup(stub, alice.auth, alice.username, "nobody_by_that_name")).users

    assert [u.id for u in found] == [alice.id]


async def test_lookup_hides_other_users_email(alice, bob, stub):
    found = (await lookup(stub, alice.auth, bob.username)).users

    assert found[0].email == ""


async def test_lookup_by_a_service_shows_the_email(alice, stub, service_auth):
    found = (await lookup(stub, service_auth, alice.username)).users

    assert found[0].email != ""


async def test_lookup_does_not_find_deleted_users(accounts, stub, admin):
    gone = await accounts.create()
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=gone.id), metadata=gone.auth)

    assert (await lookup(stub, admin.auth, gone.username)).users == []


async def test_lookup_refuses_more_than_100_names(alice, stub, rejected):
    failure = await rejected(lookup(stub, alice.auth, *[f"user_{n}" for n in range(101)]))

    assert failure.code == INVALID
    assert failure.fields == ["usernames"]


async def test_lookup_refuses_a_malformed_name(alice, stub, rejected):
    failure = await rejected(lookup(stub, alice.auth, alice.username, "no spaces"))

    assert failure.code == INVALID
    assert failure.fields == ["usernames[1]"]


async def test_lookup_needs_a_token(alice, stub, rejected):
    failure = await rejected(lookup(stub, (), alice.username))

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
