"""Refund: part or all of a tip back to its sender, by its recipient or an admin."""

from __future__ import annotations

import asyncio

import grpc

from daira.payments.v1 import payments_pb2 as pb

from .conftest import available, fund, key, ledger_sums, tip

FAILED = grpc.StatusCode.FAILED_PRECONDITION


async def refund(
    stub, who, transaction_id: str, amount: int, request_id: str = ""
) -> pb.Transaction:
    request = pb.RefundRequest(
        transaction_id=transaction_id,
        amount=amount,
        reason="sent by mistake",
        request_id=request_id or key(),
    )
    return (await stub.Refund(request, metadata=who.auth)).transaction


async def test_the_recipient_refunds_part_of_a_tip(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 200)  # fee 10: bob has 190
    back = await refund(stub, bob, sent.id, 100)
    assert back.type == pb.TRANSACTION_TYPE_REFUND
    assert (back.payer_id, back.payee_id, back.refunded_transaction_id) == (
        bob.id,
        alice.id,
        sent.id,
    )
    # Half the tip back: half the fee comes from the platform, the rest from bob.
    assert (back.amount, back.fee) == (100, 5)
    assert await available(stub, alice) == 900
    assert await available(stub, bob) == 95
    shown = await stub.GetTransaction(pb.GetTransactionRequest(id=sent.id), metadata=alice.auth)
    assert shown.transaction.refunded_amount == 100


async def test_partial_refunds_in_full_return_exactly_the_fee(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 99)  # fee 4 (4.95 rounded down)
    fees = [(await refund(stub, bob, sent.id, part)).fee for part in (33, 33, 33)]
    assert sum(fees) == 4
    assert await available(stub, alice) == 1_000
    assert await available(stub, bob) == 0
    assert await ledger_sums(ledger_db) == []


async def test_refunds_beyond_what_remains_of_the_tip_are_refused(
    stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    await refund(stub, bob, sent.id, 60)
    failure = await rejected(refund(stub, bob, sent.id, 41))
    assert failure.code == FAILED and "REFUND_EXCEEDS_TIP" in failure.reasons
    assert await available(stub, alice) == 960


async def test_concurrent_refunds_never_add_up_to_more_than_the_tip(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    await fund(stub, sandbox, bob, 1_000)  # bob can pay back whatever is allowed
    results = await asyncio.gather(
        *(refund(stub, bob, sent.id, 30) for _ in range(10)), return_exceptions=True
    )
    done = [r for r in results if isinstance(r, pb.Transaction)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(done) == 3 and len(refused) == 7
    assert all(r.code() == FAILED for r in refused)
    [(total,)] = await ledger_db.rows(
        "SELECT sum(amount) FROM transfers WHERE refund_of = %s", sent.id
    )
    assert total == 90


async def test_the_sender_of_a_tip_may_not_refund_it(stub, sandbox, alice, bob, rejected) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    failure = await rejected(refund(stub, alice, sent.id, 10))
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_stranger_does_not_find_the_tip(stub, sandbox, alice, bob, carol, rejected) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    failure = await rejected(refund(stub, carol, sent.id, 10))
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_an_admin_refunds_any_tip(stub, sandbox, alice, bob, admin) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    await refund(stub, admin, sent.id, 100)
    assert (await available(stub, alice), await available(stub, bob)) == (1_000, 0)


async def test_only_tips_can_be_refunded(stub, sandbox, alice, admin, rejected) -> None:
    payment = await fund(stub, sandbox, alice, 1_000)
    failure = await rejected(refund(stub, admin, payment.transaction_id, 10))
    assert failure.code == FAILED and "NOT_REFUNDABLE" in failure.reasons


async def test_a_recipient_who_spent_the_tip_cannot_refund_it(
    stub, sandbox, alice, bob, carol, rejected
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    await tip(stub, bob, carol, 95)
    failure = await rejected(refund(stub, bob, sent.id, 50))
    assert failure.code == FAILED and "INSUFFICIENT_FUNDS" in failure.reasons
    assert await available(stub, alice) == 900


async def test_a_retried_refund_moves_money_once(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    request_id = key()
    first = await refund(stub, bob, sent.id, 40, request_id)
    again = await refund(stub, bob, sent.id, 40, request_id)
    assert again.id == first.id
    assert await available(stub, alice) == 940


async def test_a_refund_of_nothing_is_invalid_argument(stub, sandbox, alice, bob, rejected) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    failure = await rejected(refund(stub, bob, sent.id, 0))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["amount"]
