"""Harness of the payments service's integration tests.

Per pytest worker: a real users service (recipients are looked up there) and the
payments service, in-process on random ports, each against its own freshly migrated
database and the session's Redis, signing tokens with one secret. Accounts, `rejected()`
and the autouse check that no call answers UNKNOWN or INTERNAL come from the users
harness.

Money enters through the sandbox provider as in production: a deposit is created and
its success event, signed with the sandbox secret of the service's settings, is sent to
HandleProviderEvent (`fund`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments import SPEC
from services.payments.api import build
from services.payments.providers import SUCCEEDED
from services.payments.providers.sandbox import Sandbox
from services.payments.settings import PaymentsSettings
from shared.server import RunningServer
from tests import harness
from tests.users.conftest import (
    Account,
    Metadata,
    accounts,
    admin,
    alice,
    bearer,
    bob,
    carol,
    libpq_url,
    no_call_answers_unknown_or_internal,
    open_channel,
    pytest_runtest_makereport,
    rejected,
    tokens,
    users_db_url,
    users_server,
    users_stub,
)

__all__ = [
    "Account",
    "Metadata",
    "accounts",
    "admin",
    "alice",
    "bearer",
    "bob",
    "carol",
    "no_call_answers_unknown_or_internal",
    "pytest_runtest_makereport",
    "rejected",
    "tokens",
    "users_db_url",
    "users_server",
    "users_stub",
]

DB_PASSWORD = "payments-test-password"
FEE_BASIS_POINTS = 500


def payments_settings(database_url: str, redis_url: str, users_address: str, **extra: Any) -> Any:
    return PaymentsSettings(
        **harness.service_settings(database_url, redis_url),
        users_address=users_address,
        tip_fee_basis_points=FEE_BASIS_POINTS,
        sandbox_delay_seconds=0.3,
        user_status_cache_seconds=1,
        **extra,
    )


@pytest.fixture(scope="session")
async def payments_db_url(pg_admin_url: str, worker_id: str) -> str:
    return await harness.provision_and_migrate(
        pg_admin_url, SPEC, f"daira_payments_{worker_id}", DB_PASSWORD
    )


@pytest.fixture(scope="session")
def settings(payments_db_url: str, redis_url: str, users_server: RunningServer) -> Any:
    return payments_settings(payments_db_url, redis_url, f"127.0.0.1:{users_server.port}")


@pytest.fixture(scope="session")
async def payments_server(settings: PaymentsSettings) -> AsyncIterator[RunningServer]:
    running = await harness.start_serving(SPEC, settings, build)
    yield running
    await running.stop(0)


@pytest.fixture(scope="session")
async def stub(
    payments_server: RunningServer,
) -> AsyncIterator[payments_pb2_grpc.PaymentsServiceStub]:
    channel = open_channel(payments_server.port)
    yield payments_pb2_grpc.PaymentsServiceStub(channel)
    await channel.close()


@pytest.fixture(scope="session")
def sandbox(settings: PaymentsSettings) -> Sandbox:
    """The simulator's signing side, with the service's sandbox secret."""
    return Sandbox(settings)


class Sql:
    """Plain SQL on the payments database: the tests check the ledger itself."""

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)

    async def rows(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cursor = await conn.execute(statement, params)
            return await cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="session")
def ledger_db(payments_db_url: str) -> Sql:
    return Sql(payments_db_url)


# --- calls tests share -------------------------------------------------------------------


def key() -> str:
    return uuid.uuid4().hex


async def wallet(stub: Any, who: Account, currency: str = "USD") -> pb.Wallet:
    reply = await stub.GetWallet(pb.GetWalletRequest(currency_code=currency), metadata=who.auth)
    return reply.wallet


async def available(stub: Any, who: Account, currency: str = "USD") -> int:
    return (await wallet(stub, who, currency)).available_balance


async def deliver(
    stub: Any, sandbox: Sandbox, payment: pb.Payment, type_: str = SUCCEEDED, **options: Any
) -> pb.HandleProviderEventResponse:
    """Send the sandbox's signed event about `payment` to the webhook."""
    payload, signature = sandbox.event(
        payment.provider_reference, payment.amount, payment.currency_code, type_, **options
    )
    return await stub.HandleProviderEvent(
        pb.HandleProviderEventRequest(
            provider=pb.PROVIDER_SANDBOX, payload=payload, signature=signature
        )
    )


async def silent_deposit(
    stub: Any, who: Account, amount: int, currency: str = "USD", request_id: str = ""
) -> pb.Payment:
    request = pb.CreateDepositRequest(
        amount=amount,
        currency_code=currency,
        provider=pb.PROVIDER_SANDBOX,
        request_id=request_id or key(),
        sandbox_behavior=pb.SANDBOX_BEHAVIOR_SILENT,
    )
    return (await stub.CreateDeposit(request, metadata=who.auth)).payment


async def fund(
    stub: Any, sandbox: Sandbox, who: Account, amount: int, currency: str = "USD"
) -> pb.Payment:
    """Deposit `amount` through the sandbox and confirm it: the wallet is credited."""
    payment = await silent_deposit(stub, who, amount, currency)
    return (await deliver(stub, sandbox, payment)).payment


async def tip(
    stub: Any,
    who: Account,
    to: Account,
    amount: int,
    currency: str = "USD",
    request_id: str = "",
    note: str = "",
) -> pb.Transaction:
    request = pb.TipRequest(
        recipient_id=to.id,
        amount=amount,
        currency_code=currency,
        note=note,
        request_id=request_id or key(),
    )
    return (await stub.Tip(request, metadata=who.auth)).transaction


async def withdraw(
    stub: Any,
    who: Account,
    amount: int,
    behavior: int = pb.SANDBOX_BEHAVIOR_SILENT,
    currency: str = "USD",
    request_id: str = "",
) -> pb.CreateWithdrawalResponse:
    request = pb.CreateWithdrawalRequest(
        amount=amount,
        currency_code=currency,
        provider=pb.PROVIDER_SANDBOX,
        destination="bank:EG0012345",
        request_id=request_id or key(),
        sandbox_behavior=behavior,
    )
    return await stub.CreateWithdrawal(request, metadata=who.auth)


async def ledger_sums(db: Sql) -> list[tuple[Any, ...]]:
    """Per currency: the sum of posted balances and pending debits minus credits (both 0)."""
    return await db.rows(
        "SELECT currency, sum(posted), sum(pending_debits) - sum(pending_credits) "
        "FROM accounts GROUP BY currency HAVING sum(posted) <> 0 "
        "OR sum(pending_debits) <> sum(pending_credits)"
    )
