"""STRIPE: a deposit is a PaymentIntent, settled by the webhook's payment_intent events.

The PaymentIntent is created with the secret key as Bearer token, form-encoded, and the
payment's id as Idempotency-Key, so Stripe never makes two for one payment; the customer
then confirms it with Stripe's client under the intent's client secret (the deposit's
next action), which Stripe answers only to the secret key. payment_intent.succeeded
credits the wallet and .canceled fails the deposit; .payment_failed settles nothing, as
Stripe lets the customer try again. A delivery is authenticated by its Stripe-Signature
header (`t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`, any v1 may match, under the
endpoint's signing secret) before it is parsed, within the webhook tolerance.

Stripe pays out only to the platform's own bank account (paying a user needs Connect
accounts, which users here do not have), so withdrawals through it are refused.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from services.payments.providers import (
    FAILED,
    NOTED,
    REASON_MAX,
    SUCCEEDED,
    Action,
    Event,
    Opened,
    check_fresh,
    forged,
    not_an_event,
    sign,
    text,
)
from services.payments.providers.credentials import Credentials, no_payouts
from services.payments.providers.http import Http, unavailable
from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.errors import InvalidArgument

KEY, SECRET = "stripe_api_key", "stripe_webhook_secret"


class Stripe:
    name = "stripe"

    def __init__(self, settings: PaymentsSettings, http: Http) -> None:
        self._credentials = Credentials(self.name, settings)
        self._http = http
        self._url = settings.stripe_api_url.rstrip("/")
        self._tolerance = settings.webhook_tolerance_seconds

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        key, _ = self._credentials.require(KEY, SECRET)
        body = await self._http.call(
            self.name,
            "POST",
            f"{self._url}/v1/payment_intents",
            lambda b: b["error"]["message"],
            data={
                "amount": str(amount),
                "currency": currency.lower(),
                "automatic_payment_methods[enabled]": "true",
                "metadata[payment_id]": payment_id,
            },
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": payment_id},
        )
        reference = body.get("id") if isinstance(body, dict) else None
        if not isinstance(reference, str) or not reference.startswith("pi_"):
            raise unavailable(self.name, "answered without a PaymentIntent id")
        secret = body.get("client_secret")
        if not isinstance(secret, str) or not secret.startswith(f"{reference}_secret_"):
            raise unavailable(self.name, "answered without the PaymentIntent's client secret")
        return Opened(reference, Action(client_secret=secret))

    def payout_reference(self, payment_id: str) -> str:
        raise no_payouts(self.name, "Stripe pays out only to the platform's own bank account")

    async def start(self, payment: Record, behavior: str) -> None:
        """Nothing to send: the customer pays the PaymentIntent at Stripe."""

    async def receive(self, payload: bytes, signature: str) -> Event:
        [secret] = self._credentials.require(SECRET)
        timestamp, candidates = _signature_header(signature)
        expected = sign(secret.encode(), str(timestamp).encode() + b"." + payload)
        if not any(hmac.compare_digest(expected, c) for c in candidates):
            raise forged()
        check_fresh(timestamp, self._tolerance)
        return _event(payload)


def _signature_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures of a Stripe-Signature header."""
    timestamp, candidates = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise forged()
    return timestamp, candidates


def _event(payload: bytes) -> Event:
    try:
        body = json.loads(payload)
        kind = text(body, "type")
        intent: dict[str, Any] = body["data"]["object"]
        if not kind.startswith("payment_intent.") or intent.get("object") != "payment_intent":
            raise InvalidArgument("payload", f"is a {kind} event, not a PaymentIntent's")
        amount = intent["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError("amount must be an integer")
        created = body["created"]
        if not isinstance(created, int):
            raise ValueError("created must be an integer")
        error = intent.get("last_payment_error") or {}
        return Event(
            id=text(body, "id"),
            type={"payment_intent.succeeded": SUCCEEDED, "payment_intent.canceled": FAILED}.get(
                kind, NOTED
            ),
            reference=text(intent, "id"),
            amount=amount,
            currency=text(intent, "currency").upper(),
            created=created,
            reason=str(intent.get("cancellation_reason") or error.get("message") or "")[
                :REASON_MAX
            ],
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise not_an_event(exc) from None
