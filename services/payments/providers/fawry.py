"""FAWRY: a deposit is a PayAtFawry reference number, paid at any Fawry outlet and settled
by Fawry's server-to-server notification (V2).

The charge request is signed with the SHA-256 of merchantCode + merchantRefNum +
customerProfileId (none is sent) + paymentMethod + amount (two decimals) + the security
key. merchantRefNum is the payment's id; the reference number Fawry answers, which the
customer quotes when paying, is the payment's reference, and the deposit's next action
says until when it can be paid (the answer's expirationTime, when given). Fawry may
refuse in the body of an HTTP 200 (a statusCode other than 200, statusDescription
saying why).

A notification is signed in its body (messageSignature): the SHA-256 of fawryRefNumber +
merchantRefNumber + paymentAmount and orderAmount (two decimals) + orderStatus +
paymentMethod + paymentRefrenceNumber (when present) + the security key. The signature
of HandleProviderEvent is that value, or empty to take it from the body. PAID credits the
order's amount (paymentAmount adds Fawry's fees), EXPIRED, CANCELED and FAILED fail the
deposit, anything else settles nothing. Nothing in it says when it was signed, so a
replay is caught by its requestId (the event id) and by a settled payment moving nothing.

Fawry takes EGP, and its public API makes no payouts, so withdrawals through it are
refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from services.payments.providers import (
    FAILED,
    NOTED,
    REASON_MAX,
    SUCCEEDED,
    Action,
    Event,
    Opened,
    forged,
    not_an_event,
    text,
)
from services.payments.providers.amounts import decimal_text, minor_units
from services.payments.providers.credentials import Credentials, no_payouts
from services.payments.providers.http import Http, refused, unavailable
from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.errors import FailedPrecondition

CODE, KEY = "fawry_merchant_code", "fawry_security_key"
CHARGE = "/ECommerceWeb/Fawry/payments/charge"
METHOD = "PAYATFAWRY"
CURRENCY = "EGP"
OUTCOMES = {"PAID": SUCCEEDED, "EXPIRED": FAILED, "CANCELED": FAILED, "FAILED": FAILED}


class Fawry:
    name = "fawry"

    def __init__(self, settings: PaymentsSettings, http: Http) -> None:
        self._credentials = Credentials(self.name, settings)
        self._http = http
        self._url = settings.fawry_api_url.rstrip("/")

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        code, key = self._credentials.require(CODE, KEY)
        if currency != CURRENCY:
            raise FailedPrecondition(
                f"the provider FAWRY takes payments in {CURRENCY} only",
                reason="PROVIDER_CURRENCY_UNSUPPORTED",
                metadata={"provider": "FAWRY", "currency": currency},
            )
        value = decimal_text(amount, currency)
        charge = {
            "merchantCode": code,
            "merchantRefNum": payment_id,
            "paymentMethod": METHOD,
            "amount": float(value),
            "currencyCode": currency,
            "description": "Daira wallet deposit",
            "chargeItems": [{"itemId": "wallet-deposit", "price": float(value), "quantity": 1}],
            "signature": _digest(code, payment_id, "", METHOD, value, key),
        }
        body = await self._http.call(
            self.name, "POST", f"{self._url}{CHARGE}", _reason, json=charge
        )
        if not isinstance(body, dict):
            raise unavailable(self.name, "answered something other than a charge response")
        if body.get("statusCode") != 200:
            raise refused(self.name, _reason(body) or f"status {body.get('statusCode')}")
        reference = body.get("referenceNumber")
        if not isinstance(reference, str | int) or isinstance(reference, bool) or not reference:
            raise unavailable(self.name, "answered without a reference number")
        expiry = _expiry(body.get("expirationTime"))
        return Opened(str(reference), Action(expire_time=expiry) if expiry else None)

    def payout_reference(self, payment_id: str) -> str:
        raise no_payouts(self.name, "Fawry's public API takes payments but makes no payouts")

    async def start(self, payment: Record, behavior: str) -> None:
        """Nothing to send: the customer pays the reference number at Fawry."""

    async def receive(self, payload: bytes, signature: str) -> Event:
        _, key = self._credentials.require(CODE, KEY)
        try:
            body = json.loads(payload)
            if not isinstance(body, dict):
                raise ValueError("the payload is not a JSON object")
            status = text(body, "orderStatus")
            reference = _field(body, "fawryRefNumber")
            amount = minor_units(body["orderAmount"], CURRENCY)
            signed = (
                reference,
                _field(body, "merchantRefNumber"),
                decimal_text(minor_units(body["paymentAmount"], CURRENCY), CURRENCY),
                decimal_text(amount, CURRENCY),
                status,
                _field(body, "paymentMethod"),
                _field(body, "paymentRefrenceNumber") if body.get("paymentRefrenceNumber") else "",
                key,
            )
            event_id = text(body, "requestId")
        except (ValueError, TypeError, KeyError) as exc:
            raise not_an_event(exc) from None
        given = signature or str(body.get("messageSignature", ""))
        if not hmac.compare_digest(_digest(*signed).encode(), given.encode()):
            raise forged()
        return Event(
            id=event_id,
            type=OUTCOMES.get(status, NOTED),
            reference=reference,
            amount=amount,
            currency=CURRENCY,
            created=int(time.time()),
            reason=str(body.get("failureReason") or status.lower())[:REASON_MAX],
        )


def _expiry(milliseconds: Any) -> int:
    """Fawry's expirationTime (epoch milliseconds) in seconds; 0 when it gave none."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int) or milliseconds <= 0:
        return 0
    return milliseconds // 1000


def _digest(*parts: str) -> str:
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _field(body: dict[str, Any], key: str) -> str:
    """A field Fawry may send as a string or a number, as it signs it."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError(f"{key} is missing")
    return str(value)


def _reason(body: Any) -> str:
    return str(body["statusDescription"])
