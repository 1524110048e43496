"""PAYPAL: a deposit is a Checkout order (Orders v2), a withdrawal a payout (Payouts).

Every call carries an access token from the OAuth2 client-credentials grant, kept until a
minute before it expires. A deposit creates an order to CAPTURE, its id the payment's
reference and the payment's id its PayPal-Request-Id (PayPal makes one order per id). The
buyer approves it at PayPal, sent to the order's approval link (the deposit's next
action: its "payer-action" link, or "approve" for an order without a payment source);
CHECKOUT.ORDER.APPROVED makes the service capture it, and the capture's outcome settles
the deposit (PAYMENT.CAPTURE.* events confirm it later, or settle a capture PayPal left
pending). A withdrawal is a payout of one item, sent once stored, to the destination's
PayPal email (or, without an @, its PayPal account id), its batch and item named by the
payment's id, which is its reference: PayPal takes one batch per id and quotes the
item's id in its PAYMENT.PAYOUTS-ITEM.* events.

PayPal signs a delivery with its own certificate over headers of the request, so the
service asks PayPal (verify-webhook-signature, for the configured webhook id) whether it
is genuine, passing the body exactly as received. The signature of HandleProviderEvent
carries those headers as a JSON object of their lower-case names and values (HEADERS).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
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
    text,
)
from services.payments.providers.amounts import decimal_text, minor_units
from services.payments.providers.credentials import Credentials
from services.payments.providers.http import Http, unavailable
from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.errors import FailedPrecondition, InvalidArgument

CLIENT, SECRET, WEBHOOK = "paypal_client_id", "paypal_client_secret", "paypal_webhook_id"
HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)
APPROVAL_LINKS = ("payer-action", "approve")
TOKEN_MARGIN_SECONDS = 60
ORDER_ID = re.compile(r"[A-Z0-9]{1,36}")
CAPTURES = {"COMPLETED": SUCCEEDED, "DECLINED": FAILED, "DENIED": FAILED, "FAILED": FAILED}
PAYOUT_ITEMS = {
    "SUCCEEDED": SUCCEEDED,
    "FAILED": FAILED,
    "RETURNED": FAILED,
    "BLOCKED": FAILED,
    "DENIED": FAILED,
    "CANCELED": FAILED,
    "REFUNDED": FAILED,
}


class PayPal:
    name = "paypal"

    def __init__(self, settings: PaymentsSettings, http: Http) -> None:
        self._credentials = Credentials(self.name, settings)
        self._http = http
        self._url = settings.paypal_api_url.rstrip("/")
        self._tolerance = settings.webhook_tolerance_seconds
        self._token: tuple[str, float] | None = None  # and when to get another

    async def _call(self, path: str, request_id: str = "", **options: Any) -> Any:
        """POST to PayPal's API with a token; one PayPal no longer takes (401) is
        replaced once."""
        try:
            return await self._post(path, request_id, await self._access_token(False), options)
        except FailedPrecondition as exc:
            if exc.metadata.get("http_status") != "401":
                raise
        return await self._post(path, request_id, await self._access_token(True), options)

    async def _post(self, path: str, request_id: str, token: str, options: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        return await self._http.call(
            self.name, "POST", f"{self._url}{path}", _reason, headers=headers, **options
        )

    async def _access_token(self, fresh: bool) -> str:
        client, secret, _ = self._credentials.require(CLIENT, SECRET, WEBHOOK)
        now = time.monotonic()
        if fresh or self._token is None or self._token[1] <= now:
            body = await self._http.call(
                self.name,
                "POST",
                f"{self._url}/v1/oauth2/token",
                _reason,
                data={"grant_type": "client_credentials"},
                auth=(client, secret),
            )
            token, lifetime = (
                (body.get("access_token"), body.get("expires_in"))
                if isinstance(body, dict)
                else (None, None)
            )
            if not isinstance(token, str) or not isinstance(lifetime, int):
                raise unavailable(self.name, "answered without an access token")
            self._token = (token, now + lifetime - TOKEN_MARGIN_SECONDS)
        return self._token[0]

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        order = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "custom_id": payment_id,
                    "amount": {"currency_code": currency, "value": decimal_text(amount, currency)},
                }
            ],
        }
        body = await self._call("/v2/checkout/orders", payment_id, json=order)
        reference = body.get("id") if isinstance(body, dict) else None
        if not isinstance(reference, str) or not ORDER_ID.fullmatch(reference):
            raise unavailable(self.name, "answered without an order id")
        approval = _approval_link(body)
        if approval is None:
            raise unavailable(self.name, "answered an order without its approval link")
        return Opened(reference, Action(redirect_url=approval))

    def payout_reference(self, payment_id: str) -> str:
        self._credentials.require(CLIENT, SECRET, WEBHOOK)
        return payment_id

    async def start(self, payment: Record, behavior: str) -> None:
        """Send a withdrawal as a payout (a deposit waits for the buyer's approval)."""
        if payment.kind != "withdrawal":
            return
        receiver: str = payment.destination
        item = {
            "recipient_type": "EMAIL" if "@" in receiver else "PAYPAL_ID",
            "receiver": receiver,
            "sender_item_id": payment.reference,
            "amount": {
                "currency": payment.currency,
                "value": decimal_text(payment.amount, payment.currency),
            },
        }
        batch = {
            "sender_batch_header": {
                "sender_batch_id": payment.reference,
                "email_subject": "You have a payout from Daira",
            },
            "items": [item],
        }
        await self._call("/v1/payments/payouts", json=batch)

    async def receive(self, payload: bytes, signature: str) -> Event:
        _, _, webhook_id = self._credentials.require(CLIENT, SECRET, WEBHOOK)
        headers = _transmission(signature)
        signed_at = _epoch(headers["paypal-transmission-time"])
        check_fresh(signed_at, self._tolerance)
        try:
            event = json.loads(payload)
            if not isinstance(event, dict):
                raise ValueError("the payload is not a JSON object")
        except ValueError as exc:
            raise not_an_event(exc) from None
        await self._verify(headers, webhook_id, payload)
        try:
            return await self._event(event, int(signed_at))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise not_an_event(exc) from None

    async def _verify(self, headers: dict[str, str], webhook_id: str, payload: bytes) -> None:
        """PayPal's word on the delivery; the event is passed on byte for byte, since
        PayPal's signature covers the body as it was sent."""
        request = {
            "auth_algo": headers["paypal-auth-algo"],
            "cert_url": headers["paypal-cert-url"],
            "transmission_id": headers["paypal-transmission-id"],
            "transmission_sig": headers["paypal-transmission-sig"],
            "transmission_time": headers["paypal-transmission-time"],
            "webhook_id": webhook_id,
        }
        content = json.dumps(request)[:-1].encode() + b', "webhook_event": ' + payload + b"}"
        verdict = await self._call("/v1/notifications/verify-webhook-signature", content=content)
        if not isinstance(verdict, dict) or verdict.get("verification_status") != "SUCCESS":
            raise forged()

    async def _event(self, event: dict[str, Any], signed_at: int) -> Event:
        kind, resource = text(event, "event_type"), event["resource"]
        if kind == "CHECKOUT.ORDER.APPROVED":
            return await self._capture(text(event, "id"), signed_at, resource)
        group, _, outcome = kind.rpartition(".")
        if group == "PAYMENT.CAPTURE":
            reference = resource["supplementary_data"]["related_ids"]["order_id"]
            money = resource["amount"]
            currency, value = money["currency_code"], money["value"]
            verdict = CAPTURES.get(outcome, NOTED)
            reason = (resource.get("status_details") or {}).get("reason", "")
        elif group == "PAYMENT.PAYOUTS-ITEM":
            item = resource["payout_item"]
            reference, money = item["sender_item_id"], item["amount"]
            currency, value = money["currency"], money["value"]
            verdict = PAYOUT_ITEMS.get(outcome, NOTED)
            reason = (resource.get("errors") or {}).get("message", "") or outcome.lower()
        else:
            raise InvalidArgument("payload", f"is a {kind} event, which this service does not take")
        return Event(
            id=text(event, "id"),
            type=verdict,
            reference=str(reference),
            amount=minor_units(value, currency),
            currency=str(currency),
            created=signed_at,
            reason=str(reason)[:REASON_MAX],
        )

    async def _capture(self, event_id: str, signed_at: int, order: dict[str, Any]) -> Event:
        """Capture an approved order; its capture's outcome is the event."""
        order_id = text(order, "id")
        if not ORDER_ID.fullmatch(order_id):
            raise ValueError("the order id is not PayPal's")
        body = await self._call(
            f"/v2/checkout/orders/{order_id}/capture", f"capture-{order_id}", json={}
        )
        try:
            capture = body["purchase_units"][0]["payments"]["captures"][0]
            money = capture["amount"]
            status = str(capture["status"])
            amount = minor_units(money["value"], money["currency_code"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise unavailable(self.name, "answered a capture without its outcome") from None
        return Event(
            id=event_id,
            type=CAPTURES.get(status, NOTED),
            reference=order_id,
            amount=amount,
            currency=str(money["currency_code"]),
            created=signed_at,
            reason=str((capture.get("status_details") or {}).get("reason", ""))[:REASON_MAX],
        )


def _transmission(signature: str) -> dict[str, str]:
    """PayPal's transmission headers, as HandleProviderEvent's signature carries them."""
    try:
        headers = json.loads(signature)
    except ValueError:
        raise forged() from None
    if not isinstance(headers, dict) or not all(
        isinstance(headers.get(h), str) and headers[h] for h in HEADERS
    ):
        raise forged()
    return {h: headers[h] for h in HEADERS}


def _approval_link(order: dict[str, Any]) -> str | None:
    """Where the buyer approves the order: its first approval link over HTTPS."""
    links = order.get("links")
    found = [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []
    hrefs = {link.get("rel"): link.get("href") for link in found}
    for rel in APPROVAL_LINKS:
        href = hrefs.get(rel)
        if isinstance(href, str) and href.startswith("https://"):
            return href
    return None


def _epoch(moment: str) -> float:
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        raise forged() from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _reason(body: Any) -> str:
    """Why PayPal refused: its OAuth error, or its message and the details' issues."""
    if "error_description" in body:
        return str(body["error_description"])
    issues = [d.get("description") or d.get("issue") for d in body.get("details") or []]
    return "; ".join(str(p) for p in (body.get("message"), *issues) if p)
