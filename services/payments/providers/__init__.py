"""Payment providers behind one interface: the sandbox simulator and the real adapters.

A provider opens a deposit (its reference, and the customer's next step to pay it, are
stored with the payment), sends a withdrawal once it is stored, and turns what its
webhook delivers into an `Event` after checking the delivery in the provider's own
scheme. The sandbox's events are JSON in the `Event` shape, signed with a hex HMAC-SHA256
(`sign`, `verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Protocol

from services.payments.repository import Record
from shared.errors import InvalidArgument, Unauthenticated

# Event types: a payment went through, it did not, or the provider's word settles nothing
# (still under way, or an outcome this service does not act on): acknowledged only.
SUCCEEDED = "payment.succeeded"
FAILED = "payment.failed"
NOTED = "payment.noted"
REASON_MAX = 500


@dataclass(frozen=True, slots=True)
class Event:
    """A provider's word on one payment."""

    id: str
    type: str
    reference: str
    amount: int
    currency: str
    created: int  # epoch seconds of signing
    reason: str = ""

    def to_json(self) -> bytes:
        body = {
            "id": self.id,
            "type": self.type,
            "reference": self.reference,
            "amount": self.amount,
            "currency": self.currency,
            "created": self.created,
            "reason": self.reason,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def parse(cls, payload: bytes) -> Event:
        try:
            body = json.loads(payload)
            event = cls(
                id=text(body, "id"),
                type=text(body, "type"),
                reference=text(body, "reference"),
                amount=_number(body, "amount"),
                currency=text(body, "currency"),
                created=_number(body, "created"),
                reason=str(body.get("reason", ""))[:REASON_MAX],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise not_an_event(exc) from None
        if event.type not in (SUCCEEDED, FAILED):
            raise InvalidArgument("payload", f"has an unknown event type {event.type!r}")
        return event


@dataclass(frozen=True, slots=True)
class Action:
    """What the customer does next to pay a deposit (PaymentAction), as stored with it."""

    client_secret: str = ""
    redirect_url: str = ""
    expire_time: int = 0  # epoch seconds; 0 when the provider names no deadline


@dataclass(frozen=True, slots=True)
class Opened:
    """A deposit the provider opened: the reference its events quote, and the customer's
    next step (None when the provider needs none, as the sandbox)."""

    reference: str
    action: Action | None = None


def text(body: dict[str, object], key: str) -> str:
    """A short non-empty string field of a provider's JSON (ValueError otherwise)."""
    value = body.get(key)
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 200:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _number(body: dict[str, object], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    return value


def not_an_event(exc: Exception) -> InvalidArgument:
    return InvalidArgument("payload", f"is not a provider event: {exc}")


def forged() -> Unauthenticated:
    return Unauthenticated(
        "the event's signature does not match its payload", reason="SIGNATURE_INVALID"
    )


def check_fresh(signed_at: float, tolerance: int, event_id: str = "") -> None:
    """Refuse a delivery signed longer ago (or further ahead) than the tolerance: a replay."""
    if abs(time.time() - signed_at) > tolerance:
        raise Unauthenticated(
            f"the event was signed more than {tolerance} s from now (a replay?)",
            reason="EVENT_EXPIRED",
            metadata={"event_id": event_id} if event_id else None,
        )


def sign(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def verify(secret: bytes, payload: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, payload).encode(), signature.encode())


class Provider(Protocol):
    @property
    def name(self) -> str:
        """As stored: stripe, paypal, fawry, instapay, sandbox."""

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        """Open a deposit at the provider: its reference and the customer's next step.
        Called inside the deposit's transaction, so a refusal (FAILED_PRECONDITION,
        UNAVAILABLE) keeps nothing."""

    def payout_reference(self, payment_id: str) -> str:
        """The reference a withdrawal is stored under before it is sent, or
        FAILED_PRECONDITION when this provider cannot pay out here."""

    async def start(self, payment: Record, behavior: str) -> None:
        """Once the payment is stored: send a withdrawal (the sandbox schedules its
        events). An error means the provider did not take it."""

    async def receive(self, payload: bytes, signature: str) -> Event:
        """The webhook's delivery as an Event once the provider's scheme vouches for it:
        UNAUTHENTICATED when it does not, INVALID_ARGUMENT when it is no event."""
