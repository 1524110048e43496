"""A payments service of a test module's own, pointed at the fake providers
(fake_providers.py), and the requests and checks the provider tests share.

The service is configured with each provider's credentials and base URL pointing at the
fake, and every request its HTTP client sends is checked to go to 127.0.0.1 only.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

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
from .fake_providers import (
    FAWRY_CODE,
    FAWRY_KEY,
    PAYPAL_CLIENT,
    PAYPAL_SECRET,
    PAYPAL_WEBHOOK,
    STRIPE_KEY,
    STRIPE_SECRET,
    Fake,
    FakeProviders,
)


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
