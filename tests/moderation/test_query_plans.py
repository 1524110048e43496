"""The queue's pages, claim-next and a reporter's reports are index ranges in order on a
queue of 100,000 open subjects, never a sort of the table.

The statements are the repository's own, EXPLAINed with real parameters in a database of
their own seeded as the bench seeds it (bench/moderation_dataset.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from bench import moderation_dataset
from services.moderation import (
    SPEC,
    priority,
    repository,
    repository_cascade,
    repository_decisions,
)
from services.moderation.tables import reports, subjects
from tests.harness import plan, seeded_database

from .conftest import DB_PASSWORD

SUBJECTS = 100_000
USERS = [str(uuid.UUID(int=n, version=4)) for n in range(1, 10_001)]
MODERATOR = uuid.uuid4()


@pytest.fixture(scope="module")
def db(pg_admin_url: str) -> Iterator[psycopg.Connection[Any]]:
    with seeded_database(
        pg_admin_url,
        SPEC,
        "daira_moderation_plans",
        DB_PASSWORD,
        filled="SELECT count(*) > 0 FROM subjects",
        fill=lambda conn: moderation_dataset.fill(conn, SUBJECTS, USERS),
    ) as conn:
        yield conn


def read_in_order(found: str, index: str) -> bool:
    """The plan reads `index` under its Limit, with no Sort and no scan of the table."""
    return index in found and "Sort" not in found and "Seq Scan" not in found


@pytest.mark.parametrize(
    ("kind", "reason", "index"),
    [
        (None, None, "subjects_queue "),
        ("post", None, "subjects_queue_by_kind"),
        (None, "spam", "subjects_queue_by_reason"),
    ],
)
def test_a_queue_page_is_a_range_of_the_index_of_its_filter(db, kind, reason, index) -> None:
    where = repository.QueueFilter("open", kind, reason).params()
    first = plan(
        db,
        repository.queue_statement(kind is not None, reason is not None, False),
        **where,
        page_limit=21,
    )
    later = plan(
        db,
        repository.queue_statement(kind is not None, reason is not None, True),
        **where,
        page_limit=21,
        after_due=datetime.now(UTC) - timedelta(days=2),
        after_id=uuid.uuid4(),
    )

    assert read_in_order(first, index), first
    assert read_in_order(later, index), later


def test_claim_next_reads_the_lapsed_claims_then_the_unclaimed_from_their_indexes(db) -> None:
    now = datetime.now(UTC)

    found = plan(
        db,
        repository.claim_next_statement(False, False),
        **repository.QueueFilter("open").params(),
        moderator=MODERATOR,
        now=now,
        claim_until=now + timedelta(minutes=15),
    )

    assert "subjects_claims" in found and "subjects_unclaimed" in found, found
    assert "Sort" not in found and "Seq Scan" not in found, found


def test_a_reporters_reports_come_from_their_index(db) -> None:
    found = plan(db, repository.reports_of_statement(uuid.UUID(USERS[7]), None, 21))

    assert "reports_by_reporter" in found and "Seq Scan on reports" not in found, found


def test_the_seeded_subjects_are_due_as_the_service_computes(db) -> None:
    rows = db.execute(moderation_dataset.CHECK_SQL + " LIMIT 1000").fetchall()

    for first, severity, reporters, due in rows:
        expected = priority.due_at(first, severity, reporters)
        assert abs((expected - due).total_seconds()) < 0.001


@pytest.mark.parametrize(
    ("column", "index"),
    [
        (subjects.c.owner_id, "subjects_by_owner"),
        (subjects.c.claimed_by, "subjects_claims"),
        (reports.c.reporter_id, "reports_by_reporter"),
    ],
)
def test_a_deleted_accounts_batch_is_found_by_the_index_of_its_column(db, column, index) -> None:
    statement = repository_cascade.replacing(column, uuid.UUID(USERS[7]), uuid.uuid4(), 500)

    found = plan(db, statement)

    assert index in found and f"Seq Scan on {column.table.name}" not in found, found


# 25,000 decisions on a seeded subject (the dataset has none): 300 about one user, 25
# about each of 1,000 others.
DECISIONS_SQL = """
INSERT INTO decisions (id, subject_id, kind, target_id, owner_id, moderator_id, action,
    reason, policy, state, reported_at, created_at)
SELECT gen_random_uuid(), s.id, s.kind, s.target_id, (%(owners)s || lpad(to_hex(
        CASE WHEN n <= 300 THEN 1 ELSE n %% 1000 + 2 END), 12, '0'))::uuid,
    %(moderator)s, 'warn', 'seeded', '', 'applied', s.first_reported_at,
    now() - n * interval '1 minute'
FROM generate_series(1, 25000) AS n
CROSS JOIN LATERAL (SELECT * FROM subjects LIMIT 1) AS s
"""
OWNERS = "00000000-0000-4000-8000-"


def test_a_users_decisions_are_a_range_of_their_index(db) -> None:
    owner = uuid.UUID(OWNERS + "000000000001")
    later = (datetime.now(UTC) - timedelta(hours=1), uuid.uuid4())
    with db.transaction(force_rollback=True):
        db.execute(DECISIONS_SQL, {"owners": OWNERS, "moderator": MODERATOR})
        db.execute("ANALYZE decisions")

        first = plan(db, repository_decisions.decisions_about_statement(owner, None, 21))
        after = plan(db, repository_decisions.decisions_about_statement(owner, later, 21))

    for found in (first, after):
        # Enforcements and appeals are empty here: only the decisions' side is in question.
        assert "decisions_by_owner" in found and "Sort" not in found, found
        assert "Seq Scan on decisions" not in found, found
