"""A local stand-in of Stripe's, PayPal's and Fawry's APIs on 127.0.0.1, and a payments
service of a test module's own pointed at it.

`FakeProviders` answers as the providers' APIs do, as far as the service calls them (the
fake PayPal verifies its deliveries' signatures with a key of its own, as PayPal does with
its certificate; the fake Fawry checks its charge requests' signature). A test can script
its next answer: a refusal, an outage, a dropped connection, a slow answer. The service is
configured with each provider's credentials and base URL pointing at it, and every
request its HTTP client sends is checked to go to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import grpc
import httpx
import pytest

from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments import SPEC
from services.payments.api import build
from services.payments.providers.sandbox import Sandbox
from shared.server import RunningServer
from tests import harness

from ..conftest import (
    DB_PASSWORD,
    Sql,
    available,
    fund,
    key,
    open_channel,
    payments_settings,
)

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


# --- the harness ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def providers_api() -> Iterator[FakeProviders]:
    server = FakeProviders()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", autouse=True)
def only_this_machine() -> Iterator[None]:
    """Every request the service's HTTP client sends must go to 127.0.0.1."""
    send = httpx.AsyncClient.send

    async def guarded(client: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        assert request.url.host == "127.0.0.1", f"a request to {request.url} left the machine"
        return await send(client, request, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx.AsyncClient, "send", guarded)
        yield


@dataclass
class Service:
    stub: payments_pb2_grpc.PaymentsServiceStub
    db: Sql
    url: str  # its database's, for the service's own code run by a test


@pytest.fixture(scope="module")
async def service(
    request: pytest.FixtureRequest,
    pg_admin_url: str,
    worker_id: str,
    redis_url: str,
    users_server: RunningServer,
    providers_api: FakeProviders,
) -> AsyncIterator[Service]:
    """The module's own service and database (named after the module)."""
    module = request.module.__name__.rpartition(".")[2]
    url = await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_payments_{module}_{worker_id}", DB_PASSWORD
    )
    settings = payments_settings(
        url,
        redis_url,
        f"127.0.0.1:{users_server.port}",
        provider_timeout_seconds=1.0,
        stripe_api_key=STRIPE_KEY,
        stripe_webhook_secret=STRIPE_SECRET,
        stripe_api_url=providers_api.url,
        paypal_client_id=PAYPAL_CLIENT,
        paypal_client_secret=PAYPAL_SECRET,
        paypal_webhook_id=PAYPAL_WEBHOOK,
        paypal_api_url=providers_api.url,
        fawry_merchant_code=FAWRY_CODE,
        fawry_security_key=FAWRY_KEY,
        fawry_api_url=providers_api.url,
    )
    running = await harness.start_serving(SPEC, settings, build)
    channel = open_channel(running.port)
    yield Service(payments_pb2_grpc.PaymentsServiceStub(channel), Sql(url), url)
    await channel.close()
    await running.stop(0)


@pytest.fixture
def fake(providers_api: FakeProviders) -> Iterator[Fake]:
    yield providers_api.fake
    providers_api.fake.scripts.clear()
    providers_api.fake.requests.clear()


def deposit_request(provider: int, amount: int, currency: str = "USD") -> pb.CreateDepositRequest:
    return pb.CreateDepositRequest(
        amount=amount, currency_code=currency, provider=provider, request_id=key()
    )


def event_request(provider: int, payload: bytes, signature: str) -> pb.HandleProviderEventRequest:
    return pb.HandleProviderEventRequest(provider=provider, payload=payload, signature=signature)


async def payments_of(service: Service, who: Any) -> list[tuple[Any, ...]]:
    return await service.db.rows(
        "SELECT provider, state FROM payments WHERE user_id = %s ORDER BY created_at", who.id
    )


async def assert_refused_and_nothing_stored(
    service: Service, who: Any, failure: Any, provider_reason: str
) -> None:
    """A provider's refusal: FAILED_PRECONDITION carrying its reason, and no payment kept."""
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_REFUSED" in failure.reasons and provider_reason in failure.message
    assert await payments_of(service, who) == []


async def a_withdrawal_is_refused_and_moves_nothing(
    service: Service,
    sandbox: Sandbox,
    fake: Fake,
    who: Any,
    rejected: Any,
    provider: int,
    currency: str,
    destination: str,
) -> None:
    """`who`, funded with 500 `currency`, withdraws 100 through a provider that pays nothing
    out: refused, the wallet as it was, and the provider never called."""
    await fund(service.stub, sandbox, who, 500, currency)
    request = pb.CreateWithdrawalRequest(
        amount=100,
        currency_code=currency,
        provider=provider,
        destination=destination,
        request_id=key(),
    )
    failure = await rejected(service.stub.CreateWithdrawal(request, metadata=who.auth))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_NO_PAYOUTS" in failure.reasons
    assert await available(service.stub, who, currency) == 500
    assert fake.requests == []


# --- what the providers send ------------------------------------------------------------


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
