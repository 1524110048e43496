"""The bench's payments database: wallets funded through the service itself, and the
ledger checked entry by entry once the runs are over.

Funding goes through the real path, as a user's deposit would: CreateDeposit with the
sandbox, then the sandbox's signed success event sent to HandleProviderEvent as a
provider calls the webhook, which credits the wallet from the sandbox's clearing account
(each caller waits for its webhook's answer, as the provider's deliveries would). So
the tips run against ledger rows the service wrote, and the check after them covers the
funding too.

The check proves that nothing was lost, created or counted twice: every currency sums to
zero over all accounts, no wallet is below zero, every transfer's debits equal its
credits, each account's entries form one unbroken chain (versions 1, 2, … with each
entry's balance before the previous one's after) ending at the account's balance and
version, and every tip has the idempotency key of the one call that made it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg

from bench import dataset
from bench.dataset import libpq
from daira.payments.v1 import payments_pb2 as pb
from daira.payments.v1 import payments_pb2_grpc
from services.payments import SPEC
from services.payments.providers import SUCCEEDED, Event, sign

DATABASE = "daira_payments_bench"
CURRENCY = "USD"
# Each funded wallet's deposit: USD 1,000.00, far more than a run's tips take.
DEPOSIT = 100_000
FUNDING_CALLERS = 16

Metadata = tuple[tuple[str, str], ...]

# Each query names what is wrong; the check passes when every one finds nothing.
CHECKS = {
    "a currency whose accounts do not sum to zero": """
        SELECT currency FROM accounts GROUP BY currency
        HAVING sum(posted) <> 0 OR sum(pending_debits) <> sum(pending_credits)
    """,
    "a wallet below zero": """
        SELECT id FROM accounts WHERE kind = 'wallet' AND posted - pending_debits < 0
    """,
    "a transfer whose debits and credits differ": """
        SELECT transfer_id FROM ledger_entries GROUP BY transfer_id
        HAVING sum(amount) FILTER (WHERE side = 'debit')
               <> sum(amount) FILTER (WHERE side = 'credit')
    """,
    "an entry that does not follow the account's previous one": """
        SELECT account_id, version FROM (
            SELECT account_id, version, balance_before, pending_before,
                   lag(version) OVER w AS previous_version,
                   lag(balance_after) OVER w AS previous_balance,
                   lag(pending_after) OVER w AS previous_pending
            FROM ledger_entries WINDOW w AS (PARTITION BY account_id ORDER BY version)
        ) AS chained
        WHERE version <> coalesce(previous_version, 0) + 1
           OR balance_before <> coalesce(previous_balance, 0)
           OR pending_before <> coalesce(previous_pending, 0)
    """,
    "an account whose balance or version is not its last entry's": """
        SELECT a.id FROM accounts AS a
        LEFT JOIN LATERAL (
            SELECT balance_after, version FROM ledger_entries AS e
            WHERE e.account_id = a.id ORDER BY version DESC LIMIT 1
        ) AS last ON true
        WHERE a.posted <> coalesce(last.balance_after, 0)
           OR a.version <> coalesce(last.version, 0)
    """,
    "a tip without the idempotency key of the call that made it, or a key without its tip": """
        SELECT t.id FROM transfers AS t
        FULL JOIN (SELECT result_id FROM idempotency_keys WHERE operation = 'tip') AS k
            ON k.result_id = t.id
        WHERE (t.type = 'tip' OR t.id IS NULL) AND (k.result_id IS NULL OR t.id IS NULL)
    """,
}
MADE_SQL = """
    SELECT count(*) FROM idempotency_keys WHERE operation = 'tip' AND request_id LIKE %s
"""
TIPS_SQL = """
    SELECT count(*), coalesce(sum(amount), 0), count(*) FILTER (WHERE payee_id = %s)
    FROM transfers WHERE type = 'tip'
"""


@dataclass(frozen=True)
class PaymentsIds:
    """What the payments scenarios work on."""

    # Users with a funded wallet: the tips' senders, and (but the hot one) their recipients.
    funded: list[str]
    # The one wallet every tip of tip-hot goes to.
    hot: str


@dataclass(frozen=True)
class Ledger:
    tips: int
    tipped: int
    hot_tips: int
    entries: int


def provision(admin_url: str) -> str:
    return dataset.provision(admin_url, SPEC, DATABASE)


async def _fund(
    target: str, users: Sequence[str], mint: Callable[[str], Metadata], secret: bytes
) -> None:
    queue = list(users)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = payments_pb2_grpc.PaymentsServiceStub(channel)

        async def caller() -> None:
            while queue:
                user = queue.pop()
                request = pb.CreateDepositRequest(
                    amount=DEPOSIT,
                    currency_code=CURRENCY,
                    provider=pb.PROVIDER_SANDBOX,
                    request_id=f"bench-deposit-{user}",
                    sandbox_behavior=pb.SANDBOX_BEHAVIOR_SILENT,
                )
                reply = await stub.CreateDeposit(request, metadata=mint(user), timeout=30)
                payload = Event(
                    id=f"bench-{reply.payment.id}",
                    type=SUCCEEDED,
                    reference=reply.payment.provider_reference,
                    amount=DEPOSIT,
                    currency=CURRENCY,
                    created=int(time.time()),
                ).to_json()
                event = pb.HandleProviderEventRequest(
                    provider=pb.PROVIDER_SANDBOX, payload=payload, signature=sign(secret, payload)
                )
                await stub.HandleProviderEvent(event, timeout=30)

        await asyncio.gather(*(caller() for _ in range(FUNDING_CALLERS)))


def fund(
    url: str, target: str, users: Sequence[str], mint: Callable[[str], Metadata], secret: str
) -> PaymentsIds:
    """Deposit into each user's wallet through the service, whose sandbox signs with
    `secret`; checked credited, every one."""
    asyncio.run(_fund(target, users, mint, secret.encode()))
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM accounts WHERE kind = 'wallet' AND posted = %s", (DEPOSIT,)
        ).fetchone()
        if row is None or row[0] != len(users):
            raise RuntimeError(f"{row and row[0]} of {len(users)} deposits credited")
        conn.execute("VACUUM (ANALYZE) accounts, ledger_entries, transfers, payments")
    return PaymentsIds(funded=list(users[1:]), hot=users[0])


def check(url: str, hot: str) -> Ledger:
    """Raise unless the ledger is whole (see the module's docstring); what it holds."""
    with psycopg.connect(libpq(url)) as conn:
        for problem, query in CHECKS.items():
            found: list[Any] = conn.execute(query).fetchmany(3)
            if found:
                raise RuntimeError(f"ledger check failed: {problem}: {found}")
        tips = conn.execute(TIPS_SQL, (uuid.UUID(hot),)).fetchone()
        entries = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()
    assert tips is not None and entries is not None
    return Ledger(tips=tips[0], tipped=tips[1], hot_tips=tips[2], entries=entries[0])


def made(url: str, prefix: str) -> int:
    """How many tips calls whose request_id starts with `prefix` made."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(MADE_SQL, (f"{prefix}%",)).fetchone()
    assert row is not None
    return int(row[0])
