"""PayPal's adapter against the local stand-in of its API (conftest): what it sends, how its
deliveries settle payments and payouts, and its refusals and outages."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb

from ..conftest import available, fund, key, wallet
from .conftest import (
    Service,
    assert_refused_and_nothing_stored,
    deposit_request,
    event_request,
    payments_of,
)
from .fake_providers import PAYPAL_TOKEN_REFUSED_BODY, PAYPAL_WEBHOOK, Script, paypal_mac

PAYPAL_TOKEN_REFUSED = Script(401, PAYPAL_TOKEN_REFUSED_BODY)


def paypal_delivery(
    kind: str, resource: dict[str, Any], webhook_id: str = PAYPAL_WEBHOOK, age: float = 0
) -> tuple[bytes, str]:
    """A webhook delivery as PayPal sends it: (body, transmission headers as JSON)."""
    event = {
        "id": f"WH-{uuid.uuid4().hex[:20].upper()}",
        "event_version": "1.0",
        "create_time": "2026-01-01T00:00:00Z",
        "event_type": kind,
        "resource": resource,
    }
    payload = json.dumps(event, indent=1).encode()
    transmission_id = str(uuid.uuid4())
    at = datetime.fromtimestamp(time.time() - age, UTC).isoformat().replace("+00:00", "Z")
    headers = {
        "paypal-transmission-id": transmission_id,
        "paypal-transmission-time": at,
        "paypal-transmission-sig": paypal_mac(transmission_id, at, webhook_id, payload),
        "paypal-cert-url": "https://api.paypal.com/v1/notifications/certs/CERT-daira",
        "paypal-auth-algo": "SHA256withRSA",
    }
    return payload, json.dumps(headers)


def paypal_approved(order_id: str) -> tuple[bytes, str]:
    return paypal_delivery("CHECKOUT.ORDER.APPROVED", {"id": order_id, "status": "APPROVED"})


def paypal_capture_completed(order_id: str, value: str) -> tuple[bytes, str]:
    resource = {
        "id": "CAP" + order_id,
        "status": "COMPLETED",
        "amount": {"currency_code": "USD", "value": value},
        "supplementary_data": {"related_ids": {"order_id": order_id}},
    }
    return paypal_delivery("PAYMENT.CAPTURE.COMPLETED", resource)


def paypal_payout_item(payment: pb.Payment, outcome: str, value: str) -> tuple[bytes, str]:
    resource = {
        "payout_item_id": "8AELMXH8UB2P8",
        "transaction_status": outcome,
        "payout_batch_id": "5UXD2E8A7EBQJ",
        "payout_item": {
            "recipient_type": "EMAIL",
            "amount": {"currency": "USD", "value": value},
            "receiver": "someone@example.com",
            "sender_item_id": payment.provider_reference,
        },
    }
    return paypal_delivery(f"PAYMENT.PAYOUTS-ITEM.{outcome}", resource)


async def paypal_event(service: Service, delivery: tuple[bytes, str]) -> Any:
    payload, signature = delivery
    return await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_PAYPAL, payload, signature)
    )


async def paypal_deposit(service: Service, who: Any, amount: int) -> pb.Payment:
    request = deposit_request(pb.PROVIDER_PAYPAL, amount)
    return (await service.stub.CreateDeposit(request, metadata=who.auth)).payment


def paypal_withdrawal(amount: int) -> pb.CreateWithdrawalRequest:
    return pb.CreateWithdrawalRequest(
        amount=amount,
        currency_code="USD",
        provider=pb.PROVIDER_PAYPAL,
        destination="someone@example.com",
        request_id=key(),
    )


async def test_a_paypal_deposit_is_an_order_pending_under_its_id(service, fake, alice) -> None:
    first = await paypal_deposit(service, alice, 1_250)
    second = await paypal_deposit(service, alice, 99)
    assert first.state == pb.PAYMENT_STATE_PENDING
    assert first.provider_reference in fake.orders
    orders = fake.seen("/v2/checkout/orders")
    assert [o.headers["PayPal-Request-Id"] for o in orders] == [first.id, second.id]
    sent = json.loads(orders[0].body)
    assert sent["intent"] == "CAPTURE"
    assert sent["purchase_units"] == [
        {"custom_id": first.id, "amount": {"currency_code": "USD", "value": "12.50"}}
    ]
    assert json.loads(orders[1].body)["purchase_units"][0]["amount"]["value"] == "0.99"
    # One access token serves both.
    assert len(fake.seen("/v1/oauth2/token")) <= 1


async def test_paypals_approval_captures_the_order_and_credits_the_wallet_once(
    service, fake, alice
) -> None:
    payment = await paypal_deposit(service, alice, 1_250)
    reply = await paypal_event(service, paypal_approved(payment.provider_reference))
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    [capture] = fake.seen(f"/v2/checkout/orders/{payment.provider_reference}/capture")
    assert capture.headers["PayPal-Request-Id"] == f"capture-{payment.provider_reference}"
    [verify] = fake.seen("/v1/notifications/verify-webhook-signature")
    assert json.loads(verify.body)["webhook_id"] == PAYPAL_WEBHOOK
    assert await available(service.stub, alice) == 1_250
    # PayPal's own word on the capture, later, moves nothing more.
    late = await paypal_event(
        service, paypal_capture_completed(payment.provider_reference, "12.50")
    )
    assert late.payment.state == pb.PAYMENT_STATE_SUCCEEDED and not late.duplicate
    assert await available(service.stub, alice) == 1_250


async def test_a_paypal_capture_event_settles_a_deposit_by_itself(service, fake, alice) -> None:
    payment = await paypal_deposit(service, alice, 700)
    reply = await paypal_event(
        service, paypal_capture_completed(payment.provider_reference, "7.00")
    )
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await available(service.stub, alice) == 700


@pytest.mark.parametrize(
    "forge",
    [
        lambda p, s: (
            p,
            s.replace('"paypal-transmission-sig": "', '"paypal-transmission-sig": "0'),
        ),
        lambda p, s: (p.replace(b'"APPROVED"', b'"APPROVED" '), s),
        lambda p, s: (p, "{}"),
        lambda p, s: (p, "t=1,v1=abc"),
    ],
    ids=["signature", "body", "no-headers", "not-json"],
)
async def test_a_paypal_delivery_paypal_does_not_vouch_for_moves_nothing(
    service, fake, alice, rejected, forge
) -> None:
    payment = await paypal_deposit(service, alice, 400)
    payload, signature = forge(*paypal_approved(payment.provider_reference))
    failure = await rejected(paypal_event(service, (payload, signature)))
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert fake.seen(f"/v2/checkout/orders/{payment.provider_reference}/capture") == []
    assert await available(service.stub, alice) == 0


async def test_a_paypal_delivery_for_another_webhook_or_stale_moves_nothing(
    service, fake, alice, rejected
) -> None:
    payment = await paypal_deposit(service, alice, 400)
    resource = {"id": payment.provider_reference, "status": "APPROVED"}
    for delivery in (
        paypal_delivery("CHECKOUT.ORDER.APPROVED", resource, webhook_id="WH8OTHER"),
        paypal_delivery("CHECKOUT.ORDER.APPROVED", resource, age=3600),
    ):
        failure = await rejected(paypal_event(service, delivery))
        assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice) == 0


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/v2/checkout/orders", Script(503, {"name": "INTERNAL_SERVICE_ERROR"})),
        ("/v2/checkout/orders", Script(drop=True)),
        ("/v1/oauth2/token", Script(delay=1.5)),
        ("/v1/oauth2/token", Script(502, {})),
    ],
    ids=["orders-503", "orders-dropped", "token-too-slow", "token-502"],
)
async def test_paypal_down_is_unavailable_and_records_nothing(
    service, fake, alice, rejected, path, script
) -> None:
    fake.scripts[path] = script
    fake.scripts.setdefault("/v2/checkout/orders", PAYPAL_TOKEN_REFUSED)
    failure = await rejected(paypal_deposit(service, alice, 500))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert await payments_of(service, alice) == []


async def test_paypal_refusing_is_failed_precondition_with_its_reason(
    service, fake, alice, rejected
) -> None:
    fake.scripts["/v2/checkout/orders"] = Script(
        422,
        {
            "name": "UNPROCESSABLE_ENTITY",
            "message": "The requested action could not be performed",
            "details": [
                {"issue": "CURRENCY_NOT_SUPPORTED", "description": "Currency code is not supported"}
            ],
        },
    )
    failure = await rejected(paypal_deposit(service, alice, 500))
    await assert_refused_and_nothing_stored(
        service, alice, failure, "Currency code is not supported"
    )


async def test_a_paypal_withdrawal_is_a_payout_posted_by_its_event(
    service, sandbox, fake, alice
) -> None:
    await fund(service.stub, sandbox, alice, 1_000)
    reply = await service.stub.CreateWithdrawal(paypal_withdrawal(400), metadata=alice.auth)
    assert reply.payment.state == pb.PAYMENT_STATE_PENDING
    assert reply.payment.provider_reference == reply.payment.id
    [payout] = fake.seen("/v1/payments/payouts")
    batch = json.loads(payout.body)
    assert batch["sender_batch_header"]["sender_batch_id"] == reply.payment.id
    assert batch["items"] == [
        {
            "recipient_type": "EMAIL",
            "receiver": "someone@example.com",
            "sender_item_id": reply.payment.id,
            "amount": {"currency": "USD", "value": "4.00"},
        }
    ]
    assert await available(service.stub, alice) == 600
    settled = await paypal_event(service, paypal_payout_item(reply.payment, "SUCCEEDED", "4.00"))
    assert settled.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    found = await wallet(service.stub, alice)
    assert (found.posted_balance, found.pending_balance) == (600, 0)


async def test_a_paypal_payout_that_failed_gives_the_money_back(
    service, sandbox, fake, alice
) -> None:
    await fund(service.stub, sandbox, alice, 1_000)
    reply = await service.stub.CreateWithdrawal(paypal_withdrawal(400), metadata=alice.auth)
    settled = await paypal_event(service, paypal_payout_item(reply.payment, "RETURNED", "4.00"))
    assert settled.payment.state == pb.PAYMENT_STATE_FAILED
    assert await available(service.stub, alice) == 1_000


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (Script(503, {"name": "INTERNAL_SERVICE_ERROR"}), grpc.StatusCode.UNAVAILABLE),
        (
            Script(
                422,
                {"name": "INSUFFICIENT_FUNDS", "message": "Sender does not have sufficient funds"},
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
    ],
    ids=["503", "422"],
)
async def test_a_payout_paypal_does_not_take_is_voided_at_once(
    service, sandbox, fake, alice, rejected, script, code
) -> None:
    await fund(service.stub, sandbox, alice, 1_000)
    fake.scripts["/v1/payments/payouts"] = script
    request = paypal_withdrawal(400)
    failure = await rejected(service.stub.CreateWithdrawal(request, metadata=alice.auth))
    assert failure.code == code
    found = await wallet(service.stub, alice)
    assert (found.available_balance, found.pending_balance) == (1_000, 0)
    assert await payments_of(service, alice) == [("sandbox", "succeeded"), ("paypal", "failed")]
    # A retry of the call finds the withdrawal as it ended.
    again = await service.stub.CreateWithdrawal(request, metadata=alice.auth)
    assert again.payment.state == pb.PAYMENT_STATE_FAILED


async def test_wrong_paypal_credentials_are_failed_precondition(
    service, fake, alice, rejected
) -> None:
    fake.scripts["/v2/checkout/orders"] = PAYPAL_TOKEN_REFUSED
    fake.scripts["/v1/oauth2/token"] = Script(
        401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
    )
    failure = await rejected(paypal_deposit(service, alice, 500))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "Client Authentication failed" in failure.message
    assert await payments_of(service, alice) == []


async def test_a_paypal_token_no_longer_taken_is_replaced_once(service, fake, alice) -> None:
    fake.scripts["/v2/checkout/orders"] = PAYPAL_TOKEN_REFUSED
    payment = await paypal_deposit(service, alice, 500)
    assert payment.state == pb.PAYMENT_STATE_PENDING
    assert len(fake.seen("/v2/checkout/orders")) == 2
    assert len(fake.seen("/v1/oauth2/token")) == 1


@pytest.mark.parametrize("script", [Script(drop=True), Script(delay=1.5)], ids=["dropped", "slow"])
async def test_a_payout_whose_answer_was_lost_stays_pending_for_paypals_word(
    service, sandbox, fake, alice, rejected, script
) -> None:
    await fund(service.stub, sandbox, alice, 1_000)
    fake.scripts["/v1/payments/payouts"] = script
    request = paypal_withdrawal(400)
    failure = await rejected(service.stub.CreateWithdrawal(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.UNAVAILABLE and "PROVIDER_NO_ANSWER" in failure.reasons
    # PayPal may have paid it: the money stays reserved until PayPal says.
    pending = (await service.stub.CreateWithdrawal(request, metadata=alice.auth)).payment
    assert pending.state == pb.PAYMENT_STATE_PENDING
    assert await available(service.stub, alice) == 600
    settled = await paypal_event(service, paypal_payout_item(pending, "SUCCEEDED", "4.00"))
    assert settled.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    found = await wallet(service.stub, alice)
    assert (found.posted_balance, found.pending_balance) == (600, 0)
