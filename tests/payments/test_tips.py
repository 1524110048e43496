"""Tip: from the caller's wallet to another's, less the platform fee; refusals move nothing."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from daira.payments.v1 import payments_pb2 as pb
from daira.users.v1 import users_pb2
from services.payments.currencies import MAX_AMOUNT

from .conftest import available, fund, key, ledger_sums, tip

INVALID = grpc.StatusCode.INVALID_ARGUMENT
FAILED = grpc.StatusCode.FAILED_PRECONDITION
# How long payments may still believe a user's old status: the tests' Redis entry
# (user_status_cache_seconds, 1) and the process's near copy (cache_near_ttl_seconds, 2).
STATUS_BELIEVED_SECONDS = 2.5


async def test_a_tip_moves_the_amount_less_a_fee_rounded_down(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 199, note="thanks!")
    # 5% of 199 is 9.95: the platform takes 9, the recipient keeps the fraction.
    assert (sent.amount, sent.fee, sent.note) == (199, 9, "thanks!")
    assert sent.state == pb.TRANSACTION_STATE_POSTED
    assert (sent.payer_id, sent.payee_id) == (alice.id, bob.id)
    assert await available(stub, alice) == 801
    assert await available(stub, bob) == 190


async def test_a_tip_writes_balanced_entries_with_balances_before_and_after(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 500)
    sent = await tip(stub, alice, bob, 100)
    entries = await ledger_db.rows(
        "SELECT side, amount, balance_before, balance_after, user_id::text FROM ledger_entries "
        "WHERE transfer_id = %s ORDER BY side, amount",
        sent.id,
    )
    assert sum(e[1] for e in entries if e[0] == "debit") == 100
    assert sum(e[1] for e in entries if e[0] == "credit") == 100
    by_user = {e[4]: e for e in entries if e[4]}
    assert by_user[alice.id][2:4] == (500, 400)
    assert by_user[bob.id][2:4] == (0, 95)
    assert await ledger_sums(ledger_db) == []


async def test_every_transfer_raises_the_version_of_its_accounts(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 500)
    before = await stub.GetWallet(pb.GetWalletRequest(currency_code="USD"), metadata=alice.auth)
    await tip(stub, alice, bob, 10)
    after = await stub.GetWallet(pb.GetWalletRequest(currency_code="USD"), metadata=alice.auth)
    assert after.wallet.version == before.wallet.version + 1


async def test_tipping_yourself_is_refused(stub, sandbox, alice, rejected) -> None:
    await fund(stub, sandbox, alice, 100)
    failure = await rejected(tip(stub, alice, alice, 10))
    assert failure.code == FAILED and "SELF_TIP" in failure.reasons
    assert await available(stub, alice) == 100


async def test_tipping_beyond_the_available_balance_moves_nothing(
    stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    failure = await rejected(tip(stub, alice, bob, 101))
    assert failure.code == FAILED and "INSUFFICIENT_FUNDS" in failure.reasons
    assert (await available(stub, alice), await available(stub, bob)) == (100, 0)


async def test_a_tip_in_another_currency_than_the_wallet_holds_is_refused(
    stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 100, "USD")
    failure = await rejected(tip(stub, alice, bob, 10, "EUR"))
    assert failure.code == FAILED and "INSUFFICIENT_FUNDS" in failure.reasons
    assert await available(stub, alice, "USD") == 100


async def test_tipping_a_banned_user_is_refused(
    stub, users_stub, sandbox, alice, bob, admin, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    await users_stub.SetUserStatus(
        users_pb2.SetUserStatusRequest(
            user_id=bob.id, status=users_pb2.USER_STATUS_BANNED, reason="spam"
        ),
        metadata=admin.auth,
    )
    failure = await rejected(tip(stub, alice, bob, 10))
    assert failure.code == FAILED and "RECIPIENT_UNAVAILABLE" in failure.reasons
    assert await available(stub, alice) == 100


async def test_a_retry_of_a_tip_made_before_the_recipient_was_banned_answers_with_it(
    stub, users_stub, sandbox, alice, bob, admin, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    first = await tip(stub, alice, bob, 10, request_id="tip-before-ban")
    await users_stub.SetUserStatus(
        users_pb2.SetUserStatusRequest(
            user_id=bob.id, status=users_pb2.USER_STATUS_BANNED, reason="spam"
        ),
        metadata=admin.auth,
    )
    await asyncio.sleep(STATUS_BELIEVED_SECONDS)

    again = await tip(stub, alice, bob, 10, request_id="tip-before-ban")

    assert again.id == first.id
    assert await available(stub, alice) == 90
    failure = await rejected(tip(stub, alice, bob, 10))  # payments does see the ban
    assert "RECIPIENT_UNAVAILABLE" in failure.reasons


async def test_tipping_a_deleted_user_is_refused(
    stub, users_stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    await users_stub.DeleteUser(users_pb2.DeleteUserRequest(id=bob.id), metadata=bob.auth)
    failure = await rejected(tip(stub, alice, bob, 10))
    assert failure.code == FAILED and "RECIPIENT_UNAVAILABLE" in failure.reasons
    assert await available(stub, alice) == 100


async def test_tipping_an_unknown_user_is_refused(stub, sandbox, alice, rejected) -> None:
    await fund(stub, sandbox, alice, 100)
    request = pb.TipRequest(
        recipient_id="01900000-0000-7000-8000-000000000000",
        amount=10,
        currency_code="USD",
        request_id=key(),
    )
    failure = await rejected(stub.Tip(request, metadata=alice.auth))
    assert failure.code == FAILED and "RECIPIENT_UNAVAILABLE" in failure.reasons
    assert await available(stub, alice) == 100


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": MAX_AMOUNT + 1}, "amount"),
        ({"amount": 2**63 - 1}, "amount"),
        ({"currency_code": "XYZ"}, "currency_code"),
        ({"currency_code": "usd"}, "currency_code"),
        ({"currency_code": ""}, "currency_code"),
        ({"note": "x" * 281}, "note"),
        ({"request_id": ""}, "request_id"),
        ({"recipient_id": "not-a-uuid"}, "recipient_id"),
    ],
    ids=lambda value: str(value)[:30],
)
async def test_bad_input_is_invalid_argument_naming_the_field_and_moves_nothing(
    stub, sandbox, alice, bob, rejected, changes, field
) -> None:
    await fund(stub, sandbox, alice, 100)
    values = {
        "recipient_id": bob.id,
        "amount": 10,
        "currency_code": "USD",
        "request_id": key(),
    } | changes
    failure = await rejected(stub.Tip(pb.TipRequest(**values), metadata=alice.auth))
    assert failure.code == INVALID and failure.fields == [field]
    assert await available(stub, alice) == 100


async def test_a_retry_with_the_same_request_id_returns_the_first_tip(
    stub, sandbox, alice, bob
) -> None:
    await fund(stub, sandbox, alice, 100)
    request_id = key()
    first = await tip(stub, alice, bob, 30, request_id=request_id)
    again = await tip(stub, alice, bob, 30, request_id=request_id)
    assert again.id == first.id
    assert await available(stub, alice) == 70


async def test_a_retry_with_other_parameters_is_already_exists_naming_the_key(
    stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    request_id = key()
    await tip(stub, alice, bob, 30, request_id=request_id)
    try:
        await tip(stub, alice, bob, 31, request_id=request_id)
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.ALREADY_EXISTS
        status = rpc_status.from_call(err)
        assert status is not None
        info = error_details_pb2.ErrorInfo()
        assert status.details[0].Unpack(info)
        assert info.reason == "REQUEST_ID_REUSED"
        assert info.metadata["request_id"] == request_id
    else:
        raise AssertionError("the reused request_id was accepted")
    assert await available(stub, alice) == 70


async def test_the_same_request_id_of_two_users_is_two_keys(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 100)
    await fund(stub, sandbox, bob, 100)
    request_id = key()
    await tip(stub, alice, bob, 10, request_id=request_id)
    await tip(stub, bob, alice, 20, request_id=request_id)
    assert (await available(stub, alice), await available(stub, bob)) == (109, 100 + 9 - 20 + 1)


async def test_the_database_refuses_to_change_or_delete_ledger_rows(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 100)
    sent = await tip(stub, alice, bob, 10)
    for statement in (
        "UPDATE ledger_entries SET amount = 1 WHERE transfer_id = %s",
        "DELETE FROM ledger_entries WHERE transfer_id = %s",
        "UPDATE transfers SET amount = 1 WHERE id = %s",
        "DELETE FROM transfers WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"):
            await ledger_db.rows(statement, sent.id)
    with pytest.raises(Exception, match="append-only"):
        await ledger_db.rows("TRUNCATE ledger_entries, transfers CASCADE")
