"""HandleProviderEvent: signed, fresh, idempotent on the event id; refusals move nothing."""

from __future__ import annotations

import time

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb
from services.payments.providers import FAILED, sign

from .conftest import available, deliver, ledger_sums, silent_deposit

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


def event_request(payload: bytes, signature: str) -> pb.HandleProviderEventRequest:
    return pb.HandleProviderEventRequest(
        provider=pb.PROVIDER_SANDBOX, payload=payload, signature=signature
    )


async def test_the_webhook_needs_no_token_only_the_signature(stub, sandbox, alice) -> None:
    payment = await silent_deposit(stub, alice, 400)
    reply = await deliver(stub, sandbox, payment)
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert not reply.duplicate
    assert await available(stub, alice) == 400


async def test_a_forged_signature_is_unauthenticated_and_moves_nothing(
    stub, sandbox, alice, rejected
) -> None:
    payment = await silent_deposit(stub, alice, 400)
    payload, _ = sandbox.event(payment.provider_reference, 400, "USD")
    forged = sign(b"not-the-sandbox-secret", payload)
    failure = await rejected(stub.HandleProviderEvent(event_request(payload, forged)))
    assert failure.code == UNAUTHENTICATED and "SIGNATURE_INVALID" in failure.reasons
    assert await available(stub, alice) == 0


async def test_a_payload_changed_after_signing_is_unauthenticated(
    stub, sandbox, alice, rejected
) -> None:
    payment = await silent_deposit(stub, alice, 400)
    payload, signature = sandbox.event(payment.provider_reference, 400, "USD")
    tampered = payload.replace(b'"amount":400', b'"amount":900')
    failure = await rejected(stub.HandleProviderEvent(event_request(tampered, signature)))
    assert failure.code == UNAUTHENTICATED
    assert await available(stub, alice) == 0


async def test_a_replayed_event_answers_as_the_first_and_moves_nothing(
    stub, sandbox, alice, ledger_db
) -> None:
    payment = await silent_deposit(stub, alice, 400)
    payload, signature = sandbox.event(payment.provider_reference, 400, "USD")
    first = await stub.HandleProviderEvent(event_request(payload, signature))
    again = await stub.HandleProviderEvent(event_request(payload, signature))
    assert again.duplicate and not first.duplicate
    assert again.payment.transaction_id == first.payment.transaction_id
    assert await available(stub, alice) == 400
    assert await ledger_sums(ledger_db) == []


async def test_an_event_signed_long_ago_is_refused_as_a_replay(
    stub, sandbox, alice, rejected
) -> None:
    payment = await silent_deposit(stub, alice, 400)
    payload, signature = sandbox.event(
        payment.provider_reference, 400, "USD", created=int(time.time()) - 3600
    )
    failure = await rejected(stub.HandleProviderEvent(event_request(payload, signature)))
    assert failure.code == UNAUTHENTICATED and "EVENT_EXPIRED" in failure.reasons
    assert await available(stub, alice) == 0


async def test_an_event_id_reused_for_another_event_is_already_exists(
    stub, sandbox, alice, rejected
) -> None:
    first, second = await silent_deposit(stub, alice, 100), await silent_deposit(stub, alice, 200)
    await deliver(stub, sandbox, first, event_id="evt_reused_" + first.id)
    failure = await rejected(deliver(stub, sandbox, second, event_id="evt_reused_" + first.id))
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS and "EVENT_ID_REUSED" in failure.reasons
    assert await available(stub, alice) == 100


async def test_an_event_with_another_amount_or_currency_moves_nothing(
    stub, sandbox, alice, rejected
) -> None:
    payment = await silent_deposit(stub, alice, 400)
    for amount, currency in ((401, "USD"), (400, "EUR")):
        payload, signature = sandbox.event(payment.provider_reference, amount, currency)
        failure = await rejected(stub.HandleProviderEvent(event_request(payload, signature)))
        assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
        assert "EVENT_MISMATCH" in failure.reasons
    assert await available(stub, alice) == 0
    # The payment is still pending: the genuine event settles it.
    assert (await deliver(stub, sandbox, payment)).payment.state == pb.PAYMENT_STATE_SUCCEEDED


async def test_an_event_for_an_unknown_payment_is_not_found(stub, sandbox, rejected) -> None:
    payload, signature = sandbox.event("sbx_unknown", 100, "USD")
    failure = await rejected(stub.HandleProviderEvent(event_request(payload, signature)))
    assert failure.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"id": "evt_1"}', '{"ü": 1}'.encode("latin-1")],
    ids=["text", "array", "incomplete", "latin-1"],
)
async def test_a_signed_payload_that_is_not_an_event_is_invalid_argument(
    stub, sandbox, rejected, payload
) -> None:
    signature = sign(sandbox.webhook_secret(), payload)
    failure = await rejected(stub.HandleProviderEvent(event_request(payload, signature)))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["payload"]


async def test_an_event_of_an_unconfigured_provider_is_failed_precondition(
    stub, sandbox, rejected
) -> None:
    payload, signature = sandbox.event("sbx_x", 100, "USD")
    request = event_request(payload, signature)
    request.provider = pb.PROVIDER_STRIPE
    failure = await rejected(stub.HandleProviderEvent(request))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_NOT_CONFIGURED" in failure.reasons


async def test_a_failure_event_after_success_changes_nothing(stub, sandbox, alice) -> None:
    payment = await silent_deposit(stub, alice, 400)
    await deliver(stub, sandbox, payment)
    late = await deliver(stub, sandbox, payment, FAILED)
    assert late.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await available(stub, alice) == 400
