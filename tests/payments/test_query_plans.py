"""The wallet lookup, a user's history and earnings are answered from an index on big tables.

The statements are the repository's own, EXPLAINed with real parameters in a database of
their own seeded by set-based SQL: 20,000 wallets and 100,000 tips (one in fifty a
refund) between them, 200,000 entries, a hot user taking part in 20,000 of them. The hot
user's pages must come straight from a history index in order, whichever the filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from services.payments import SPEC, repository
from tests.harness import plan, seeded_database

from .conftest import DB_PASSWORD

USERS = 20_000
TIPS = 100_000
HOT_EVERY = 5  # the hot user sends every fifth tip
HOT_USER = uuid.UUID("11111111-1111-4111-8111-111111111111")


def user(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


SEED = [
    """
    CREATE FUNCTION pg_temp.u(n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
        AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$
    """,
    """
    CREATE FUNCTION pg_temp.t(n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
        AS $$ SELECT ('00000000-0000-7000-9000-' || lpad(to_hex(n), 12, '0'))::uuid $$
    """,
    # Wallet i belongs to user i; wallet 0 to the hot user.
    """
    INSERT INTO accounts (kind, user_id, currency, posted)
    SELECT 'wallet', CASE WHEN i = 0 THEN %(hot)s ELSE pg_temp.u(i) END, 'USD', 0
    FROM generate_series(0, %(users)s) AS i ORDER BY i
    """,
    """
    CREATE TEMP TABLE seeded_tips AS
    SELECT n, CASE WHEN n %% %(hot_every)s = 0 THEN 0 ELSE 1 + n %% %(users)s END AS payer,
           1 + (n * 7919) %% %(users)s AS payee,
           CASE WHEN n %% 50 = 0 THEN 'refund' ELSE 'tip' END AS type
    FROM generate_series(1, %(tips)s) AS n
    """,
    """
    INSERT INTO transfers (id, type, currency, amount, fee, payer_id, payee_id, refund_of,
                           created_at)
    SELECT pg_temp.t(n), type, 'USD', 100, 5, pa.user_id, pe.user_id,
           CASE WHEN type = 'refund' THEN pg_temp.t(n - 1) END,
           now() - make_interval(secs => %(tips)s - n)
    FROM seeded_tips
    JOIN accounts AS pa ON pa.id = payer + 1
    JOIN accounts AS pe ON pe.id = payee + 1
    """,
    """
    INSERT INTO ledger_entries (transfer_id, account_id, user_id, type, side, effect, amount,
                                balance_before, balance_after, pending_before, pending_after,
                                version, created_at)
    SELECT pg_temp.t(n), a.id, a.user_id, type, side, 'posted', 100, 0, 0, 0, 0, n, now()
    FROM seeded_tips
    CROSS JOIN LATERAL (VALUES ('debit', payer + 1), ('credit', payee + 1)) AS s(side, account)
    JOIN accounts AS a ON a.id = s.account
    """,
]


def fill(conn: psycopg.Connection[Any]) -> None:
    params = {"hot": HOT_USER, "users": USERS, "tips": TIPS, "hot_every": HOT_EVERY}
    with conn.transaction():
        for statement in SEED:
            conn.execute(statement, params)


@pytest.fixture(scope="module")
def db(pg_admin_url: str) -> Iterator[psycopg.Connection[Any]]:
    with seeded_database(
        pg_admin_url,
        SPEC,
        "daira_payments_plans",
        DB_PASSWORD,
        filled="SELECT count(*) > 0 FROM ledger_entries",
        fill=fill,
    ) as conn:
        yield conn


def test_the_wallet_lookup_uses_its_unique_index(db) -> None:
    found = plan(db, repository.WALLET, user_id=user(42), currency="USD")
    assert "accounts_wallet" in found and "Seq Scan" not in found


def test_a_users_wallets_come_from_the_wallet_index(db) -> None:
    found = plan(db, repository.WALLETS_OF_USER, user_id=HOT_USER)
    assert "accounts_wallet" in found and "Seq Scan" not in found


@pytest.mark.parametrize("after", [None, uuid.UUID("00000000-0000-7000-9000-000000004e20")])
def test_the_hot_users_history_is_an_index_range_in_order(db, after) -> None:
    found = plan(db, repository.history_statement(HOT_USER, None, after, 21))
    assert "ledger_entries_history " in found or "ledger_entries_history on" in found
    assert "Seq Scan on ledger_entries" not in found
    # The page is read in index order and cut: no sort of the user's 20,000 entries.
    inner = found.split("ledger_entries_history")[0]
    assert "Limit" in inner


def test_the_history_of_one_type_uses_the_typed_index(db) -> None:
    found = plan(db, repository.history_statement(HOT_USER, "refund", None, 21))
    assert "ledger_entries_history_by_type" in found
    assert "Seq Scan on ledger_entries" not in found


def test_earnings_read_only_the_users_entries(db) -> None:
    found = plan(db, repository.EARNINGS, user_id=user(7))
    assert "ledger_entries_history" in found
    assert "Seq Scan on ledger_entries" not in found
