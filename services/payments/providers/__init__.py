"""Payment providers behind one interface: the sandbox simulator and the real adapters.

Every provider signs its webhook events with HMAC-SHA256 under a per-provider secret
from the settings; `verify` checks a signature in constant time. Events arrive in one
JSON shape (see `Event`), whoever sends them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

from services.payments.repository import Record
from shared.errors import InvalidArgument

# Event types: a payment went through, or it did not.
SUCCEEDED = "payment.succeeded"
FAILED = "payment.failed"
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
                id=_text(body, "id"),
                type=_text(body, "type"),
                reference=_text(body, "reference"),
                amount=_number(body, "amount"),
                currency=_text(body, "currency"),
                created=_number(body, "created"),
                reason=str(body.get("reason", ""))[:REASON_MAX],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidArgument("payload", f"is not a provider event: {exc}") from None
        if event.type not in (SUCCEEDED, FAILED):
            raise InvalidArgument("payload", f"has an unknown event type {event.type!r}")
        return event


def _text(body: dict[str, object], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > 200:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _number(body: dict[str, object], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    return value


def sign(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def verify(secret: bytes, payload: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, payload).encode(), signature.encode())


class Provider(Protocol):
    @property
    def name(self) -> str:
        """As stored: stripe, paypal, fawry, instapay, sandbox."""

    def webhook_secret(self) -> bytes:
        """The secret its events are signed with; FAILED_PRECONDITION when not configured."""

    def reference(self, payment_id: str) -> str:
        """The provider's reference of a new payment, or FAILED_PRECONDITION when this
        provider cannot take payments here."""

    def start(self, payment: Record, behavior: str) -> None:
        """Hand a new payment to the provider (its outcome comes back as an event)."""
