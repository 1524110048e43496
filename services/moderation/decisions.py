"""Decisions: recorded with their effect's enforcement, then carried to the owning service.

One transaction locks the subject, records the decision, its enforcement and audit
entry, resolves every open report on the subject with it and closes the subject; the
effect is attempted once that has committed (enforcement.py). A decision without an
effect (DISMISS, WARN) is applied as it is recorded. A user lists the decisions about
them with whether each can still be appealed, to find the one to appeal.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from google.protobuf import duration_pb2

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import audit, convert, repository, repository_decisions
from services.moderation.appeals import appeal_deadline
from services.moderation.deps import Caller, Deps, now
from services.moderation.enforcement import Enforcer, effect_of, enforcement_values
from services.moderation.queue import require_workable
from shared import pagination
from shared.errors import InvalidArgument, NotFound, PermissionDenied
from shared.ids import new_id, parse_id
from shared.validation import bounded_text, required_text

REASON_MAX = 1000
POLICY_MAX = 200
SUSPENSION_MIN = timedelta(minutes=1)
SUSPENSION_MAX = timedelta(days=365)


def suspension_of(action: str, request: pb.DecideRequest) -> timedelta | None:
    if action != "suspend":
        if request.HasField("suspension"):
            raise InvalidArgument("suspension", "is only for SUSPEND")
        return None
    if not request.HasField("suspension"):
        raise InvalidArgument("suspension", "is required for SUSPEND")
    duration: duration_pb2.Duration = request.suspension
    if duration.nanos or not (
        SUSPENSION_MIN.total_seconds() <= duration.seconds <= SUSPENSION_MAX.total_seconds()
    ):
        raise InvalidArgument("suspension", "must be whole seconds from one minute to 365 days")
    return timedelta(seconds=duration.seconds)


class Decisions:
    def __init__(self, deps: Deps, enforcer: Enforcer) -> None:
        self._deps = deps
        self._enforcer = enforcer

    async def decide(self, caller: Caller, request: pb.DecideRequest) -> pb.Decision:
        moderator = caller.user_id
        subject_id = parse_id("subject_id", request.subject_id)
        action = convert.name_of("action", request.action, convert.ACTIONS)
        reason = required_text("reason", request.reason, REASON_MAX)
        policy = bounded_text("policy", request.policy, POLICY_MAX)
        suspension = suspension_of(action, request)
        moment = now()
        decision_id = new_id()
        async with self._deps.db.transaction() as conn:
            subject = await repository.lock_subject(conn, subject_id)
            if subject is None:
                raise NotFound("subject", str(subject_id))
            require_workable(caller, subject, moment)
            if action == "remove_content" and subject.kind == "user":
                raise InvalidArgument("action", "REMOVE_CONTENT is for posts, comments and videos")
            if subject.owner_id == moderator:
                raise PermissionDenied(
                    "you cannot decide a subject about yourself", reason="SELF_DECISION"
                )
            until = moment + suspension if suspension is not None else None
            effect = effect_of(action, subject.kind, subject.target_id, subject.owner_id, until)
            await repository_decisions.insert_decision(
                conn,
                {
                    "id": decision_id,
                    "subject_id": subject_id,
                    "kind": subject.kind,
                    "target_id": subject.target_id,
                    "owner_id": subject.owner_id,
                    "moderator_id": moderator,
                    "action": action,
                    "reason": reason,
                    "policy": policy,
                    "suspension_seconds": int(suspension.total_seconds()) if suspension else None,
                    "suspended_until": until,
                    "state": "pending_apply" if effect is not None else "applied",
                    "reported_at": subject.first_reported_at,
                    "created_at": moment,
                    "applied_at": None if effect is not None else moment,
                },
            )
            if effect is not None:
                await repository_decisions.insert_enforcement(
                    conn,
                    enforcement_values(
                        decision_id,
                        "apply",
                        effect,
                        reason,
                        caller.principal,
                        moment,
                        self._deps.settings.enforce_lease_seconds,
                    ),
                )
            resolved = await repository.resolve_reports(conn, subject_id, decision_id, moment)
            await repository.update_subject(
                conn,
                subject_id,
                {
                    "state": "closed",
                    "claimed_by": None,
                    "claim_expires_at": None,
                    "decision_id": decision_id,
                    "updated_at": moment,
                },
            )
            await audit.append(
                conn,
                caller.audit(
                    "moderation.decide",
                    subject.kind,
                    subject.target_id,
                    reason,
                    before={"state": subject.state},
                    after={
                        "state": "closed",
                        "decision_id": str(decision_id),
                        "action": action,
                        "policy": policy,
                        "until": until.isoformat() if until else None,
                        "reports_resolved": resolved,
                    },
                    at=moment,
                ),
            )
        if effect is not None:
            await self._enforcer.attempt_now(decision_id, "apply")
        return await self.shown(decision_id)

    async def shown(self, decision_id: uuid.UUID) -> pb.Decision:
        async with self._deps.db.connection() as conn:
            row = await repository_decisions.decision(conn, decision_id)
        if row is None:
            raise NotFound("decision", str(decision_id))
        return convert.decision(row)

    async def mine(self, caller: Caller, size: int, token: str) -> tuple[list[pb.MyDecision], str]:
        """The decisions about the caller, newest first, each with whether it can still be
        appealed, so they find the one to appeal."""
        owner = caller.user_id
        limit = pagination.page_size(size)
        query = {"owner": str(owner)}
        after = pagination.time_position(token, query)
        statement = repository_decisions.decisions_about_statement(owner, after, limit + 1)
        async with self._deps.db.connection() as conn:
            rows = await repository_decisions.rows(conn, statement)
        page, next_token = pagination.cut(
            rows, limit, lambda row: pagination.time_key(row.created_at, row.id), query
        )
        window, moment = timedelta(days=self._deps.settings.appeal_window_days), now()
        shown = []
        for row in page:
            deadline = appeal_deadline(row, window)
            appealable = deadline is not None and row.appeal_id is None and moment <= deadline
            shown.append(convert.my_decision(row, appealable, deadline))
        return shown, next_token

    async def get(self, caller: Caller, decision_id: uuid.UUID) -> pb.Decision:
        """Staff see every decision; a user the ones about them (others are NOT_FOUND)."""
        decision = await self.shown(decision_id)
        if not caller.principal.is_staff and decision.owner_id != caller.principal.subject:
            raise NotFound("decision", str(decision_id))
        return decision
