"""Who may call what: tokens, roles and internal RPCs."""

from __future__ import annotations

import uuid

import grpc
import jwt
import pytest

from daira.users.v1 import users_pb2
from shared.auth import Role, TokenService

from .conftest import SECRET, bearer

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED

NON_PUBLIC_CALLS = {
    "Logout": users_pb2.LogoutRequest(),
    "ListSessions": users_pb2.ListSessionsRequest(),
    "RevokeAllSessions": users_pb2.RevokeAllSessionsRequest(),
    "GetUser": users_pb2.GetUserRequest(id=str(uuid.uuid4())),
    "BatchGetUsers": users_pb2.BatchGetUsersRequest(ids=[str(uuid.uuid4())]),
    "SearchUsers": users_pb2.SearchUsersRequest(query="alice"),
    "GetProfile": users_pb2.GetProfileRequest(user_id=str(uuid.uuid4())),
    "UpdateProfile": users_pb2.UpdateProfileRequest(),
    "ChangePassword": users_pb2.ChangePasswordRequest(),
    "DeleteUser": users_pb2.DeleteUserRequest(id=str(uuid.uuid4())),
    "SetUserStatus": users_pb2.SetUserStatusRequest(),
    "GetStorageUsage": users_pb2.GetStorageUsageRequest(),
    "ReserveStorage": users_pb2.ReserveStorageRequest(),
    "ReleaseStorage": users_pb2.ReleaseStorageRequest(),
    "SetSubscriptionTier": users_pb2.SetSubscriptionTierRequest(),
}


@pytest.mark.parametrize("method", sorted(NON_PUBLIC_CALLS))
async def test_non_public_rpc_without_token_is_unauthenticated(stub, rejected, method):
    failure = await rejected(getattr(stub, method)(NON_PUBLIC_CALLS[method]))

    assert failure.code == UNAUTHENTICATED


async def test_public_rpc_needs_no_token(stub):
    tiers = await stub.ListSubscriptionTiers(users_pb2.ListSubscriptionTiersRequest())

    assert tiers.tiers


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(
            {"iss": "daira", "sub": str(uuid.uuid4()), "role": "admin", "exp": 2**33},
            "another-secret-of-at-least-32-characters!",
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "daira", "sub": str(uuid.uuid4()), "role": "admin"}, SECRET, algorithm="HS256"
        ),
    ],
    ids=["garbage", "wrong-signature", "no-expiry"],
)
async def test_invalid_token_is_unauthenticated(alice, stub, rejected, token):
    failure = await rejected(
        stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bearer(token))
    )

    assert failure.code == UNAUTHENTICATED


async def test_expired_token_is_unauthenticated(alice, stub, rejected):
    expired = TokenService(SECRET, -60).issue_access(
        uuid.UUID(alice.id), Role.USER, uuid.UUID(alice.session_id)
    )[0]

    failure = await rejected(
        stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=bearer(expired))
    )

    assert failure.code == UNAUTHENTICATED


async def test_invalid_token_on_a_public_rpc_is_unauthenticated(stub, rejected):
    failure = await rejected(
        stub.ListSubscriptionTiers(
            users_pb2.ListSubscriptionTiersRequest(), metadata=bearer("not-a-jwt")
        )
    )

    assert failure.code == UNAUTHENTICATED


async def test_user_token_on_reserve_storage_is_permission_denied(alice, stub, rejected):
    request = users_pb2.ReserveStorageRequest(
        user_id=alice.id, bytes=1, request_id=str(uuid.uuid4())
    )

    failure = await rejected(stub.ReserveStorage(request, metadata=alice.auth))

    assert failure.code == PERMISSION_DENIED


async def test_admin_token_on_reserve_storage_is_permission_denied(alice, admin, stub, rejected):
    request = users_pb2.ReserveStorageRequest(
        user_id=alice.id, bytes=1, request_id=str(uuid.uuid4())
    )

    failure = await rejected(stub.ReserveStorage(request, metadata=admin.auth))

    assert failure.code == PERMISSION_DENIED


async def test_user_token_on_release_storage_is_permission_denied(alice, stub, rejected):
    request = users_pb2.ReleaseStorageRequest(
        user_id=alice.id, reservation_request_id=str(uuid.uuid4())
    )

    failure = await rejected(stub.ReleaseStorage(request, metadata=alice.auth))

    assert failure.code == PERMISSION_DENIED


async def test_user_token_on_set_user_status_is_permission_denied(alice, bob, stub, rejected):
    request = users_pb2.SetUserStatusRequest(
        user_id=bob.id, status=users_pb2.USER_STATUS_BANNED, reason="x"
    )

    failure = await rejected(stub.SetUserStatus(request, metadata=alice.auth))

    assert failure.code == PERMISSION_DENIED


async def test_moderator_on_set_subscription_tier_is_permission_denied(
    alice, moderator, stub, rejected
):
    request = users_pb2.SetSubscriptionTierRequest(user_id=alice.id, tier="pro")

    failure = await rejected(stub.SetSubscriptionTier(request, metadata=moderator.auth))

    assert failure.code == PERMISSION_DENIED


async def test_user_on_set_subscription_tier_is_permission_denied(alice, stub, rejected):
    request = users_pb2.SetSubscriptionTierRequest(user_id=alice.id, tier="pro")

    failure = await rejected(stub.SetSubscriptionTier(request, metadata=alice.auth))

    assert failure.code == PERMISSION_DENIED


async def test_access_token_of_an_ended_session_cannot_change_the_password(alice, stub, rejected):
    await stub.Logout(users_pb2.LogoutRequest(), metadata=alice.auth)

    failure = await rejected(
        stub.ChangePassword(
            users_pb2.ChangePasswordRequest(
                current_password=alice.password, new_password="a new password"
            ),
            metadata=alice.auth,
        )
    )

    assert failure.code == UNAUTHENTICATED
