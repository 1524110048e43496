"""Text with a NUL character, which PostgreSQL cannot store, is bad input, never a crash."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_register_refuses_a_nul_in_the_email(accounts, stub, rejected):
    request = accounts.new_registration()
    request.email = "a\x00b@example.com"

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["email"]


async def test_register_refuses_a_nul_in_the_display_name(accounts, stub, rejected):
    request = accounts.new_registration(display_name="bad\x00name")

    failure = await rejected(stub.Register(request))

    assert failure.code == INVALID
    assert failure.fields == ["display_name"]


async def test_login_with_a_nul_is_just_wrong_credentials(stub, rejected):
    request = users_pb2.LoginRequest(login="who\x00ever", password="whatever-password")

    failure = await rejected(stub.Login(request))

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


async def test_search_refuses_a_nul_in_the_query(alice, stub, rejected):
    request = users_pb2.SearchUsersRequest(query="ab\x00cd")

    failure = await rejected(stub.SearchUsers(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["query"]


async def test_update_profile_refuses_a_nul_in_the_bio(alice, stub, rejected):
    request = users_pb2.UpdateProfileRequest(
        profile=users_pb2.Profile(user_id=alice.id, bio="hello\x00"),
        update_mask=field_mask_pb2.FieldMask(paths=["bio"]),
    )

    failure = await rejected(stub.UpdateProfile(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["profile.bio"]


async def test_set_user_status_refuses_a_nul_in_the_reason(bob, admin, stub, rejected):
    request = users_pb2.SetUserStatusRequest(
        user_id=bob.id, status=users_pb2.USER_STATUS_BANNED, reason="spam\x00"
    )

    failure = await rejected(stub.SetUserStatus(request, metadata=admin.auth))

    assert failure.code == INVALID
    assert failure.fields == ["reason"]


async def test_reserve_storage_refuses_a_nul_in_the_request_id(alice, stub, service_auth, rejected):
    request = users_pb2.ReserveStorageRequest(user_id=alice.id, bytes=10, request_id="r\x00")

    failure = await rejected(stub.ReserveStorage(request, metadata=service_auth))

    assert failure.code == INVALID
    assert failure.fields == ["request_id"]


async def test_set_subscription_tier_refuses_a_nul_in_the_tier(alice, admin, stub, rejected):
    request = users_pb2.SetSubscriptionTierRequest(user_id=alice.id, tier="pro\x00")

    failure = await rejected(stub.SetSubscriptionTier(request, metadata=admin.auth))

    assert failure.code == INVALID
    assert failure.fields == ["tier"]
