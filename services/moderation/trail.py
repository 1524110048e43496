"""The audit log's RPCs: admins list and verify it; other services record their admin
actions in it (through audit.append, as this service's own actions are)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from google.protobuf import timestamp_pb2

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import audit, convert, repository_audit
from services.moderation.audit import AuditEntry, StoredEntry
from services.moderation.deps import Caller, Deps, now
from shared import pagination
from shared.errors import InvalidArgument
from shared.validation import bounded_text, required_text

NAME_MAX = 200
REASON_MAX = 1000
JSON_MAX = 20_000


def _moment(field: str, value: timestamp_pb2.Timestamp) -> datetime:
    try:
        return value.ToDatetime(tzinfo=now().tzinfo)
    except (ValueError, OverflowError):
        raise InvalidArgument(field, "is not a valid time") from None


def _optional_moment(request: pb.ListAuditLogRequest, field: str) -> datetime | None:
    if not request.HasField(field):  # type: ignore[arg-type]
        return None
    return _moment(field, getattr(request, field))


def _json_object(field: str, value: str) -> dict[str, Any] | None:
    if not value:
        return None
    bounded_text(field, value, JSON_MAX)
    try:
        parsed = json.loads(value)
    except ValueError:
        raise InvalidArgument(field, "must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument(field, "must be a JSON object")
    return parsed


def _position(token: str, query: Any) -> tuple[datetime, int] | None:
    found = pagination.decode(token, query)
    if found is None:
        return None
    try:
        moment, sequence = found
        when = datetime.fromisoformat(str(moment))
        if when.tzinfo is None:
            raise ValueError("naive time")
        return when, int(sequence)
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None


class Trail:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def page(self, request: pb.ListAuditLogRequest) -> tuple[list[pb.AuditEntry], str]:
        actor = bounded_text("actor", request.actor, NAME_MAX) or None
        action = bounded_text("action", request.action, NAME_MAX) or None
        target_kind = bounded_text("target_kind", request.target_kind, NAME_MAX)
        target_id = bounded_text("target_id", request.target_id, NAME_MAX)
        if target_id and not target_kind:
            raise InvalidArgument("target_kind", "is required with target_id")
        if target_kind and not target_id:
            raise InvalidArgument("target_id", "is required with target_kind")
        start = _optional_moment(request, "start_time")
        end = _optional_moment(request, "end_time")
        limit = pagination.page_size(request.page_size)
        query = {
            "actor": actor,
            "action": action,
            "target": [target_kind, target_id],
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        }
        statement = repository_audit.list_statement(
            actor=actor,
            target=(target_kind, target_id) if target_kind else None,
            action=action,
            start=start,
            end=end,
            after=_position(request.page_token, query),
            limit=limit + 1,
        )
        async with self._deps.db.connection() as conn:
            rows = await repository_audit.list_entries(conn, statement)
        page, token = pagination.cut(
            rows, limit, lambda row: [row.occurred_at.isoformat(), row.sequence], query
        )
        return [convert.audit_entry(StoredEntry.of(row)) for row in page], token

    async def verify(self) -> pb.VerifyAuditLogResponse:
        async with self._deps.db.connection() as conn:
            verdict = await audit.verify(conn)
        return pb.VerifyAuditLogResponse(
            intact=verdict.intact,
            entries_checked=verdict.checked,
            first_bad_sequence=verdict.first_bad,
            problem=convert.PROBLEMS.get(verdict.problem, pb.AUDIT_PROBLEM_UNSPECIFIED),
        )

    async def record(self, caller: Caller, request: pb.RecordAuditEventRequest) -> pb.AuditEntry:
        """An admin action of the calling service (named by its service token)."""
        source = caller.principal.subject.removeprefix("service:")
        entry = AuditEntry(
            actor=required_text("actor", request.actor, NAME_MAX),
            actor_role=bounded_text("actor_role", request.actor_role, NAME_MAX),
            action=required_text("action", request.action, NAME_MAX),
            target_kind=required_text("target_kind", request.target_kind, NAME_MAX),
            target_id=required_text("target_id", request.target_id, NAME_MAX),
            reason=bounded_text("reason", request.reason, REASON_MAX),
            before=_json_object("before_json", request.before_json),
            after=_json_object("after_json", request.after_json),
            request_id=bounded_text("request_id", request.request_id, NAME_MAX),
            peer=bounded_text("peer", request.peer, NAME_MAX),
            source=source,
            event_id=bounded_text("event_id", request.event_id, NAME_MAX),
            occurred_at=(
                _moment("occur_time", request.occur_time)
                if request.HasField("occur_time")
                else now()
            ),
        )
        async with self._deps.db.transaction() as conn:
            stored = await audit.append(conn, entry)
        return convert.audit_entry(stored)
