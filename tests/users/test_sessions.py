"""Sessions: refresh-token rotation, reuse detection, logout and listing."""

from __future__ import annotations

import asyncio

import grpc

from daira.users.v1 import users_pb2

from .conftest import bearer

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def refresh(stub, token: str):
    return stub.RefreshSession(users_pb2.RefreshSessionRequest(refresh_token=token))


async def test_refresh_returns_a_new_token_pair_for_the_same_session(alice, stub):
    rotated = await refresh(stub, alice.refresh_token)

    assert rotated.refresh_token and rotated.refresh_token != alice.refresh_token
    assert rotated.access_token
    assert rotated.session_id == alice.session_id
    got = await stub.GetUser(
        users_pb2.GetUserRequest(id=alice.id), metadata=bearer(rotated.access_token)
    )
    assert got.user.id == alice.id


async def test_refresh_with_a_rotated_token_is_unauthenticated(alice, stub, rejected):
    await refresh(stub, alice.refresh_token)

    failure = await rejected(refresh(stub, alice.refresh_token))

    assert failure.code == UNAUTHENTICATED


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(alice, stub, rejected):
    newest = await refresh(stub, alice.refresh_token)
    await rejected(refresh(stub, alice.refresh_token))

    failure = await rejected(refresh(stub, newest.refresh_token))

    assert failure.code == UNAUTHENTICATED


async def test_refresh_chain_keeps_working_while_each_token_is_used_once(alice, stub):
    token = alice.refresh_token
    for _ in range(3):
        token = (await refresh(stub, token)).refresh_token

    assert (await refresh(stub, token)).session_id == alice.session_id


async def test_refresh_with_a_garbage_token_is_unauthenticated(stub, rejected):
    for garbage in ("garbage", "a.b.c", "x" * 300):
        failure = await rejected(refresh(stub, garbage))
        assert failure.code == UNAUTHENTICATED


async def test_refresh_with_a_forged_secret_does_not_end_the_session(alice, stub, rejected):
    forged = alice.session_id.replace("-", "") + ".forged-secret"

    failure = await rejected(refresh(stub, forged))

    assert failure.code == UNAUTHENTICATED
    assert (await refresh(stub, alice.refresh_token)).session_id == alice.session_id


async def test_parallel_refreshes_of_one_token_rotate_it_once(alice, stub):
    outcomes = await asyncio.gather(
        *(refresh(stub, alice.refresh_token) for _ in range(5)), return_exceptions=True
    )

    successes = [o for o in outcomes if isinstance(o, users_pb2.RefreshSessionResponse)]
    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(successes) == 1
    assert codes == [UNAUTHENTICATED] * 4


async def test_refresh_with_an_empty_token_is_rejected(stub, rejected):
    failure = await rejected(refresh(stub, ""))

    assert failure.code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.INVALID_ARGUMENT)


async def test_logout_without_session_id_ends_the_current_session(alice, stub, rejected):
    await stub.Logout(users_pb2.LogoutRequest(), metadata=alice.auth)

    failure = await rejected(refresh(stub, alice.refresh_token))

    assert failure.code == UNAUTHENTICATED


async def test_logout_of_a_named_session_ends_only_that_one(alice, accounts, stub, rejected):
    other = await accounts.login(alice.username, alice.password, device="tablet")

    await stub.Logout(users_pb2.LogoutRequest(session_id=other.session_id), metadata=alice.auth)

    assert (await rejected(refresh(stub, other.refresh_token))).code == UNAUTHENTICATED
    assert (await refresh(stub, alice.refresh_token)).session_id == alice.session_id


async def test_logout_of_someone_elses_session_is_not_found(alice, bob, stub, rejected):
    failure = await rejected(
        stub.Logout(users_pb2.LogoutRequest(session_id=bob.session_id), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert (await refresh(stub, bob.refresh_token)).session_id == bob.session_id


async def test_logout_with_a_malformed_session_id_is_invalid(alice, stub, rejected):
    failure = await rejected(
        stub.Logout(users_pb2.LogoutRequest(session_id="not-a-uuid"), metadata=alice.auth)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["session_id"]


async def test_list_sessions_lists_live_sessions_and_marks_the_current_one(alice, accounts, stub):
    tablet = await accounts.login(alice.username, alice.password, device="tablet")
    ended = await accounts.login(alice.username, alice.password, device="laptop")
    await stub.Logout(users_pb2.LogoutRequest(session_id=ended.session_id), metadata=alice.auth)

    sessions = (
        await stub.ListSessions(
            users_pb2.ListSessionsRequest(), metadata=bearer(tablet.access_token)
        )
    ).sessions

    assert {s.id for s in sessions} == {alice.session_id, tablet.session_id}
    assert [s.id for s in sessions if s.current] == [tablet.session_id]
    assert {s.device for s in sessions} == {"pytest", "tablet"}
    assert [s.id for s in sessions] == [tablet.session_id, alice.session_id]  # newest first


async def test_list_sessions_shows_only_the_callers_sessions(alice, bob, stub):
    sessions = (
        await stub.ListSessions(users_pb2.ListSessionsRequest(), metadata=alice.auth)
    ).sessions

    assert bob.session_id not in {s.id for s in sessions}


async def test_revoke_all_sessions_counts_and_ends_every_session(alice, accounts, stub, rejected):
    others = [await accounts.login(alice.username, alice.password) for _ in range(2)]

    response = await stub.RevokeAllSessions(
        users_pb2.RevokeAllSessionsRequest(), metadata=alice.auth
    )

    assert response.revoked_count == 3
    for token in [alice.refresh_token, *(o.refresh_token for o in others)]:
        assert (await rejected(refresh(stub, token))).code == UNAUTHENTICATED
