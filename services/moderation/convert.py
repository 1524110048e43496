"""Rows to protobuf messages, and request enums to the names the tables store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation.audit import StoredEntry
from services.moderation.repository import Record
from shared.errors import InvalidArgument
from shared.messages import timestamp

KINDS = {
    "post": pb.SUBJECT_KIND_POST,
    "comment": pb.SUBJECT_KIND_COMMENT,
    "video": pb.SUBJECT_KIND_VIDEO,
    "user": pb.SUBJECT_KIND_USER,
}
REASONS = {
    "spam": pb.REPORT_REASON_SPAM,
    "harassment": pb.REPORT_REASON_HARASSMENT,
    "hate_speech": pb.REPORT_REASON_HATE_SPEECH,
    "violence": pb.REPORT_REASON_VIOLENCE,
    "sexual_content": pb.REPORT_REASON_SEXUAL_CONTENT,
    "illegal": pb.REPORT_REASON_ILLEGAL,
    "other": pb.REPORT_REASON_OTHER,
}
QUEUE_STATES = {
    "open": pb.QUEUE_STATE_OPEN,
    "escalated": pb.QUEUE_STATE_ESCALATED,
    "closed": pb.QUEUE_STATE_CLOSED,
}
REPORT_STATES = {"open": pb.REPORT_STATE_OPEN, "resolved": pb.REPORT_STATE_RESOLVED}
ACTIONS = {
    "dismiss": pb.DECISION_ACTION_DISMISS,
    "warn": pb.DECISION_ACTION_WARN,
    "remove_content": pb.DECISION_ACTION_REMOVE_CONTENT,
    "suspend": pb.DECISION_ACTION_SUSPEND,
    "ban": pb.DECISION_ACTION_BAN,
}
DECISION_STATES = {
    "pending_apply": pb.DECISION_STATE_PENDING_APPLY,
    "applied": pb.DECISION_STATE_APPLIED,
    "pending_reversal": pb.DECISION_STATE_PENDING_REVERSAL,
    "reversed": pb.DECISION_STATE_REVERSED,
    "refused": pb.DECISION_STATE_REFUSED,
}
APPEAL_STATES = {
    "pending": pb.APPEAL_STATE_PENDING,
    "upheld": pb.APPEAL_STATE_UPHELD,
    "overturned": pb.APPEAL_STATE_OVERTURNED,
}
OUTCOMES = {"uphold": pb.APPEAL_OUTCOME_UPHOLD, "overturn": pb.APPEAL_OUTCOME_OVERTURN}
PROBLEMS = {"altered": pb.AUDIT_PROBLEM_ALTERED, "missing": pb.AUDIT_PROBLEM_MISSING}


def name_of(field: str, value: int, names: Mapping[str, int], *, optional: bool = False) -> Any:
    """The stored name of a request enum; None for an unset optional one."""
    if optional and value == 0:
        return None
    for name, number in names.items():
        if number == value:
            return name
    allowed = ", ".join(n.upper() for n in names)
    raise InvalidArgument(field, f"must be one of {allowed}")


def _time(value: datetime | None) -> Any:
    return timestamp(value) if value is not None else None


def _id(value: object) -> str:
    return str(value) if value is not None else ""


def subject(row: Record, now: datetime | None = None) -> pb.Subject:
    """A subject; its claim only while it lasts (at `now`)."""
    now = now or datetime.now(UTC)
    claimed = row.claim_expires_at is not None and row.claim_expires_at > now
    return pb.Subject(
        id=str(row.id),
        kind=KINDS[row.kind],
        target_id=str(row.target_id),
        owner_id=str(row.owner_id),
        state=QUEUE_STATES[row.state],
        reason=REASONS[row.reason],
        severity=row.severity,  # type: ignore[arg-type]
        reporter_count=row.reporter_count,
        first_report_time=timestamp(row.first_reported_at),
        last_report_time=timestamp(row.last_reported_at),
        due_time=timestamp(row.due_at),
        claimed_by=_id(row.claimed_by) if claimed else "",
        claim_expire_time=_time(row.claim_expires_at) if claimed else None,
        decision_id=_id(row.decision_id),
    )


def report(row: Record) -> pb.Report:
    """A report read with its subject and outcome (repository.REPORT_SHOWN)."""
    shown = _report(row, row.subject_kind, row.target_id)
    if row.outcome:
        shown.outcome = ACTIONS[row.outcome]
        shown.outcome_state = DECISION_STATES[row.outcome_state]
    return shown


def open_report(row: Record, subject: Record) -> pb.Report:
    """An open report (no outcome yet) of `subject`."""
    return _report(row, subject.kind, subject.target_id)


def _report(row: Record, kind: str, target_id: object) -> pb.Report:
    return pb.Report(
        id=str(row.id),
        subject_id=str(row.subject_id),
        subject_kind=KINDS[kind],
        target_id=str(target_id),
        reporter_id=str(row.reporter_id),
        reason=REASONS[row.reason],
        comment=row.comment,
        related_post_ids=[str(p) for p in row.related_post_ids],
        state=REPORT_STATES[row.state],
        create_time=timestamp(row.created_at),
        resolve_time=_time(row.resolved_at),
    )


def note(row: Record) -> pb.Note:
    return pb.Note(
        id=str(row.id),
        subject_id=str(row.subject_id),
        author_id=str(row.author_id),
        text=row.text,
        create_time=timestamp(row.created_at),
    )


def decision(row: Record) -> pb.Decision:
    """A decision read with its current enforcement (repository_decisions.DECISION_SHOWN)."""
    suspension = None
    if row.suspension_seconds is not None:
        suspension = duration_pb2.Duration(seconds=row.suspension_seconds)
    return pb.Decision(
        id=str(row.id),
        subject_id=str(row.subject_id),
        subject_kind=KINDS[row.kind],
        target_id=str(row.target_id),
        owner_id=str(row.owner_id),
        moderator_id=str(row.moderator_id),
        action=ACTIONS[row.action],
        reason=row.reason,
        policy=row.policy,
        suspension=suspension,
        suspended_until=_time(row.suspended_until),
        state=DECISION_STATES[row.state],
        apply_error=row.apply_error or "",
        apply_attempts=row.apply_attempts or 0,
        create_time=timestamp(row.created_at),
        apply_time=_time(row.applied_at),
    )


def my_decision(row: Record, appealable: bool, deadline: datetime | None) -> pb.MyDecision:
    """A decision read with its appeal's id (repository_decisions.decisions_about_statement)."""
    return pb.MyDecision(
        decision=decision(row),
        appealable=appealable,
        appeal_expire_time=_time(deadline),
        appeal_id=_id(row.appeal_id),
    )


def appeal(row: Record) -> pb.Appeal:
    return pb.Appeal(
        id=str(row.id),
        decision_id=str(row.decision_id),
        appellant_id=str(row.appellant_id),
        statement=row.statement,
        state=APPEAL_STATES[row.state],
        resolver_id=_id(row.resolver_id),
        resolution_reason=row.resolution_reason,
        create_time=timestamp(row.created_at),
        resolve_time=_time(row.resolved_at),
    )


def audit_entry(entry: StoredEntry) -> pb.AuditEntry:
    return pb.AuditEntry(
        sequence=entry.sequence,
        actor=entry.actor,
        actor_role=entry.actor_role,
        action=entry.action,
        target_kind=entry.target_kind,
        target_id=entry.target_id,
        reason=entry.reason,
        before_json=entry.before_json,
        after_json=entry.after_json,
        request_id=entry.request_id,
        peer=entry.peer,
        source=entry.source,
        occur_time=timestamp(entry.occurred_at),
        hash=bytes(entry.hash).hex(),
        previous_hash=bytes(entry.previous_hash).hex(),
    )
