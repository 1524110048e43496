"""The bench's users database: provisioned fresh, migrated, and seeded in one statement.

Seeding goes through SQL rather than Register so that tens of thousands of accounts
take seconds, not an argon2 hash each. Ids are UUIDv7 like the service's own, so the
primary-key index has the same locality as in production.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from psycopg import sql
from sqlalchemy.engine import make_url

from services.users import SPEC
from shared.migrate import upgrade
from shared.provision import provision_service_database
from shared.service import ServiceSpec

DATABASE = "daira_users_bench"

FIRST = [
    "maria", "jose", "ana", "juan", "luis", "carlos", "sofia", "lucia", "david", "daniel",
    "laura", "pablo", "elena", "jorge", "marta", "sara", "james", "mary", "john", "linda",
    "robert", "emma", "olivia", "liam", "noah", "ava", "mia", "lucas", "mohamed", "fatima",
    "ahmed", "aisha", "omar", "leila", "yusuf", "amina", "wei", "li", "jun", "mei", "hiroshi",
    "yuki", "priya", "arjun", "ravi", "anita", "olga", "ivan", "dmitri", "natalia"
]  # fmt: skip
LAST = [
    "garcia", "martinez", "lopez", "gonzalez", "rodriguez", "fernandez", "sanchez", "perez",
    "smith", "johnson", "williams", "brown", "jones", "miller", "davis", "wilson", "taylor",
    "anderson", "thomas", "moore", "nguyen", "tran", "le", "pham", "kim", "park", "lee", "chen",
    "wang", "zhang", "liu", "yang", "khan", "ali", "hassan", "ibrahim", "mahmoud", "sato",
    "suzuki", "tanaka", "watanabe", "patel", "sharma", "singh", "kumar", "ivanov", "petrov",
    "smirnov", "kowalski", "novak", "silva", "santos"
]  # fmt: skip


def uuid7(moment: str) -> str:
    """SQL for a UUIDv7 stamped with the timestamptz expression `moment`, like new_id()'s."""
    return f"""encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM {moment}) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"""


# One INSERT … SELECT generate_series feeding the three tables every account has rows in.
SEED_SQL = f"""
WITH names AS (
    SELECT g,
           (%(first)s::text[])[1 + g %% cardinality(%(first)s::text[])] AS first,
           (%(last)s::text[])[1 + (g / cardinality(%(first)s::text[]))
                              %% cardinality(%(last)s::text[])] AS last,
           now() - (%(n)s - g) * interval '1 minute' AS ts
    FROM generate_series(1, %(n)s) AS g
), accounts AS (
    INSERT INTO users (id, username, email, password_hash, display_name, role, status,
                       subscription_tier, created_at, updated_at)
    SELECT {uuid7("ts")},
           first || '_' || last || '_' || g,
           first || '.' || last || g || '@bench.daira.dev',
           %(hash)s,
           initcap(first) || ' ' || initcap(last),
           'user', 'active',
           (ARRAY['free', 'free', 'free', 'free', 'free', 'free', 'free', 'plus', 'plus', 'pro'])
               [1 + g %% 10],
           ts, ts
    FROM names
    RETURNING id, created_at
), profiles AS (
    INSERT INTO user_profiles (user_id, bio, location, updated_at)
    SELECT id, 'Seeded by make bench.', 'Lisbon', created_at FROM accounts
)
INSERT INTO storage_usage (user_id, used_bytes, updated_at)
SELECT id, 0, created_at FROM accounts
"""


@dataclass(frozen=True)
class Ids:
    """Disjoint id sets, so no scenario warms the cache for another."""

    cached: list[str]
    batch_pool: list[str]
    cold: list[str]


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def provision(admin_url: str, spec: ServiceSpec = SPEC, database: str = DATABASE) -> str:
    """Drop any earlier bench database of `spec`, create and migrate a new one; its URL."""
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
    url = provision_service_database(admin_url, database, secrets.token_urlsafe(18))
    upgrade(spec, url)
    return url


def seed(url: str, count: int) -> None:
    """`count` active accounts with profiles and storage counters, then fresh statistics.

    VACUUM too, so autovacuum does not wake up to do it during a measurement, and the GIN
    indexes' pending lists are merged before anyone searches."""
    password_hash = PasswordHasher().hash(secrets.token_urlsafe(24))
    params = {"first": FIRST, "last": LAST, "n": count, "hash": password_hash}
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(SEED_SQL, params)  # type: ignore[arg-type]
        conn.execute("VACUUM (ANALYZE) users, user_profiles, storage_usage")


def accounts(url: str) -> list[tuple[str, str]]:
    """(id, username) of every seeded account, in id order."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            "SELECT id, username FROM users WHERE email LIKE '%@bench.daira.dev' ORDER BY id"
        )
        return [(str(user_id), username) for user_id, username in rows]


def partition(user_ids: list[str], cached: int, batch_pool: int, rng: random.Random) -> Ids:
    ids = list(user_ids)
    rng.shuffle(ids)
    if len(ids) < cached + batch_pool + 1000:
        raise ValueError(f"only {len(ids)} seeded users: seed more with --users")
    return Ids(
        cached=ids[:cached],
        batch_pool=ids[cached : cached + batch_pool],
        cold=ids[cached + batch_pool :],
    )
