"""Storage quota: tiers, usage, idempotent reservations and exactly-once releases."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from daira.users.v1 import users_pb2

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def tier_quotas(stub) -> dict[str, int]:
    tiers = (await stub.ListSubscriptionTiers(users_pb2.ListSubscriptionTiersRequest())).tiers
    return {t.name: t.storage_quota_bytes for t in tiers}


def reserve(stub, service_auth, user_id: str, size: int, request_id: str | None = None):
    request = users_pb2.ReserveStorageRequest(
        user_id=user_id, bytes=size, request_id=request_id or str(uuid.uuid4())
    )
    return stub.ReserveStorage(request, metadata=service_auth)


def release(stub, service_auth, user_id: str, request_id: str):
    request = users_pb2.ReleaseStorageRequest(user_id=user_id, reservation_request_id=request_id)
    return stub.ReleaseStorage(request, metadata=service_auth)


async def usage(stub, account, user_id: str = "") -> users_pb2.StorageUsage:
    request = users_pb2.GetStorageUsageRequest(user_id=user_id)
    return (await stub.GetStorageUsage(request, metadata=account.auth)).usage


async def test_list_subscription_tiers_needs_no_token_and_lists_free_plus_and_pro(stub):
    tiers = (await stub.ListSubscriptionTiers(users_pb2.ListSubscriptionTiersRequest())).tiers

    by_name = {t.name: t for t in tiers}
    assert {"free", "plus", "pro"} <= set(by_name)
    quotas = [by_name[n].storage_quota_bytes for n in ("free", "plus", "pro")]
    assert 0 < quotas[0] < quotas[1] < quotas[2]
    assert by_name["free"].monthly_price_minor == 0
    assert all(t.display_name and len(t.currency) == 3 for t in tiers)


async def test_storage_usage_of_a_new_user_is_zero_of_the_free_quota(alice, stub):
    quotas = await tier_quotas(stub)

    shown = await usage(stub, alice, alice.id)

    assert shown == users_pb2.StorageUsage(
        user_id=alice.id, used_bytes=0, quota_bytes=quotas["free"], subscription_tier="free"
    )


async def test_storage_usage_without_user_id_is_the_callers(alice, stub):
    assert (await usage(stub, alice)).user_id == alice.id


async def test_storage_usage_of_someone_else_is_permission_denied(alice, bob, stub, rejected):
    failure = await rejected(usage(stub, bob, alice.id))

    assert failure.code == DENIED


async def test_admin_may_read_anyones_storage_usage(alice, admin, stub):
    assert (await usage(stub, admin, alice.id)).user_id == alice.id


async def test_a_service_may_read_anyones_storage_usage(alice, stub, service_auth):
    request = users_pb2.GetStorageUsageRequest(user_id=alice.id)

    shown = (await stub.GetStorageUsage(request, metadata=service_auth)).usage

    assert shown.user_id == alice.id


async def test_storage_usage_without_user_id_by_a_service_is_refused(stub, service_auth, rejected):
    failure = await rejected(
        stub.GetStorageUsage(users_pb2.GetStorageUsageRequest(), metadata=service_auth)
    )

    assert failure.code in (INVALID, DENIED)


async def test_storage_usage_of_an_unknown_user_is_not_found(admin, stub, rejected):
    failure = await rejected(usage(stub, admin, str(uuid.uuid4())))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_reserve_storage_adds_the_bytes(alice, stub, service_auth):
    first = (await reserve(stub, service_auth, alice.id, 1000)).usage
    second = (await reserve(stub, service_auth, alice.id, 234)).usage

    assert (first.used_bytes, second.used_bytes) == (1000, 1234)
    assert (await usage(stub, alice)).used_bytes == 1234


async def test_reserve_storage_is_idempotent_on_request_id(alice, stub, service_auth):
    request_id = str(uuid.uuid4())

    first = (await reserve(stub, service_auth, alice.id, 500, request_id)).usage
    again = (await reserve(stub, service_auth, alice.id, 500, request_id)).usage

    assert first.used_bytes == again.used_bytes == 500
    assert (await usage(stub, alice)).used_bytes == 500


async def test_reserve_storage_reusing_a_request_id_with_other_bytes_is_already_exists(
    alice, stub, service_auth, rejected
):
    request_id = str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, 500, request_id)

    failure = await rejected(reserve(stub, service_auth, alice.id, 501, request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert (await usage(stub, alice)).used_bytes == 500


async def test_reserve_storage_reusing_a_request_id_for_another_user_is_already_exists(
    alice, bob, stub, service_auth, rejected
):
    request_id = str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, 500, request_id)

    failure = await rejected(reserve(stub, service_auth, bob.id, 500, request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert (await usage(stub, bob)).used_bytes == 0


@pytest.mark.parametrize("size", [0, -1])
async def test_reserve_storage_rejects_non_positive_bytes(
    alice, stub, service_auth, rejected, size
):
    failure = await rejected(reserve(stub, service_auth, alice.id, size))

    assert failure.code == INVALID
    assert failure.fields == ["bytes"]


async def test_reserve_storage_over_quota_is_failed_precondition_and_counts_nothing(
    alice, stub, service_auth, rejected
):
    quota = (await tier_quotas(stub))["free"]
    await reserve(stub, service_auth, alice.id, quota - 10)

    failure = await rejected(reserve(stub, service_auth, alice.id, 11))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "QUOTA_EXCEEDED" in failure.reasons
    assert (await usage(stub, alice)).used_bytes == quota - 10


async def test_reserve_storage_up_to_exactly_the_quota_succeeds(alice, stub, service_auth):
    quota = (await tier_quotas(stub))["free"]

    shown = (await reserve(stub, service_auth, alice.id, quota)).usage

    assert shown.used_bytes == quota


async def test_a_refused_request_id_can_be_retried_once_there_is_room(
    alice, stub, service_auth, rejected
):
    quota = (await tier_quotas(stub))["free"]
    first = str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, quota, first)
    retried = str(uuid.uuid4())
    await rejected(reserve(stub, service_auth, alice.id, 100, retried))
    await release(stub, service_auth, alice.id, first)

    shown = (await reserve(stub, service_auth, alice.id, 100, retried)).usage

    assert shown.used_bytes == 100


async def test_a_huge_reservation_is_refused_and_counts_nothing(
    alice, stub, service_auth, rejected
):
    await reserve(stub, service_auth, alice.id, 1)

    failure = await rejected(reserve(stub, service_auth, alice.id, 2**63 - 1))

    assert failure.code in (grpc.StatusCode.FAILED_PRECONDITION, INVALID)
    assert (await usage(stub, alice)).used_bytes == 1


async def test_reserve_storage_for_a_deleted_user_is_not_found(alice, stub, service_auth, rejected):
    await stub.DeleteUser(users_pb2.DeleteUserRequest(id=alice.id), metadata=alice.auth)

    failure = await rejected(reserve(stub, service_auth, alice.id, 1))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_reserve_storage_for_an_unknown_user_is_not_found(stub, service_auth, rejected):
    failure = await rejected(reserve(stub, service_auth, str(uuid.uuid4()), 1))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_release_storage_gives_the_bytes_back_exactly_once(alice, stub, service_auth):
    kept, released = str(uuid.uuid4()), str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, 300, kept)
    await reserve(stub, service_auth, alice.id, 700, released)

    first = (await release(stub, service_auth, alice.id, released)).usage
    second = (await release(stub, service_auth, alice.id, released)).usage

    assert first.used_bytes == second.used_bytes == 300
    assert (await usage(stub, alice)).used_bytes == 300


async def test_release_storage_of_an_unknown_reservation_is_not_found(
    alice, stub, service_auth, rejected
):
    failure = await rejected(release(stub, service_auth, alice.id, str(uuid.uuid4())))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_release_storage_of_another_users_reservation_is_not_found(
    alice, bob, stub, service_auth, rejected
):
    request_id = str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, 300, request_id)

    failure = await rejected(release(stub, service_auth, bob.id, request_id))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert (await usage(stub, alice)).used_bytes == 300


async def test_set_subscription_tier_raises_the_quota(alice, admin, stub, service_auth):
    quotas = await tier_quotas(stub)
    await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=alice.auth)  # cached
    request = users_pb2.SetSubscriptionTierRequest(user_id=alice.id, tier="pro")

    shown = (await stub.SetSubscriptionTier(request, metadata=admin.auth)).usage

    assert (shown.subscription_tier, shown.quota_bytes) == ("pro", quotas["pro"])
    assert (await reserve(stub, service_auth, alice.id, quotas["free"] + 1)).usage.used_bytes
    got = await stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=alice.auth)
    assert got.user.subscription_tier == "pro"


async def test_set_subscription_tier_to_an_unknown_tier_is_not_found(alice, admin, stub, rejected):
    request = users_pb2.SetSubscriptionTierRequest(user_id=alice.id, tier="platinum")

    failure = await rejected(stub.SetSubscriptionTier(request, metadata=admin.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert (await usage(stub, alice)).subscription_tier == "free"


async def test_set_subscription_tier_of_an_unknown_user_is_not_found(admin, stub, rejected):
    request = users_pb2.SetSubscriptionTierRequest(user_id=str(uuid.uuid4()), tier="pro")

    failure = await rejected(stub.SetSubscriptionTier(request, metadata=admin.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_parallel_reservations_never_pass_the_quota(alice, stub, service_auth):
    size = (await tier_quotas(stub))["free"] // 10

    outcomes = await asyncio.gather(
        *(reserve(stub, service_auth, alice.id, size) for _ in range(50)),
        return_exceptions=True,
    )

    successes = [o for o in outcomes if isinstance(o, users_pb2.ReserveStorageResponse)]
    codes = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(successes) == 10
    assert codes == [grpc.StatusCode.FAILED_PRECONDITION] * 40
    assert (await usage(stub, alice)).used_bytes == 10 * size


async def test_parallel_retries_of_one_reservation_count_once(alice, stub, service_auth):
    request_id = str(uuid.uuid4())

    outcomes = await asyncio.gather(
        *(reserve(stub, service_auth, alice.id, 4096, request_id) for _ in range(20))
    )

    assert all(o.usage.used_bytes == 4096 for o in outcomes)
    assert (await usage(stub, alice)).used_bytes == 4096


async def test_parallel_releases_of_one_reservation_credit_once(alice, stub, service_auth):
    kept, released = str(uuid.uuid4()), str(uuid.uuid4())
    await reserve(stub, service_auth, alice.id, 1000, kept)
    await reserve(stub, service_auth, alice.id, 4000, released)

    await asyncio.gather(*(release(stub, service_auth, alice.id, released) for _ in range(20)))

    assert (await usage(stub, alice)).used_bytes == 1000
