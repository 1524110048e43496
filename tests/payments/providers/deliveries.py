"""What the providers send the service's webhook: Stripe's events and the signature
header it computes over them with the webhook secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from .fake_providers import STRIPE_SECRET


def stripe_event(
    intent: str, amount: int, kind: str = "payment_intent.succeeded", **extra: Any
) -> bytes:
    body = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": amount,
                "currency": "usd",
                **extra,
            }
        },
    }
    return json.dumps(body).encode()


def stripe_signature(payload: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"
