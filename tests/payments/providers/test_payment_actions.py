"""A pending deposit's next action: what the customer's app does to pay it, answered on
create and on every read by its owner, to nobody else, and gone once the deposit settles."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb
from services.payments import cascade
from shared.db import Database
from tests.users.conftest import user_deleted

from ..conftest import silent_deposit
from .conftest import Service, deposit_request, event_request, payments_of
from .deliveries import stripe_event, stripe_signature
from .fake_providers import FAWRY_CHARGE, Script

OPENED_AT = {
    pb.PROVIDER_STRIPE: "/v1/payment_intents",
    pb.PROVIDER_PAYPAL: "/v2/checkout/orders",
    pb.PROVIDER_FAWRY: FAWRY_CHARGE,
}
CURRENCIES = {pb.PROVIDER_STRIPE: "USD", pb.PROVIDER_PAYPAL: "USD", pb.PROVIDER_FAWRY: "EGP"}


def request_for(provider: int) -> pb.CreateDepositRequest:
    return deposit_request(provider, 1_250, CURRENCIES[provider])


async def create(service: Service, who: Any, request: pb.CreateDepositRequest) -> pb.Payment:
    return (await service.stub.CreateDeposit(request, metadata=who.auth)).payment


async def read(service: Service, who: Any, payment: pb.Payment) -> pb.Payment:
    request = pb.GetPaymentRequest(id=payment.id)
    return (await service.stub.GetPayment(request, metadata=who.auth)).payment


def answered(fake: Any, provider: int) -> dict[str, Any]:
    """What the stand-in answered to the deposit's opening, as it sent it."""
    [opened] = fake.seen(OPENED_AT[provider])
    return opened.answer


async def test_a_stripe_deposit_answers_the_intents_client_secret(service, fake, alice) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    intent = answered(fake, pb.PROVIDER_STRIPE)
    assert payment.next_action == pb.PaymentAction(client_secret=intent["client_secret"])
    assert payment.next_action.client_secret.startswith(f"{payment.provider_reference}_secret_")


async def test_a_paypal_deposit_answers_the_orders_approval_link(service, fake, alice) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_PAYPAL))
    assert payment.next_action == pb.PaymentAction(
        redirect_url=f"https://www.paypal.com/checkoutnow?token={payment.provider_reference}"
    )


async def test_paypals_payer_action_link_is_taken_over_approve(service, fake, alice) -> None:
    links = [
        {"href": "https://www.paypal.com/checkoutnow?token=5O190127TN364715T", "rel": "approve"},
        {"href": "https://www.paypal.com/pay?token=5O190127TN364715T", "rel": "payer-action"},
    ]
    fake.scripts["/v2/checkout/orders"] = Script(
        200, {"id": "5O190127TN364715T", "status": "PAYER_ACTION_REQUIRED", "links": links}
    )
    payment = await create(service, alice, request_for(pb.PROVIDER_PAYPAL))
    assert payment.next_action.redirect_url == links[1]["href"]


async def test_a_fawry_deposit_says_until_when_its_reference_can_be_paid(
    service, fake, alice
) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_FAWRY))
    charge = answered(fake, pb.PROVIDER_FAWRY)
    # The number paid at an outlet is the provider_reference, not repeated in the action.
    assert payment.provider_reference == charge["referenceNumber"]
    assert payment.next_action == pb.PaymentAction(
        expire_time={"seconds": charge["expirationTime"] // 1000}
    )


@pytest.mark.parametrize(
    ("provider", "answer"),
    [
        (pb.PROVIDER_STRIPE, {"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent"}),
        (pb.PROVIDER_PAYPAL, {"id": "5O190127TN364715T", "status": "CREATED", "links": []}),
    ],
    ids=["stripe-no-client-secret", "paypal-no-approval-link"],
)
async def test_a_deposit_the_customer_could_not_pay_is_unavailable_and_records_nothing(
    service, fake, alice, rejected, provider, answer
) -> None:
    fake.scripts[OPENED_AT[provider]] = Script(200, answer)
    failure = await rejected(create(service, alice, request_for(provider)))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert await payments_of(service, alice) == []


@pytest.mark.parametrize(
    "provider",
    [pb.PROVIDER_STRIPE, pb.PROVIDER_PAYPAL, pb.PROVIDER_FAWRY],
    ids=["stripe", "paypal", "fawry"],
)
async def test_a_retried_deposit_answers_the_same_action_without_asking_again(
    service, fake, alice, provider
) -> None:
    request = request_for(provider)
    first = await create(service, alice, request)
    again = await create(service, alice, request)
    assert again.id == first.id and again.HasField("next_action")
    assert again.next_action == first.next_action
    assert len(fake.seen(OPENED_AT[provider])) == 1


async def test_a_request_id_reused_with_other_parameters_is_refused_before_the_provider_is_asked(
    service, fake, alice, rejected
) -> None:
    request = request_for(pb.PROVIDER_STRIPE)
    await create(service, alice, request)
    other = pb.CreateDepositRequest()
    other.CopyFrom(request)
    other.amount += 1

    failure = await rejected(service.stub.CreateDeposit(other, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert len(fake.seen(OPENED_AT[pb.PROVIDER_STRIPE])) == 1


async def test_a_sandbox_deposit_has_no_action(service, fake, alice) -> None:
    payment = await silent_deposit(service.stub, alice, 500)
    assert not payment.HasField("next_action")
    assert not (await read(service, alice, payment)).HasField("next_action")


async def test_the_owner_reads_the_same_action(service, fake, alice) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    assert (await read(service, alice, payment)).next_action == payment.next_action


async def test_another_user_cannot_read_the_payment(service, fake, alice, bob, rejected) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    failure = await rejected(read(service, bob, payment))
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_an_admin_reads_the_payment_without_its_client_secret(
    service, fake, alice, admin
) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    seen = await read(service, admin, payment)
    assert seen.id == payment.id and seen.provider_reference == payment.provider_reference
    assert not seen.HasField("next_action")


async def test_the_webhooks_answer_shows_no_action(service, fake, alice) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    attempt = stripe_event(payment.provider_reference, 1_250, "payment_intent.payment_failed")
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, attempt, stripe_signature(attempt))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_PENDING
    assert not reply.payment.HasField("next_action")


async def test_a_settled_deposit_keeps_no_action(service, fake, alice) -> None:
    request = request_for(pb.PROVIDER_STRIPE)
    payment = await create(service, alice, request)
    success = stripe_event(payment.provider_reference, 1_250)
    await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, success, stripe_signature(success))
    )
    again = await create(service, alice, request)
    assert again.state == pb.PAYMENT_STATE_SUCCEEDED and not again.HasField("next_action")
    stored = await service.db.rows("SELECT next_action FROM payments WHERE id = %s", payment.id)
    assert stored == [(None,)]


async def test_a_deleted_accounts_pending_deposit_keeps_no_action(service, fake, alice) -> None:
    payment = await create(service, alice, request_for(pb.PROVIDER_STRIPE))
    [erasure] = cascade.SUBSCRIPTIONS
    database = Database(service.url)
    try:
        async with database.transaction() as conn:
            await erasure.handler(conn, user_deleted(alice.id))
    finally:
        await database.dispose()
    stored = await service.db.rows(
        "SELECT state, next_action FROM payments WHERE id = %s", payment.id
    )
    assert stored == [("pending", None)]
