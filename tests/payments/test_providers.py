"""The real providers' adapters against a local stand-in of their APIs on 127.0.0.1.

`FakeProviders` answers as Stripe's API does, as far as the service calls it; a test can
script its next answer (a refusal, an outage, a dropped connection). A payments service
of its own is configured with each provider's credentials and base URL pointing at it,
and every request its HTTP client sends is checked to go to 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
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
from shared.server import RunningServer
from tests import harness

from .conftest import DB_PASSWORD, Sql, available, fund, key, open_channel, payments_settings

STRIPE_KEY = "sk_test_daira"
STRIPE_SECRET = "whsec_daira_test"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


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

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


class Handler(BaseHTTPRequestHandler):
    server: FakeProviders

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was seen."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fake = self.server.fake
        fake.requests.append(Seen("POST", self.path, dict(self.headers.items()), body))
        script = fake.scripts.pop(self.path, None)
        if script is not None and (script.drop or script.delay):
            time.sleep(script.delay)
            self.close_connection = True
            self.connection.close()
            return
        status, answer = (script.status, script.body) if script else self.server.route(self, body)
        data = json.dumps(answer).encode()
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
        if request.path == "/v1/payment_intents":
            return stripe_create(request, body)
        return 404, {"error": {"message": f"no route {request.path}"}}


def stripe_create(request: Handler, body: bytes) -> tuple[int, Any]:
    if request.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
    form = dict(parse_qsl(body.decode()))
    intent = {
        "id": f"pi_{uuid.uuid4().hex[:24]}",
        "object": "payment_intent",
        "amount": int(form["amount"]),
        "currency": form["currency"],
        "status": "requires_payment_method",
        "metadata": {"payment_id": form["metadata[payment_id]"]},
    }
    return 200, intent


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


@pytest.fixture(scope="module")
async def service(
    pg_admin_url: str,
    worker_id: str,
    redis_url: str,
    users_server: RunningServer,
    providers_api: FakeProviders,
) -> AsyncIterator[Service]:
    url = await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_payments_providers_{worker_id}", DB_PASSWORD
    )
    settings = payments_settings(
        url,
        redis_url,
        f"127.0.0.1:{users_server.port}",
        provider_timeout_seconds=1.0,
        stripe_api_key=STRIPE_KEY,
        stripe_webhook_secret=STRIPE_SECRET,
        stripe_api_url=providers_api.url,
    )
    running = await harness.start_serving(SPEC, settings, build)
    channel = open_channel(running.port)
    yield Service(payments_pb2_grpc.PaymentsServiceStub(channel), Sql(url))
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


# --- Stripe -----------------------------------------------------------------------------


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


async def stripe_deposit(service: Service, who: Any, amount: int) -> pb.Payment:
    request = deposit_request(pb.PROVIDER_STRIPE, amount)
    return (await service.stub.CreateDeposit(request, metadata=who.auth)).payment


async def test_a_stripe_deposit_is_a_payment_intent_pending_under_its_id(
    service, fake, alice
) -> None:
    payment = await stripe_deposit(service, alice, 1_250)
    assert payment.state == pb.PAYMENT_STATE_PENDING
    assert payment.provider_reference.startswith("pi_")
    [sent] = fake.seen("/v1/payment_intents")
    assert sent.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert sent.headers["Idempotency-Key"] == payment.id
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(parse_qsl(sent.body.decode()))
    assert (form["amount"], form["currency"], form["metadata[payment_id]"]) == (
        "1250",
        "usd",
        payment.id,
    )


async def test_stripes_signed_success_credits_the_wallet(service, fake, alice) -> None:
    payment = await stripe_deposit(service, alice, 1_250)
    payload = stripe_event(payment.provider_reference, 1_250)
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, payload, stripe_signature(payload))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert reply.event_id == json.loads(payload)["id"]
    assert await available(service.stub, alice) == 1_250


async def test_a_stripe_attempt_that_failed_settles_nothing_and_a_cancel_fails_it(
    service, fake, alice
) -> None:
    payment = await stripe_deposit(service, alice, 300)
    attempt = stripe_event(
        payment.provider_reference,
        300,
        "payment_intent.payment_failed",
        last_payment_error={"message": "Your card was declined."},
    )
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, attempt, stripe_signature(attempt))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_PENDING
    cancel = stripe_event(
        payment.provider_reference,
        300,
        "payment_intent.canceled",
        cancellation_reason="abandoned",
    )
    reply = await service.stub.HandleProviderEvent(
        event_request(pb.PROVIDER_STRIPE, cancel, stripe_signature(cancel))
    )
    assert reply.payment.state == pb.PAYMENT_STATE_FAILED
    assert reply.payment.failure_reason == "abandoned"
    assert await available(service.stub, alice) == 0


@pytest.mark.parametrize(
    "signature",
    [
        lambda p: stripe_signature(p, "whsec_not_ours"),
        lambda p: stripe_signature(p, at=int(time.time()) - 3600),
        lambda p: stripe_signature(p).replace("v1=", "v0="),
        lambda p: "",
    ],
    ids=["other-secret", "stale", "no-v1", "empty"],
)
async def test_a_stripe_event_not_signed_by_stripe_now_moves_nothing(
    service, fake, alice, rejected, signature
) -> None:
    payment = await stripe_deposit(service, alice, 400)
    payload = stripe_event(payment.provider_reference, 400)
    failure = await rejected(
        service.stub.HandleProviderEvent(
            event_request(pb.PROVIDER_STRIPE, payload, signature(payload))
        )
    )
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice) == 0


async def test_a_stripe_event_changed_after_signing_moves_nothing(
    service, fake, alice, rejected
) -> None:
    payment = await stripe_deposit(service, alice, 400)
    payload = stripe_event(payment.provider_reference, 400)
    signature = stripe_signature(payload)
    tampered = payload.replace(b'"amount": 400', b'"amount": 900')
    assert tampered != payload
    failure = await rejected(
        service.stub.HandleProviderEvent(event_request(pb.PROVIDER_STRIPE, tampered, signature))
    )
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert await available(service.stub, alice) == 0


@pytest.mark.parametrize(
    "script",
    [
        Script(503, {"error": {"message": "overloaded"}}),
        Script(429, {"error": {"message": "rate limited"}}),
        Script(drop=True),
        Script(delay=1.5),
    ],
    ids=["503", "429", "dropped", "too-slow"],
)
async def test_stripe_down_is_unavailable_and_records_nothing(
    service, fake, alice, rejected, script
) -> None:
    fake.scripts["/v1/payment_intents"] = script
    request = deposit_request(pb.PROVIDER_STRIPE, 500)
    failure = await rejected(service.stub.CreateDeposit(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.UNAVAILABLE
    assert "PROVIDER_UNAVAILABLE" in failure.reasons
    assert await payments_of(service, alice) == []
    # The request_id was not kept: the same request goes through once Stripe is back.
    again = await service.stub.CreateDeposit(request, metadata=alice.auth)
    assert again.payment.state == pb.PAYMENT_STATE_PENDING


async def test_stripe_refusing_is_failed_precondition_with_its_reason(
    service, fake, alice, rejected
) -> None:
    fake.scripts["/v1/payment_intents"] = Script(
        400, {"error": {"type": "invalid_request_error", "message": "Amount must be at least"}}
    )
    failure = await rejected(stripe_deposit(service, alice, 1))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_REFUSED" in failure.reasons and "Amount must be at least" in failure.message
    assert await payments_of(service, alice) == []


async def test_a_withdrawal_through_stripe_is_refused_and_moves_nothing(
    service, sandbox, fake, alice, rejected
) -> None:
    await fund(service.stub, sandbox, alice, 500)
    request = pb.CreateWithdrawalRequest(
        amount=100,
        currency_code="USD",
        provider=pb.PROVIDER_STRIPE,
        destination="acct_1",
        request_id=key(),
    )
    failure = await rejected(service.stub.CreateWithdrawal(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "PROVIDER_NO_PAYOUTS" in failure.reasons
    assert await available(service.stub, alice) == 500
    assert fake.requests == []
