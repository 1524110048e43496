"""The bench's moderation database: open subjects by the hundred thousand, each with its
report, seeded by set-based SQL, and a moderator to work them.

Subjects are about made-up posts, comments, videos and users (the queue, claims and
WARN decisions never ask their owning service), reported by seeded users for every
reason, first reported over the last days; their due time is the service's own formula
(services/moderation/priority.py) written in SQL, which `check` compares row by row.
FileReport, which must ask content, reports content's seeded posts instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from bench import dataset
from bench.dataset import libpq, uuid7
from services.moderation import SPEC, priority
from shared.auth import Role, TokenService
from shared.bulkload import fill_without_indexes

DATABASE = "daira_moderation_bench"
REASONS = list(priority.SEVERITY)
KINDS = ["post", "post", "post", "post", "post", "post", "comment", "comment", "video", "user"]
# First reports spread over this many seconds before now.
SPREAD_SECONDS = 7 * 86_400
TOKEN_SECONDS = 3600
# Emptied before seeding: the queue's tables and those that refer to them.
QUEUE_TABLES = ["subjects", "reports", "notes", "decisions", "enforcements", "appeals"]

SEED_SQL = [
    f"""
    INSERT INTO subjects (id, kind, target_id, owner_id, state, reason, severity,
                          reporter_count, first_reported_at, last_reported_at, due_at,
                          created_at, updated_at)
    SELECT {uuid7("ts")}, kind, gen_random_uuid(), owner, 'open', reason, severity, reporters,
           ts, ts,
           ts - make_interval(hours => (%(leads)s::int[])[severity])
              - make_interval(hours => 4) * log(2.0, reporters::numeric)::float8,
           ts, ts
    FROM (
        SELECT g, ts, reporters,
               (%(kinds)s::text[])[1 + g %% cardinality(%(kinds)s::text[])] AS kind,
               (%(users)s::uuid[])[1 + (g * 7919) %% cardinality(%(users)s::uuid[])] AS owner,
               (%(reasons)s::text[])[1 + (g / 3) %% cardinality(%(reasons)s::text[])] AS reason,
               (%(severities)s::int[])[1 + (g / 3) %% cardinality(%(reasons)s::text[])]
                   AS severity
        FROM (
            SELECT g, now() - make_interval(secs => random() * %(spread)s) AS ts,
                   1 + (g %% 4) AS reporters
            FROM generate_series(1, %(subjects)s) AS g
        ) AS made
    ) AS subject
    """,
    """
    INSERT INTO reports (id, subject_id, reporter_id, reason, comment, related_post_ids, state,
                         created_at)
    SELECT gen_random_uuid(), s.id,
           (%(users)s::uuid[])[1 + ((hashtext(s.id::text) & 1048575) + n)
                               %% cardinality(%(users)s::uuid[])],
           s.reason, '', '{}', 'open', s.first_reported_at
    FROM subjects AS s CROSS JOIN LATERAL generate_series(1, s.reporter_count) AS n
    """,
]
# Every subject's due time as priority.due_at computes it, within a millisecond.
CHECK_SQL = "SELECT first_reported_at, severity, reporter_count, due_at FROM subjects"


@dataclass(frozen=True)
class ModerationIds:
    """What the moderation scenarios work on."""

    # Open subjects Decide closes one each, the least due (claim-next takes the most due).
    to_decide: list[str]
    # Content's posts, for FileReport (each reported once).
    posts: list[str]
    # A moderator's access token, signed with the services' secret (no account behind it:
    # moderation trusts a valid token).
    moderator_token: str


def provision(admin_url: str) -> str:
    return dataset.provision(admin_url, SPEC, DATABASE)


def fill(conn: psycopg.Connection[Any], subjects: int, users: list[str]) -> None:
    """`subjects` open subjects with their reports, owned and reported by `users`."""
    params = {
        "subjects": subjects,
        "users": users,
        "kinds": KINDS,
        "reasons": REASONS,
        "severities": [priority.SEVERITY[r] for r in REASONS],
        "leads": [int(priority.SEVERITY_LEAD[s].total_seconds() // 3600) for s in range(1, 5)],
        "spread": SPREAD_SECONDS,
    }
    fill_without_indexes(conn, QUEUE_TABLES, SEED_SQL, params)


def seed(url: str, subjects: int, users: list[str]) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        fill(conn, subjects, users)
        conn.execute("VACUUM (ANALYZE) subjects, reports")


def check(url: str) -> int:
    """Raise unless every subject is due when the service would say; how many there are."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(CHECK_SQL).fetchall()
    for first, severity, reporters, due in rows:
        expected = priority.due_at(first, severity, reporters)
        if abs((expected - due).total_seconds()) > 0.001:
            raise RuntimeError(f"a seeded subject is due at {due}, the service says {expected}")
    return len(rows)


def pick(url: str, decide: int, posts: list[str], secret: str) -> ModerationIds:
    """The `decide` least due subjects, content's `posts` to report, a moderator's token
    signed with the services' `secret`."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            "SELECT id FROM subjects WHERE state = 'open' ORDER BY due_at DESC, id DESC LIMIT %s",
            (decide,),
        ).fetchall()
    token, _ = TokenService(secret, TOKEN_SECONDS).issue_access(
        uuid.uuid4(), Role.MODERATOR, uuid.uuid4()
    )
    return ModerationIds([str(row[0]) for row in rows], posts, token)
