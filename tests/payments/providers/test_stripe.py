"""Stripe's adapter against the local stand-in of its API (conftest): what it sends, how its
events settle payments, and its refusals and outages."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb

from ..conftest import available
from .conftest import (
    Service,
    a_withdrawal_is_refused_and_moves_nothing,
    assert_refused_and_nothing_stored,
    deposit_request,
    event_request,
    payments_of,
)
from .deliveries import stripe_event, stripe_signature
from .fake_providers import STRIPE_KEY, Script


async def stripe_deposit(service: Service, who: Any, amount: int) -> pb.Payment:
    request = deposit_request(pb.PROVIDER_STRIPE, amount)
    return (await service.stub.CreateDeposit(request, metadata=who.auth)).payment


async def test_a_stripe_deposit_is_a_payment_intent_pending_under_its_id(
    service, fake, alice
) -> None:
    payment = await stripe_deposit(service, alice, 1_250)
    assert payment.state == pb.PAYMENT_STATE_PENDING
    assert payment.provider_reference.startswith("pi_")
    [sent] = fake.seen("/v1/payment_intents")
    assert sent.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert sent.headers["Idempotency-Key"] == payment.id
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(parse_qsl(sent.body.decode()))
    assert (form["amount"], form["currency"], form["metadata[payment_id]"]) == (
        "1250",
        "usd",
        payment.id,
    )


async def test_stripes_signed_success_credits_the_wallet(service, fake, alice) -> None:
    payment = await stripe_deposit(service, alice, 1_250)
    payload = stripe_event(payment.provider_reference, 1_250)
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, payload, stripe_signature(payload))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert reply.event_id == json.loads(payload)["id"]
    assert await available(service.stub, alice) == 1_250


async def test_a_stripe_attempt_that_failed_settles_nothing_and_a_cancel_fails_it(
    service, fake, alice
) -> None:
    payment = await stripe_deposit(service, alice, 300)
    attempt = stripe_event(
        payment.provider_reference,
        300,
        "payment_intent.payment_failed",
        last_payment_error={"message": "Your card was declined."},
    )
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, attempt, stripe_signature(attempt))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_PENDING
    cancel = stripe_event(
        payment.provider_reference,
        300,
        "payment_intent.canceled",
        cancellation_reason="abandoned",
    )
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, cancel, stripe_signature(cancel))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_FAILED
    assert reply.payment.failure_reason == "abandoned"
    assert await available(service.stub, alice) == 0


@pytest.mark.parametrize(
    "signature",
    [
        lambda p: stripe_signature(p, "whsec_not_ours"),
        lambda p: stripe_signature(p, at=int(time.time()) - 3600),
        lambda p: stripe_signature(p).replace("v1=", "v0="),
        lambda p: "",
    ],
    ids=["other-secret", "stale", "no-v1", "empty"],
)
async def test_a_stripe_event_not_signed_by_stripe_now_moves_nothing(
    service, fake, alice, rejected, signature
) -> None:
    payment = await stripe_deposit(service, alice, 400)
    payload = stripe_event(payment.provider_reference, 400)
    failure = await rejected(
        service.stub.HandleProviderEvent(
            event_request(pb.PROVIDER_STRIPE, payload, signature(payload))
        )
    )
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice) == 0


async def test_a_stripe_event_changed_after_signing_moves_nothing(
    service, fake, alice, rejected
) -> None:
    payment = await stripe_deposit(service, alice, 400)
    payload = stripe_event(payment.provider_reference, 400)
    signature = stripe_signature(payload)
    tampered = payload.replace(b'"amount": 400', b'"amount": 900')
    assert tampered != payload
    failure = await rejected(
        service.stub.HandleProviderEvent(event_request(pb.PROVIDER_STRIPE, tampered, signature))
    )
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice) == 0


@pytest.mark.parametrize(
    "script",
    [
        Script(503, {"error": {"message": "overloaded"}}),
        Script(429, {"error": {"message": "rate limited"}}),
        Script(drop=True),
        Script(delay=1.5),
    ],
    ids=["503", "429", "dropped", "too-slow"],
)
async def test_stripe_down_is_unavailable_and_records_nothing(
    service, fake, alice, rejected, script
) -> None:
    fake.scripts["/v1/payment_intents"] = script
    request = deposit_request(pb.PROVIDER_STRIPE, 500)
    failure = await rejected(service.stub.CreateDeposit(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert {"PROVIDER_UNAVAILABLE", "PROVIDER_NO_ANSWER"} & set(failure.reasons)
    assert await payments_of(service, alice) == []
    # The request_id was not kept: the same request goes through once Stripe is back.
    again = await service.stub.CreateDeposit(request, metadata=alice.auth)
    assert again.payment.state == pb.PAYMENT_STATE_PENDING


async def test_stripe_refusing_is_failed_precondition_with_its_reason(
    service, fake, alice, rejected
) -> None:
    fake.scripts["/v1/payment_intents"] = Script(
        400, {"error": {"type": "invalid_request_error", "message": "Amount must be at least"}}
    )
    failure = await rejected(stripe_deposit(service, alice, 1))
    await assert_refused_and_nothing_stored(service, alice, failure, "Amount must be at least")


async def test_a_withdrawal_through_stripe_is_refused_and_moves_nothing(
    service, sandbox, fake, alice, rejected
) -> None:
    await a_withdrawal_is_refused_and_moves_nothing(
        service, sandbox, fake, alice, rejected, pb.PROVIDER_STRIPE, "USD", "acct_1"
    )
