"""Fawry's adapter against the local stand-in of its API (conftest): the charges it sends,
how its notifications settle deposits, and its refusals and outages."""

from __future__ import annotations

import json
import uuid
from typing import Any

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
from .fake_providers import FAWRY_CHARGE, FAWRY_CODE, FAWRY_KEY, Script, sha256


def fawry_notification(
    payment: pb.Payment, status: str = "PAID", order: str = "125.00", fees: str = "2.50"
) -> bytes:
    """Fawry's server notification (V2) about a deposit, with its messageSignature."""
    paid = f"{float(order) + float(fees):.2f}"
    body: dict[str, Any] = {
        "requestId": uuid.uuid4().hex,
        "fawryRefNumber": payment.provider_reference,
        "merchantRefNumber": payment.id,
        "customerMobile": "01000000000",
        "paymentAmount": float(paid),
        "orderAmount": float(order),
        "fawryFees": float(fees),
        "orderStatus": status,
        "paymentMethod": "PAYATFAWRY",
        "paymentRefrenceNumber": "24480",
        "orderExpiryDate": 1533554719314,
        "orderItems": [{"itemCode": "wallet-deposit", "price": float(order), "quantity": 1}],
    }
    body["messageSignature"] = sha256(
        body["fawryRefNumber"], payment.id, paid, order, status, "PAYATFAWRY", "24480", FAWRY_KEY
    )
    return json.dumps(body).encode()


async def fawry_deposit(service: Service, who: Any, amount: int) -> pb.Payment:
    request = deposit_request(pb.PROVIDER_FAWRY, amount, "EGP")
    return (await service.stub.CreateDeposit(request, metadata=who.auth)).payment


async def fawry_event(service: Service, payload: bytes, signature: str = "") -> Any:
    return await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_FAWRY, payload, signature)
    )


async def test_a_fawry_deposit_is_a_signed_charge_pending_under_fawrys_reference(
    service, fake, alice
) -> None:
    payment = await fawry_deposit(service, alice, 12_500)
    assert payment.state == pb.PAYMENT_STATE_PENDING
    [sent] = fake.seen(FAWRY_CHARGE)
    charge = json.loads(sent.body)
    assert (charge["merchantRefNum"], charge["paymentMethod"], charge["amount"]) == (
        payment.id,
        "PAYATFAWRY",
        125.0,
    )
    assert charge["signature"] == sha256(FAWRY_CODE, payment.id, "PAYATFAWRY", "125.00", FAWRY_KEY)
    assert payment.provider_reference.isdigit()


async def test_fawrys_signed_paid_notification_credits_the_order_amount(
    service, fake, alice
) -> None:
    payment = await fawry_deposit(service, alice, 12_500)
    payload = fawry_notification(payment)
    reply = await fawry_event(service, payload, json.loads(payload)["messageSignature"])
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert await available(service.stub, alice, "EGP") == 12_500
    # Fawry's resend of it moves nothing more.
    again = await fawry_event(service, payload)
    assert again.duplicate
    assert await available(service.stub, alice, "EGP") == 12_500


async def test_an_expired_fawry_reference_fails_the_deposit(service, fake, alice) -> None:
    payment = await fawry_deposit(service, alice, 12_500)
    reply = await fawry_event(service, fawry_notification(payment, "EXPIRED"))
    assert reply.payment.state == pb.PAYMENT_STATE_FAILED
    assert await available(service.stub, alice, "EGP") == 0


@pytest.mark.parametrize(
    "forge",
    [
        lambda p: (p, sha256("not Fawry's")),
        lambda p: (p.replace(b'"orderAmount": 125.0', b'"orderAmount": 925.0'), ""),
        lambda p: (p.replace(b'"PAYATFAWRY"', b'"CARD"'), ""),
    ],
    ids=["signature", "amount", "method"],
)
async def test_a_fawry_notification_not_signed_by_fawry_moves_nothing(
    service, fake, alice, rejected, forge
) -> None:
    payment = await fawry_deposit(service, alice, 12_500)
    payload, signature = forge(fawry_notification(payment))
    failure = await rejected(fawry_event(service, payload, signature))
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice, "EGP") == 0


@pytest.mark.parametrize(
    "script",
    [Script(500, {"statusCode": 500, "statusDescription": "error"}), Script(drop=True)],
    ids=["500", "dropped"],
)
async def test_fawry_down_is_unavailable_and_records_nothing(
    service, fake, alice, rejected, script
) -> None:
    fake.scripts[FAWRY_CHARGE] = script
    failure = await rejected(fawry_deposit(service, alice, 12_500))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert await payments_of(service, alice) == []


@pytest.mark.parametrize(
    "script",
    [
        Script(200, {"statusCode": 9901, "statusDescription": "Merchant code is invalid"}),
        Script(400, {"statusCode": 9901, "statusDescription": "Merchant code is invalid"}),
    ],
    ids=["in-body", "http-400"],
)
async def test_fawry_refusing_is_failed_precondition_with_its_reason(
    service, fake, alice, rejected, script
) -> None:
    fake.scripts[FAWRY_CHARGE] = script
    failure = await rejected(fawry_deposit(service, alice, 12_500))
    await assert_refused_and_nothing_stored(service, alice, failure, "Merchant code is invalid")


async def test_fawry_takes_egp_only_and_pays_nothing_out(
    service, sandbox, fake, alice, rejected
) -> None:
    failure = await rejected(
        service.stub.CreateDeposit(deposit_request(pb.PROVIDER_FAWRY, 500), metadata=alice.auth)
    )
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_CURRENCY_UNSUPPORTED" in failure.reasons
    await a_withdrawal_is_refused_and_moves_nothing(
        service, sandbox, fake, alice, rejected, pb.PROVIDER_FAWRY, "EGP", "01000000000"
    )
