"""A local stand-in of Stripe's, PayPal's and Fawry's APIs on 127.0.0.1.

`FakeProviders` answers as the providers' APIs do, as far as the service calls them (the
fake PayPal verifies its deliveries' signatures with a key of its own, as PayPal does with
its certificate; the fake Fawry checks its charge requests' signature). A test can script
its next answer: a refusal, an outage, a dropped connection, a slow answer. The
credentials here are the ones the tests' payments service is configured with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

STRIPE_KEY = "sk_test_daira"
STRIPE_SECRET = "whsec_daira_test"
PAYPAL_CLIENT, PAYPAL_SECRET = "paypal-client-daira", "paypal-secret-daira"
PAYPAL_WEBHOOK = "WH8DAIRA"
PAYPAL_TOKEN = "A21AAdaira-access-token"
PAYPAL_CERT_KEY = b"the fake PayPal's signing key"
FAWRY_CODE, FAWRY_KEY = "1tSa6uxz2nRbgY+b+cZGyA==", "fawry-security-key-daira"
FAWRY_CHARGE = "/ECommerceWeb/Fawry/payments/charge"
# PayPal's answer to an expired or revoked token: the service gets another.
PAYPAL_TOKEN_REFUSED_BODY = {"error": "invalid_token", "error_description": "Token is expired"}
PAYPAL_CAPTURE = re.compile(r"/v2/checkout/orders/([A-Z0-9]+)/capture")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answer: Any = None  # the JSON answered, when one was


@dataclass
class Script:
    """The next answer to a path: a status and JSON body (after a delay), or the
    connection dropped."""

    status: int = 200
    body: Any = None
    drop: bool = False
    delay: float = 0.0


@dataclass
class Fake:
    requests: list[Seen] = field(default_factory=list)
    scripts: dict[str, Script] = field(default_factory=dict)
    orders: dict[str, dict[str, str]] = field(default_factory=dict)

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


class Handler(BaseHTTPRequestHandler):
    server: FakeProviders

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was seen."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fake = self.server.fake
        seen = Seen("POST", self.path, dict(self.headers.items()), body)
        fake.requests.append(seen)
        script = fake.scripts.pop(self.path, None)
        if script is not None and (script.drop or script.delay):
            time.sleep(script.delay)
            self.close_connection = True
            self.connection.close()
            return
        status, seen.answer = (
            (script.status, script.body) if script else self.server.route(self, body)
        )
        data = json.dumps(seen.answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeProviders(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.fake = Fake()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def route(self, request: Handler, body: bytes) -> tuple[int, Any]:
        path = request.path
        if path == "/v1/payment_intents":
            return stripe_create(request, body)
        if path == FAWRY_CHARGE:
            return fawry_charge(json.loads(body))
        if path == "/v1/oauth2/token":
            return paypal_token(request, body)
        if request.headers.get("Authorization") != f"Bearer {PAYPAL_TOKEN}":
            return 401, PAYPAL_TOKEN_REFUSED_BODY
        if path == "/v2/checkout/orders":
            return paypal_order(self.fake, json.loads(body))
        if captured := PAYPAL_CAPTURE.fullmatch(path):
            return paypal_capture(self.fake, captured[1])
        if path == "/v1/payments/payouts":
            return 201, {
                "batch_header": {"payout_batch_id": "5UXD2E8A7EBQJ", "batch_status": "PENDING"}
            }
        if path == "/v1/notifications/verify-webhook-signature":
            return paypal_verify(body)
        return 404, {"error": {"message": f"no route {path}"}}


def stripe_create(request: Handler, body: bytes) -> tuple[int, Any]:
    if request.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
    form = dict(parse_qsl(body.decode()))
    intent_id = f"pi_{uuid.uuid4().hex[:24]}"
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": int(form["amount"]),
        "currency": form["currency"],
        "status": "requires_payment_method",
        "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:24]}",
        "metadata": {"payment_id": form["metadata[payment_id]"]},
    }
    return 200, intent


def sha256(*parts: str) -> str:
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def fawry_charge(charge: dict[str, Any]) -> tuple[int, Any]:
    """Fawry answers its refusals with HTTP 200 and a statusCode of its own."""
    expected = sha256(
        charge["merchantCode"],
        charge["merchantRefNum"],
        charge.get("customerProfileId", ""),
        charge["paymentMethod"],
        f"{charge['amount']:.2f}",
        FAWRY_KEY,
    )
    if charge["merchantCode"] != FAWRY_CODE or charge["signature"] != expected:
        return 200, {
            "type": "ChargeResponse",
            "statusCode": 9946,
            "statusDescription": "Wrong Signature",
        }
    return 200, {
        "type": "ChargeResponse",
        "referenceNumber": str(900_000_000 + uuid.uuid4().int % 99_999_999),
        "merchantRefNumber": charge["merchantRefNum"],
        "expirationTime": int(time.time() * 1000) + 86_400_000,
        "statusCode": 200,
        "statusDescription": "Operation done successfully",
    }


def paypal_token(request: Handler, body: bytes) -> tuple[int, Any]:
    basic = base64.b64encode(f"{PAYPAL_CLIENT}:{PAYPAL_SECRET}".encode()).decode()
    if request.headers.get("Authorization") != f"Basic {basic}":
        return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
    assert dict(parse_qsl(body.decode())) == {"grant_type": "client_credentials"}
    return 200, {"access_token": PAYPAL_TOKEN, "token_type": "Bearer", "expires_in": 32400}


def paypal_order(fake: Fake, order: dict[str, Any]) -> tuple[int, Any]:
    order_id = uuid.uuid4().hex[:17].upper()
    fake.orders[order_id] = order["purchase_units"][0]["amount"]
    links = [
        {"href": f"https://api.paypal.com/v2/checkout/orders/{order_id}", "rel": "self"},
        {"href": f"https://www.paypal.com/checkoutnow?token={order_id}", "rel": "approve"},
        {"href": f"https://api.paypal.com/v2/checkout/orders/{order_id}/capture", "rel": "capture"},
    ]
    return 201, {"id": order_id, "status": "CREATED", "intent": order["intent"], "links": links}


def paypal_capture(fake: Fake, order_id: str) -> tuple[int, Any]:
    if order_id not in fake.orders:
        return 404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified order was not found"}
    capture = {"id": "CAP" + order_id, "status": "COMPLETED", "amount": fake.orders[order_id]}
    units = [{"payments": {"captures": [capture]}}]
    return 201, {"id": order_id, "status": "COMPLETED", "purchase_units": units}


def paypal_mac(transmission_id: str, at: str, webhook_id: str, payload: bytes) -> str:
    """What the fake PayPal signs: PayPal's own input, with a key in place of its cert."""
    message = f"{transmission_id}|{at}|{webhook_id}|{zlib.crc32(payload)}".encode()
    return hmac.new(PAYPAL_CERT_KEY, message, hashlib.sha256).hexdigest()


def paypal_verify(body: bytes) -> tuple[int, Any]:
    """The verdict on a delivery, over the webhook event's bytes as the service sent them."""
    request = json.loads(body)
    marker = b'"webhook_event": '
    payload = body[body.index(marker) + len(marker) : -1]
    expected = paypal_mac(
        request["transmission_id"], request["transmission_time"], request["webhook_id"], payload
    )
    genuine = request["webhook_id"] == PAYPAL_WEBHOOK and hmac.compare_digest(
        expected, request["transmission_sig"]
    )
    return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}
