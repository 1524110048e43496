"""The audit log's one way in: `append(conn, entry)` inside the caller's transaction.

Every entry's hash is SHA-256 over the previous entry's hash and this entry's canonical
content, so altering or removing an entry breaks the chain from there on, which `verify`
finds. Appends serialise on a transaction-scoped advisory lock taken before the chain's
head is read: concurrent appends queue rather than fork the chain, and the lock lasts
only until the caller's transaction ends, so an append is cheap but should come late in
it. The database itself refuses UPDATE, DELETE and TRUNCATE of the log (migration 0001).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.moderation import repository_audit
from services.moderation.repository_audit import Record

GENESIS = bytes(32)
VERIFY_BATCH = 1000


@dataclass(frozen=True)
class AuditEntry:
    """One action: who did what to which target, why, and what it changed."""

    actor: str
    actor_role: str
    action: str
    target_kind: str
    target_id: str
    reason: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str = ""
    peer: str = ""
    # The service where the action happened.
    source: str = "moderation"
    # The source's own id of the event; a second append with it records nothing.
    event_id: str = ""
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def canonical_json(value: dict[str, Any] | None) -> str:
    """The one text form of a before/after object, stored and hashed as such."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous: bytes, sequence: int, row: Any) -> bytes:
    """The hash of an entry (a row or the values of one) chained to `previous`."""
    content = [
        sequence,
        row.actor,
        row.actor_role,
        row.action,
        row.target_kind,
        row.target_id,
        row.reason,
        row.before_json,
        row.after_json,
        row.request_id,
        row.peer,
        row.source,
        row.event_id,
        row.occurred_at.astimezone(UTC).isoformat(),
    ]
    blob = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(previous + blob).digest()


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the log holds it."""

    sequence: int
    actor: str
    actor_role: str
    action: str
    target_kind: str
    target_id: str
    reason: str
    before_json: str
    after_json: str
    request_id: str
    peer: str
    source: str
    event_id: str
    occurred_at: datetime
    previous_hash: bytes
    hash: bytes

    @classmethod
    def of(cls, row: Record) -> StoredEntry:
        return cls(**row._mapping)


async def append(conn: AsyncConnection, entry: AuditEntry) -> StoredEntry:
    """Append `entry` in the caller's transaction and return it as stored (the earlier
    entry when its source and event_id were recorded before)."""
    await repository_audit.lock_chain(conn)
    if entry.event_id:
        earlier = await repository_audit.event(conn, entry.source, entry.event_id)
        if earlier is not None:
            return StoredEntry.of(earlier)
    head = await repository_audit.head(conn)
    sequence, previous = (1, GENESIS) if head is None else (head.sequence + 1, bytes(head.hash))
    unsigned = StoredEntry(
        sequence=sequence,
        actor=entry.actor,
        actor_role=entry.actor_role,
        action=entry.action,
        target_kind=entry.target_kind,
        target_id=entry.target_id,
        reason=entry.reason,
        before_json=canonical_json(entry.before),
        after_json=canonical_json(entry.after),
        request_id=entry.request_id,
        peer=entry.peer,
        source=entry.source,
        event_id=entry.event_id,
        occurred_at=entry.occurred_at.astimezone(UTC),
        previous_hash=previous,
        hash=b"",
    )
    stored = dataclasses.replace(unsigned, hash=entry_hash(previous, sequence, unsigned))
    await repository_audit.insert_entry(conn, dataclasses.asdict(stored))
    return stored


@dataclass(frozen=True)
class Verdict:
    intact: bool
    checked: int
    # The first entry that fails and how; 0 and "" when intact.
    first_bad: int = 0
    problem: str = ""


async def verify(conn: AsyncConnection) -> Verdict:
    """Walk the chain from the first entry: the first one altered (its hash no longer
    matches) or preceded by a missing one (a gap in the sequence, or a link to another
    hash)."""
    expected_sequence, previous, checked = 1, GENESIS, 0
    while True:
        rows = await repository_audit.entries_after(conn, expected_sequence - 1, VERIFY_BATCH)
        for row in rows:
            if row.sequence != expected_sequence:
                return Verdict(False, checked, expected_sequence, "missing")
            if bytes(row.previous_hash) != previous:
                return Verdict(False, checked, row.sequence, "missing")
            if entry_hash(previous, row.sequence, row) != bytes(row.hash):
                return Verdict(False, checked, row.sequence, "altered")
            previous, expected_sequence, checked = bytes(row.hash), row.sequence + 1, checked + 1
        if len(rows) < VERIFY_BATCH:
            return Verdict(True, checked)
