"""Appeals: the user a decision concerns asks for it to be reviewed, once, within the
appeal window; a moderator other than the one who decided upholds or overturns it.

Overturning a decision whose effect was applied writes the reversal's enforcement in the
same transaction and carries it to the owning service as the decision itself was
(enforcement.py). A decision still PENDING_APPLY cannot be overturned yet: its reversal
could otherwise reach the owning service before the effect it reverses.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import audit, convert, repository_decisions
from services.moderation.deps import Caller, Deps, now
from services.moderation.enforcement import (
    Enforcer,
    decision_effect,
    enforcement_values,
    reversal_of,
)
from services.moderation.repository import Record
from shared import pagination
from shared.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from shared.ids import new_id
from shared.validation import required_text

STATEMENT_MAX = 2000
REASON_MAX = 1000
OUTCOME_STATES = {"uphold": "upheld", "overturn": "overturned"}


def appeal_deadline(decision: Record, window: timedelta) -> datetime | None:
    """When the window to appeal the decision ends; None when it changed nothing to
    appeal (a DISMISS, or an effect the owning service refused)."""
    if decision.action == "dismiss" or decision.state == "refused":
        return None
    return decision.created_at + window


class Appeals:
    def __init__(self, deps: Deps, enforcer: Enforcer) -> None:
        self._deps = deps
        self._enforcer = enforcer

    async def file(self, caller: Caller, decision_id: uuid.UUID, statement: str) -> pb.Appeal:
        appellant = caller.user_id
        statement = required_text("statement", statement, STATEMENT_MAX)
        moment = now()
        window = timedelta(days=self._deps.settings.appeal_window_days)
        async with self._deps.db.transaction() as conn:
            decision = await repository_decisions.lock_decision(conn, decision_id)
            if decision is None:
                raise NotFound("decision", str(decision_id))
            if decision.owner_id != appellant:
                raise PermissionDenied(
                    "only the user a decision concerns may appeal it", reason="NOT_AFFECTED_USER"
                )
            deadline = appeal_deadline(decision, window)
            if deadline is None:
                raise FailedPrecondition(
                    "the decision changed nothing to appeal", reason="NOTHING_TO_APPEAL"
                )
            if moment > deadline:
                raise FailedPrecondition(
                    f"decisions may be appealed within {window.days} days",
                    reason="APPEAL_WINDOW_CLOSED",
                )
            row = await repository_decisions.insert_appeal(
                conn,
                {
                    "id": new_id(),
                    "decision_id": decision_id,
                    "appellant_id": appellant,
                    "statement": statement,
                    "state": "pending",
                    "resolution_reason": "",
                    "created_at": moment,
                },
            )
        if row is None:
            raise AlreadyExists("this decision has been appealed", reason="APPEAL_EXISTS")
        return convert.appeal(row)

    async def page(
        self, caller: Caller, state_value: int, size: int, token: str
    ) -> tuple[list[pb.Appeal], str]:
        """Staff: every appeal; a user: their own."""
        appellant = None if caller.principal.is_staff else caller.user_id
        state = convert.name_of("state", state_value, convert.APPEAL_STATES, optional=True)
        limit = pagination.page_size(size)
        query = {"appellant": str(appellant), "state": state}
        position = pagination.decode(token, query)
        after = _after(position)
        statement = repository_decisions.appeals_statement(appellant, state, after, limit + 1)
        async with self._deps.db.connection() as conn:
            rows = await repository_decisions.rows(conn, statement)
        page, next_token = pagination.cut(rows, limit, lambda row: [str(row.id)], query)
        return [convert.appeal(row) for row in page], next_token

    async def resolve(
        self, caller: Caller, appeal_id: uuid.UUID, outcome_value: int, reason: str
    ) -> tuple[pb.Appeal, uuid.UUID]:
        """The resolved appeal and its decision's id."""
        resolver = caller.user_id
        outcome = convert.name_of("outcome", outcome_value, convert.OUTCOMES)
        reason = required_text("reason", reason, REASON_MAX)
        moment = now()
        reversing = False
        async with self._deps.db.transaction() as conn:
            appeal = await repository_decisions.lock_appeal(conn, appeal_id)
            if appeal is None:
                raise NotFound("appeal", str(appeal_id))
            if appeal.state != "pending":
                raise FailedPrecondition("the appeal is already resolved", reason="APPEAL_RESOLVED")
            decision = await repository_decisions.lock_decision(conn, appeal.decision_id)
            assert decision is not None
            if decision.moderator_id == resolver:
                raise PermissionDenied(
                    "a moderator other than the one who decided resolves the appeal",
                    reason="SAME_MODERATOR",
                )
            if outcome == "overturn":
                if decision.state == "pending_apply":
                    raise FailedPrecondition(
                        "the decision is not applied yet; resolve the appeal once it is",
                        reason="DECISION_NOT_APPLIED",
                    )
                effect = decision_effect(decision)
                if effect is None:
                    await repository_decisions.set_decision_state(
                        conn, decision.id, "reversed", moment
                    )
                else:
                    reversing = True
                    await repository_decisions.insert_enforcement(
                        conn,
                        enforcement_values(
                            decision.id,
                            "reverse",
                            reversal_of(effect),
                            reason,
                            caller.principal,
                            moment,
                            self._deps.settings.enforce_lease_seconds,
                        ),
                    )
                    await repository_decisions.set_decision_state(
                        conn, decision.id, "pending_reversal", None
                    )
            resolved = await repository_decisions.resolve_appeal(
                conn,
                appeal_id,
                {
                    "state": OUTCOME_STATES[outcome],
                    "resolver_id": resolver,
                    "resolution_reason": reason,
                    "resolved_at": moment,
                },
            )
            await audit.append(
                conn,
                caller.audit(
                    f"moderation.appeal.{outcome}",
                    "decision",
                    decision.id,
                    reason,
                    before={"decision_state": decision.state},
                    after={"appeal_id": str(appeal_id), "appeal_state": OUTCOME_STATES[outcome]},
                    at=moment,
                ),
            )
        if reversing:
            await self._enforcer.attempt_now(decision.id, "reverse")
        return convert.appeal(resolved), decision.id


def _after(position: list[object] | None) -> uuid.UUID | None:
    if position is None:
        return None
    try:
        [last] = position
        return uuid.UUID(str(last))
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None
