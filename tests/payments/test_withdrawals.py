"""CreateWithdrawal: reserved at once, then posted or voided by the provider's event or
voided by the reconciler past the timeout; a reservation resolves exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments import SPEC
from services.payments.api import build
from services.payments.providers import FAILED
from shared.server import RunningServer
from tests import harness

from .conftest import (
    DB_PASSWORD,
    available,
    deliver,
    fund,
    key,
    ledger_sums,
    open_channel,
    payments_settings,
    wallet,
    withdraw,
)


async def state_of(stub, who, transaction_id: str) -> int:
    request = pb.GetTransactionRequest(id=transaction_id)
    return (await stub.GetTransaction(request, metadata=who.auth)).transaction.state


async def test_a_withdrawal_reserves_the_amount_until_the_provider_answers(
    stub, sandbox, alice
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    reply = await withdraw(stub, alice, 400)
    assert reply.payment.state == pb.PAYMENT_STATE_PENDING
    assert reply.transaction.state == pb.TRANSACTION_STATE_PENDING
    assert reply.payment.transaction_id == reply.transaction.id
    found = await wallet(stub, alice)
    assert (found.posted_balance, found.pending_balance, found.available_balance) == (
        1_000,
        400,
        600,
    )


async def test_a_confirmed_withdrawal_is_posted(stub, sandbox, alice, ledger_db) -> None:
    await fund(stub, sandbox, alice, 1_000)
    reply = await withdraw(stub, alice, 400)
    settled = await deliver(stub, sandbox, reply.payment)
    assert settled.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await state_of(stub, alice, reply.transaction.id) == pb.TRANSACTION_STATE_POSTED
    found = await wallet(stub, alice)
    assert (found.posted_balance, found.pending_balance) == (600, 0)
    assert await ledger_sums(ledger_db) == []


async def test_a_failed_withdrawal_is_voided_and_the_money_is_back(stub, sandbox, alice) -> None:
    await fund(stub, sandbox, alice, 1_000)
    reply = await withdraw(stub, alice, 400)
    settled = await deliver(stub, sandbox, reply.payment, FAILED, reason="account closed")
    assert settled.payment.state == pb.PAYMENT_STATE_FAILED
    assert settled.payment.failure_reason == "account closed"
    assert await state_of(stub, alice, reply.transaction.id) == pb.TRANSACTION_STATE_VOIDED
    found = await wallet(stub, alice)
    assert (found.posted_balance, found.pending_balance, found.available_balance) == (
        1_000,
        0,
        1_000,
    )


async def test_a_withdrawal_resolves_exactly_once(stub, sandbox, alice, ledger_db) -> None:
    await fund(stub, sandbox, alice, 1_000)
    reply = await withdraw(stub, alice, 400)
    events = [deliver(stub, sandbox, reply.payment) for _ in range(5)]
    events += [deliver(stub, sandbox, reply.payment, FAILED) for _ in range(5)]
    await asyncio.gather(*events)
    [(resolutions,)] = await ledger_db.rows(
        "SELECT count(*) FROM transfers WHERE pending_id = %s", reply.transaction.id
    )
    assert resolutions == 1
    found = await wallet(stub, alice)
    assert found.pending_balance == 0 and found.posted_balance in (600, 1_000)


async def test_a_sandbox_withdrawal_that_succeeds_is_posted_by_its_own_event(
    stub, sandbox, alice
) -> None:
    await fund(stub, sandbox, alice, 500)
    reply = await withdraw(stub, alice, 200, pb.SANDBOX_BEHAVIOR_SUCCEED)
    for _ in range(250):
        if await state_of(stub, alice, reply.transaction.id) == pb.TRANSACTION_STATE_POSTED:
            break
        await asyncio.sleep(0.02)
    assert await available(stub, alice) == 300


async def test_withdrawing_beyond_the_available_balance_moves_nothing(
    stub, sandbox, alice, rejected
) -> None:
    await fund(stub, sandbox, alice, 500)
    await withdraw(stub, alice, 300)
    failure = await rejected(withdraw(stub, alice, 201))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "INSUFFICIENT_FUNDS" in failure.reasons
    assert await available(stub, alice) == 200


async def test_a_retried_withdrawal_reserves_once(stub, sandbox, alice) -> None:
    await fund(stub, sandbox, alice, 500)
    request_id = key()
    first = await withdraw(stub, alice, 300, request_id=request_id)
    again = await withdraw(stub, alice, 300, request_id=request_id)
    assert again.payment.id == first.payment.id
    assert again.transaction.id == first.transaction.id
    assert await available(stub, alice) == 200


async def test_a_withdrawal_needs_a_destination(stub, sandbox, alice, rejected) -> None:
    await fund(stub, sandbox, alice, 500)
    request = pb.CreateWithdrawalRequest(
        amount=100, currency_code="USD", provider=pb.PROVIDER_SANDBOX, request_id=key()
    )
    failure = await rejected(stub.CreateWithdrawal(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["destination"]
    assert await available(stub, alice) == 500


async def test_a_withdrawal_through_an_unconfigured_provider_moves_nothing(
    stub, sandbox, alice, rejected
) -> None:
    await fund(stub, sandbox, alice, 500)
    request = pb.CreateWithdrawalRequest(
        amount=100,
        currency_code="USD",
        provider=pb.PROVIDER_PAYPAL,
        destination="someone@example.com",
        request_id=key(),
    )
    failure = await rejected(stub.CreateWithdrawal(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_NOT_CONFIGURED" in failure.reasons
    assert await available(stub, alice) == 500


# --- the reconciler, on a service of its own with a short timeout -----------------------


@pytest.fixture(scope="module")
async def impatient(
    pg_admin_url: str, worker_id: str, redis_url: str, users_server: RunningServer
) -> AsyncIterator[payments_pb2_grpc.PaymentsServiceStub]:
    """A payments service that voids withdrawals pending for more than 0.5 s."""
    url = await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_payments_timeouts_{worker_id}", DB_PASSWORD
    )
    settings = payments_settings(
        url,
        redis_url,
        f"127.0.0.1:{users_server.port}",
        withdrawal_timeout_seconds=0.5,
        reconcile_interval_seconds=0.1,
    )
    running = await harness.start_serving(SPEC, settings, build)
    channel = open_channel(running.port)
    yield payments_pb2_grpc.PaymentsServiceStub(channel)
    await channel.close()
    await running.stop(0)


async def test_a_withdrawal_left_pending_past_the_timeout_is_voided(
    impatient, sandbox, alice
) -> None:
    await fund(impatient, sandbox, alice, 500)
    reply = await withdraw(impatient, alice, 200)
    assert await available(impatient, alice) == 300
    for _ in range(100):
        if await state_of(impatient, alice, reply.transaction.id) == pb.TRANSACTION_STATE_VOIDED:
            break
        await asyncio.sleep(0.05)
    assert await state_of(impatient, alice, reply.transaction.id) == pb.TRANSACTION_STATE_VOIDED
    assert await available(impatient, alice) == 500
    # The provider's confirmation after the void moves nothing.
    late = await deliver(impatient, sandbox, reply.payment)
    assert late.payment.state == pb.PAYMENT_STATE_FAILED
    assert await available(impatient, alice) == 500


async def test_the_reconciler_forgets_keys_only_past_their_retention(
    payments_server, ledger_db
) -> None:
    old, recent = key(), key()
    for request_id, hours in ((old, 49), (recent, 25)):
        await ledger_db.rows(
            "INSERT INTO idempotency_keys VALUES ('retention-test', %s, 'tip', 'd', NULL, "
            "now() - make_interval(hours => %s))",
            request_id,
            hours,
        )
    await payments_server.endpoint.servicer.withdrawals.reconcile()
    kept = await ledger_db.rows(
        "SELECT request_id FROM idempotency_keys WHERE owner = 'retention-test'"
    )
    assert kept == [(recent,)]
