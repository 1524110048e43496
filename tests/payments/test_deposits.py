"""CreateDeposit and the sandbox simulator's events: credited on success, FAILED otherwise."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb

from .conftest import available, key, ledger_sums, silent_deposit

FAILED = grpc.StatusCode.FAILED_PRECONDITION


def deposit_request(amount: int, behavior: int, request_id: str = "") -> pb.CreateDepositRequest:
    return pb.CreateDepositRequest(
        amount=amount,
        currency_code="USD",
        provider=pb.PROVIDER_SANDBOX,
        request_id=request_id or key(),
        sandbox_behavior=behavior,
    )


async def settled(stub, who, request: pb.CreateDepositRequest, wait: float = 5.0) -> pb.Payment:
    """The deposit once it is no longer pending, read by retrying its request."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        payment = (await stub.CreateDeposit(request, metadata=who.auth)).payment
        if payment.state != pb.PAYMENT_STATE_PENDING or loop.time() > deadline:
            return payment
        await asyncio.sleep(0.02)


async def test_a_deposit_starts_pending_with_the_providers_reference(stub, alice) -> None:
    payment = await silent_deposit(stub, alice, 500)
    assert payment.state == pb.PAYMENT_STATE_PENDING
    assert payment.kind == pb.PAYMENT_KIND_DEPOSIT
    assert payment.provider_reference.startswith("sbx_")
    assert (payment.amount, payment.currency_code, payment.user_id) == (500, "USD", alice.id)
    assert not payment.transaction_id
    assert await available(stub, alice) == 0


async def test_a_sandbox_success_credits_the_wallet_from_the_clearing_account(
    stub, alice, ledger_db
) -> None:
    request = deposit_request(700, pb.SANDBOX_BEHAVIOR_SUCCEED)
    await stub.CreateDeposit(request, metadata=alice.auth)
    payment = await settled(stub, alice, request)
    assert payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await available(stub, alice) == 700
    reply = await stub.GetTransaction(
        pb.GetTransactionRequest(id=payment.transaction_id), metadata=alice.auth
    )
    assert reply.transaction.type == pb.TRANSACTION_TYPE_DEPOSIT
    assert (reply.transaction.payee_id, reply.transaction.payment_id) == (alice.id, payment.id)
    [(kind, provider)] = await ledger_db.rows(
        "SELECT a.kind, a.provider FROM ledger_entries e JOIN accounts a ON a.id = e.account_id "
        "WHERE e.transfer_id = %s AND e.side = 'debit'",
        payment.transaction_id,
    )
    assert (kind, provider) == ("clearing", "sandbox")
    assert await ledger_sums(ledger_db) == []


async def test_a_sandbox_failure_marks_the_deposit_failed_and_credits_nothing(stub, alice) -> None:
    request = deposit_request(700, pb.SANDBOX_BEHAVIOR_FAIL)
    await stub.CreateDeposit(request, metadata=alice.auth)
    payment = await settled(stub, alice, request)
    assert payment.state == pb.PAYMENT_STATE_FAILED
    assert payment.failure_reason
    assert await available(stub, alice) == 0


async def test_a_delayed_sandbox_event_credits_only_after_the_delay(stub, alice) -> None:
    request = deposit_request(300, pb.SANDBOX_BEHAVIOR_DELAY)
    await stub.CreateDeposit(request, metadata=alice.auth)
    assert await available(stub, alice) == 0
    payment = await settled(stub, alice, request)
    assert payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await available(stub, alice) == 300


async def test_a_duplicated_sandbox_event_credits_once(stub, alice, ledger_db) -> None:
    request = deposit_request(250, pb.SANDBOX_BEHAVIOR_DUPLICATE)
    payment = (await stub.CreateDeposit(request, metadata=alice.auth)).payment
    await settled(stub, alice, request)
    for _ in range(50):  # the second copy arrives just after the first
        [(events,)] = await ledger_db.rows(
            "SELECT count(*) FROM provider_events WHERE payment_id = %s", payment.id
        )
        if events:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert await available(stub, alice) == 250
    [(transfers,)] = await ledger_db.rows(
        "SELECT count(*) FROM transfers WHERE payment_id = %s", payment.id
    )
    assert transfers == 1


async def test_a_retried_deposit_is_the_same_payment(stub, alice) -> None:
    request = deposit_request(100, pb.SANDBOX_BEHAVIOR_SILENT)
    first = (await stub.CreateDeposit(request, metadata=alice.auth)).payment
    again = (await stub.CreateDeposit(request, metadata=alice.auth)).payment
    assert (again.id, again.provider_reference) == (first.id, first.provider_reference)


async def test_a_deposit_retried_with_another_amount_is_already_exists(
    stub, alice, rejected
) -> None:
    request = deposit_request(100, pb.SANDBOX_BEHAVIOR_SILENT)
    await stub.CreateDeposit(request, metadata=alice.auth)
    request.amount = 101
    failure = await rejected(stub.CreateDeposit(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert "REQUEST_ID_REUSED" in failure.reasons


@pytest.mark.parametrize(
    "provider",
    [pb.PROVIDER_STRIPE, pb.PROVIDER_PAYPAL, pb.PROVIDER_FAWRY, pb.PROVIDER_INSTAPAY],
    ids=lambda p: pb.Provider.Name(p),
)
async def test_a_provider_without_credentials_is_not_configured(
    stub, alice, rejected, provider
) -> None:
    request = deposit_request(100, pb.SANDBOX_BEHAVIOR_UNSPECIFIED)
    request.provider = provider
    failure = await rejected(stub.CreateDeposit(request, metadata=alice.auth))
    assert failure.code == FAILED and "PROVIDER_NOT_CONFIGURED" in failure.reasons
    assert "not configured" in failure.message and "DAIRA_PAYMENTS_" in failure.message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": 10**19 // 2}, "amount"),
        ({"currency_code": "ABC"}, "currency_code"),
        ({"provider": pb.PROVIDER_UNSPECIFIED}, "provider"),
        ({"provider": 99}, "provider"),
        ({"sandbox_behavior": 42}, "sandbox_behavior"),
        ({"request_id": ""}, "request_id"),
        ({"request_id": "x" * 201}, "request_id"),
    ],
    ids=lambda value: str(value)[:30],
)
async def test_bad_deposit_input_is_invalid_argument_naming_the_field(
    stub, alice, rejected, changes, field
) -> None:
    request = deposit_request(100, pb.SANDBOX_BEHAVIOR_SILENT)
    for name, value in changes.items():
        setattr(request, name, value)
    failure = await rejected(stub.CreateDeposit(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == [field]
