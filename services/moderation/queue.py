"""The review queue: listing it, claims, escalation, notes and its statistics.

A claim holds a subject for one moderator for `claim_seconds`; until it expires, others
may not claim, escalate or decide it. Claims are single conditional UPDATEs, so two
moderators claiming at once never both win, and "claim next" skips rows other claimers
hold locked (FOR UPDATE SKIP LOCKED) instead of queueing behind them. Escalated subjects
are the admins' to claim and decide.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from google.protobuf import duration_pb2

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import audit, convert, repository, repository_decisions
from services.moderation.deps import Caller, Deps, now
from services.moderation.repository import Record
from shared import pagination
from shared.errors import FailedPrecondition, NotFound, PermissionDenied
from shared.ids import new_id
from shared.validation import bounded_text, required_text

NOTE_MAX = 2000
REASON_MAX = 1000
SUBJECT_NOTES = 100
SUBJECT_REPORTS = 50


def held_by_another(row: Record, moderator: uuid.UUID, moment: datetime) -> bool:
    return (
        row.claimed_by is not None
        and row.claimed_by != moderator
        and row.claim_expires_at is not None
        and row.claim_expires_at > moment
    )


def require_workable(caller: Caller, row: Record, moment: datetime) -> None:
    """The caller may act on the subject now: it is open (or escalated, for an admin) and
    no other moderator's claim lasts."""
    if row.state == "closed":
        raise FailedPrecondition("the subject is already decided", reason="SUBJECT_CLOSED")
    if row.state == "escalated" and not caller.is_admin:
        raise PermissionDenied("escalated subjects are for admins", reason="ESCALATED")
    if held_by_another(row, caller.user_id, moment):
        raise FailedPrecondition(
            "another moderator has claimed this subject",
            reason="ALREADY_CLAIMED",
            metadata={"claimed_by": str(row.claimed_by)},
        )


def queue_state(value: int) -> str:
    """A request's queue state; OPEN when unset."""
    return str(convert.name_of("state", value, convert.QUEUE_STATES, optional=True) or "open")


class Queue:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _claim_until(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self._deps.settings.claim_seconds)

    async def page(self, request: pb.ListQueueRequest) -> tuple[list[pb.Subject], str]:
        state = queue_state(request.state)
        kind = convert.name_of("subject_kind", request.subject_kind, convert.KINDS, optional=True)
        reason = convert.name_of("reason", request.reason, convert.REASONS, optional=True)
        limit = pagination.page_size(request.page_size)
        query = {"state": state, "kind": kind, "reason": reason}
        after = pagination.time_position(request.page_token, query)
        where = repository.QueueFilter(state, kind, reason)
        async with self._deps.db.connection() as conn:
            rows = await repository.queue_page(conn, where, after, limit + 1)
        page, token = pagination.cut(
            rows, limit, lambda row: pagination.time_key(row.due_at, row.id), query
        )
        moment = now()
        return [convert.subject(row, moment) for row in page], token

    async def get(self, subject_id: uuid.UUID) -> tuple[pb.Subject, list[pb.Note], list[pb.Report]]:
        async with self._deps.db.connection() as conn:
            row = await repository.subject(conn, subject_id)
            if row is None:
                raise NotFound("subject", str(subject_id))
            notes = await repository.notes_on(conn, subject_id, SUBJECT_NOTES)
            reports = await repository.rows(
                conn, repository.reports_on_statement(subject_id, SUBJECT_REPORTS)
            )
        return (
            convert.subject(row),
            [convert.note(n) for n in notes],
            [convert.report(r) for r in reports],
        )

    async def claim(self, caller: Caller, subject_id: uuid.UUID) -> pb.Subject:
        moderator, moment = caller.user_id, now()
        async with self._deps.db.connection() as conn:
            row = await repository.subject(conn, subject_id)
            if row is None:
                raise NotFound("subject", str(subject_id))
            require_workable(caller, row, moment)
            claimed = await repository.claim(
                conn, subject_id, moderator, moment, self._claim_until(moment)
            )
            if claimed is None:
                # Lost a race since the read: another claim or a decision came first.
                latest = await repository.subject(conn, subject_id)
                assert latest is not None
                require_workable(caller, latest, moment)
                raise FailedPrecondition("the subject changed; try again", reason="CONFLICT")
        return convert.subject(claimed, moment)

    async def claim_next(
        self, caller: Caller, request: pb.ClaimNextSubjectRequest
    ) -> pb.Subject | None:
        moderator, moment = caller.user_id, now()
        state = queue_state(request.state)
        if state == "closed":
            raise FailedPrecondition("closed subjects are not claimed", reason="SUBJECT_CLOSED")
        if state == "escalated" and not caller.is_admin:
            raise PermissionDenied("escalated subjects are for admins", reason="ESCALATED")
        kind = convert.name_of("subject_kind", request.subject_kind, convert.KINDS, optional=True)
        reason = convert.name_of("reason", request.reason, convert.REASONS, optional=True)
        where = repository.QueueFilter(state, kind, reason)
        async with self._deps.db.connection() as conn:
            row = await repository.claim_next(
                conn, where, moderator, moment, self._claim_until(moment)
            )
        return convert.subject(row, moment) if row is not None else None

    async def escalate(self, caller: Caller, subject_id: uuid.UUID, reason: str) -> pb.Subject:
        reason = bounded_text("reason", reason, REASON_MAX)
        moment = now()
        async with self._deps.db.transaction() as conn:
            row = await repository.lock_subject(conn, subject_id)
            if row is None:
                raise NotFound("subject", str(subject_id))
            require_workable(caller, row, moment)
            if row.state == "escalated":
                raise FailedPrecondition("the subject is already escalated", reason="ESCALATED")
            updated = await repository.update_subject(
                conn,
                subject_id,
                {
                    "state": "escalated",
                    "claimed_by": None,
                    "claim_expires_at": None,
                    "updated_at": moment,
                },
            )
            await audit.append(
                conn,
                caller.audit(
                    "moderation.escalate",
                    "subject",
                    subject_id,
                    reason,
                    before={"state": row.state},
                    after={"state": "escalated"},
                    at=moment,
                ),
            )
        return convert.subject(updated, moment)

    async def add_note(self, caller: Caller, subject_id: uuid.UUID, text: str) -> pb.Note:
        author = caller.user_id
        text = required_text("text", text, NOTE_MAX)
        async with self._deps.db.transaction() as conn:
            if await repository.subject(conn, subject_id) is None:
                raise NotFound("subject", str(subject_id))
            row = await repository.insert_note(
                conn,
                {
                    "id": new_id(),
                    "subject_id": subject_id,
                    "author_id": author,
                    "text": text,
                    "created_at": now(),
                },
            )
        return convert.note(row)

    async def stats(self) -> pb.GetQueueStatsResponse:
        async with self._deps.db.connection() as conn:
            pending = await repository.count_in_state(conn, "open")
            escalated = await repository.count_in_state(conn, "escalated")
            decided = await repository_decisions.decided_since(conn, now() - timedelta(days=1))
        median = duration_pb2.Duration()
        if decided.median_seconds is not None:
            median.FromTimedelta(timedelta(seconds=float(decided.median_seconds)))
        return pb.GetQueueStatsResponse(
            open_subjects=pending,
            escalated_subjects=escalated,
            decided_last_day=decided.decided,
            median_time_to_decision=median,
        )
