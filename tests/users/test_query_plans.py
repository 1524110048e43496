"""Every hot query of the users service is answered from an index on a big table.

The statements are the repository's own builders, EXPLAINed with real parameters in a
database of their own seeded with 100,000 users, so the planner has a reason to care. The
seed is vacuumed before it is planned on, as autovacuum would: until then the trigram
indexes' new entries wait in GIN pending lists, which the planner prices as slow to scan,
and whether autovacuum got there first would decide the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from services.users import SPEC, repository
from tests.harness import plan, seeded_database

from .conftest import DB_PASSWORD

PLANS_DATABASE = "daira_users_plans"
SEED_USERS = 100_000

# Random letters, as varied as real names, so trigram statistics look like real ones.
SEED = """
INSERT INTO users (id, username, email, password_hash, display_name, role, status,
                   subscription_tier, created_at, updated_at)
SELECT gen_random_uuid(), name.username, name.username || '@example.com', '$argon2id$seeded',
       initcap(name.first) || ' ' || initcap(name.last), 'user',
       CASE WHEN mod(i, 50) = 0 THEN 'deleted' ELSE 'active' END, 'free',
       now() - make_interval(secs => i), now()
FROM generate_series(1, %(count)s) AS i
CROSS JOIN LATERAL (
    SELECT string_agg(chr(97 + floor(random() * 26)::int), '') FILTER (WHERE n <= 12) AS username,
           string_agg(chr(97 + floor(random() * 26)::int), '') FILTER (WHERE n <= 7) AS first,
           string_agg(chr(97 + floor(random() * 26)::int), '') FILTER (WHERE n <= 9) AS last
    FROM generate_series(1, 12 + 0 * i) AS n  -- mentions i: new letters for every row
) AS name
ON CONFLICT DO NOTHING
"""


def seed(conn: psycopg.Connection) -> None:
    conn.execute("SELECT setseed(0.42)")
    conn.execute(SEED, {"count": SEED_USERS})


@pytest.fixture(scope="module")
def plans_db(pg_admin_url: str) -> Iterator[psycopg.Connection]:
    with seeded_database(
        pg_admin_url,
        SPEC,
        PLANS_DATABASE,
        DB_PASSWORD,
        filled=f"SELECT count(*) >= {SEED_USERS} FROM users",
        fill=seed,
    ) as conn:
        yield conn


@pytest.fixture(scope="module")
def sample(plans_db: psycopg.Connection) -> tuple[str, str]:
    """The username and display name of one live seeded user."""
    return plans_db.execute(
        "SELECT username, display_name FROM users WHERE status = 'active' LIMIT 1"
    ).fetchone()


@pytest.fixture(scope="module")
def seeded_ids(plans_db: psycopg.Connection) -> list[uuid.UUID]:
    rows = plans_db.execute(
        "SELECT id FROM users WHERE status <> 'deleted' ORDER BY random() LIMIT 100"
    ).fetchall()
    return [row[0] for row in rows]


def assert_uses_an_index(text: str) -> None:
    assert "Seq Scan on users" not in text, text
    assert "Index" in text, text


def test_seeded_table_is_big_enough_for_the_planner_to_care(plans_db):
    (rows,) = plans_db.execute("SELECT reltuples FROM pg_class WHERE relname = 'users'").fetchone()

    assert rows >= SEED_USERS


def test_login_by_username_uses_an_index(plans_db, sample):
    text = plan(plans_db, repository.login_lookup_statement(sample[0].upper()))

    assert_uses_an_index(text)


def test_lookup_by_username_uses_an_index(plans_db, sample):
    text = plan(plans_db, repository.lookup_by_username_statement([sample[0].upper()]))

    assert_uses_an_index(text)


def test_login_by_email_uses_an_index(plans_db, sample):
    text = plan(plans_db, repository.login_lookup_statement(f"{sample[0]}@Example.com"))

    assert_uses_an_index(text)


def test_get_user_by_id_uses_an_index(plans_db, seeded_ids):
    text = plan(plans_db, repository.batch_get_users_statement(seeded_ids[:1]))

    assert_uses_an_index(text)


def test_batch_get_users_uses_an_index(plans_db, seeded_ids):
    text = plan(plans_db, repository.batch_get_users_statement(seeded_ids))

    assert_uses_an_index(text)


@pytest.mark.parametrize("which", ["username", "display name", "first name", "typo"])
def test_search_users_first_page_uses_the_trigram_indexes(plans_db, sample, which):
    username, display_name = sample
    query = {
        "username": username,
        "display name": display_name,
        "first name": display_name.split()[0],
        "typo": username[:5] + username[6:],
    }[which]

    text = plan(plans_db, repository.search_users_statement(query, None, 21))

    assert_uses_an_index(text)


def test_search_users_next_page_uses_the_trigram_indexes(plans_db, sample, seeded_ids):
    after = (0.5, seeded_ids[0])

    text = plan(plans_db, repository.search_users_statement(sample[0], after, 21))

    assert_uses_an_index(text)
