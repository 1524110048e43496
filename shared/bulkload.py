"""Filling tables with set-based SQL faster than row-by-row inserts would: the bench's
datasets and the query-plan tests' seeds.

Secondary indexes and foreign keys are dropped first and recreated after from their own
definitions (pg_get_indexdef, pg_get_constraintdef), so the schema left behind is exactly
the migration's; building an index once is about twice as fast as a million inserts
into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


def fill_without_indexes(
    conn: psycopg.Connection[Any], truncate: Sequence[str], statements: Sequence[str], params: Any
) -> None:
    """Empty the `truncate` tables and run the set-based `statements`, in one transaction."""
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes AS i WHERE schemaname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)"
    ).fetchall()
    foreign_keys = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    ).fetchall()
    with conn.transaction():
        conn.execute(f"TRUNCATE {', '.join(truncate)}")  # type: ignore[arg-type]
        for table, name, _ in foreign_keys:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")  # type: ignore[arg-type]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement, params)  # type: ignore[arg-type]
        for _, definition in indexes:
            conn.execute(definition)
        for table, name, definition in foreign_keys:
            conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")  # type: ignore[arg-type]
