"""Carrying decisions to the services that own their subjects, until they confirm.

A decision with an effect (a removal, suspension or ban, or the reversal of one) writes
an enforcement row in its own transaction, so the intent is durable before any call is
made. The call is attempted at once, and again by the background `EnforcementLoop`
until the owning service confirms it: while it has not, the decision is PENDING_APPLY
(or PENDING_REVERSAL), never dropped. Each attempt first leases its row (next_attempt_at
moved past the attempt), so two replicas never attempt one enforcement at once and a
crashed attempt is retried when its lease ends. The owning services' calls are
idempotent, so an attempt repeated after a lost answer changes nothing.

Outcomes: confirmed, or the target is gone (NOT_FOUND) or a suspension already ended →
done; the service did not answer → retried with exponential backoff; any other refusal
(a staff account, say) → refused for good, with the service's message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc

from services.moderation import audit, repository_decisions
from services.moderation.audit import AuditEntry
from services.moderation.deps import Deps, now
from services.moderation.repository import Record
from shared.auth import Principal, Role
from shared.background import BackgroundLoop
from shared.errors import DomainError
from shared.ids import new_id
from shared.logs import get_logger

log = get_logger("daira.moderation.enforcement")

# The owning service did not answer, or asked to be asked again.
RETRIED = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
# What the decision becomes when its step is done, or refused.
DONE = {"apply": "applied", "reverse": "reversed"}
ACTOR = "service:moderation"


@dataclass(frozen=True)
class Effect:
    """What a decision changes in an owning service."""

    operation: str  # content_visibility | user_status
    target_kind: str
    target_id: uuid.UUID
    value: str
    until: datetime | None = None


def effect_of(
    action: str, kind: str, target_id: uuid.UUID, owner_id: uuid.UUID, until: datetime | None
) -> Effect | None:
    """The effect of a decision; None for a dismissal or a warning, which change nothing
    elsewhere."""
    if action == "remove_content":
        return Effect("content_visibility", kind, target_id, "removed")
    if action == "suspend":
        return Effect("user_status", "user", owner_id, "suspended", until)
    if action == "ban":
        return Effect("user_status", "user", owner_id, "banned")
    return None


def reversal_of(effect: Effect) -> Effect:
    value = "visible" if effect.operation == "content_visibility" else "active"
    return Effect(effect.operation, effect.target_kind, effect.target_id, value)


def decision_effect(decision: Record) -> Effect | None:
    return effect_of(
        decision.action,
        decision.kind,
        decision.target_id,
        decision.owner_id,
        decision.suspended_until,
    )


def enforcement_values(
    decision_id: uuid.UUID,
    step: str,
    effect: Effect,
    reason: str,
    actor: Principal,
    moment: datetime,
    lease: float,
) -> dict[str, Any]:
    """A new enforcement of `actor`'s decision, leased to the attempt its caller makes right
    after commit."""
    return {
        "id": new_id(),
        "decision_id": decision_id,
        "step": step,
        "operation": effect.operation,
        "target_kind": effect.target_kind,
        "target_id": effect.target_id,
        "value": effect.value,
        "until": effect.until,
        "reason": reason,
        "actor_id": actor.user_id,
        "actor_role": actor.role.value,
        "state": "pending",
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": moment + timedelta(seconds=lease),
        "created_at": moment,
    }


class Enforcer:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        settings = deps.settings
        self._lease = timedelta(seconds=settings.enforce_lease_seconds)
        self._interval = settings.enforce_interval_seconds
        self._backoff_max = settings.enforce_backoff_max_seconds

    async def attempt_now(self, decision_id: uuid.UUID, step: str) -> None:
        """Attempt the decision's pending `step` (after the transaction that wrote it)."""
        async with self._deps.db.connection() as conn:
            row = await repository_decisions.lease(conn, decision_id, step, now() + self._lease)
        if row is not None:
            await self._attempt(row)

    async def run_once(self) -> int:
        """Attempt every due enforcement (one batch); how many were attempted."""
        moment = now()
        async with self._deps.db.transaction() as conn:
            rows = await repository_decisions.lease_due(
                conn, moment, moment + self._lease, self._deps.settings.enforce_batch
            )
        for row in rows:
            await self._attempt(row)
        return len(rows)

    async def _attempt(self, row: Record) -> None:
        try:
            await self._call(row)
        except DomainError as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                await self._finish(row, "done", f"gone: {exc.message}")
            elif exc.code in RETRIED:
                await self._postpone(row, exc.message)
            else:
                await self._finish(row, "refused", exc.message)
        else:
            await self._finish(row, "done", "")

    async def _call(self, row: Record) -> None:
        peers = self._deps.peers
        if row.operation == "content_visibility":
            await peers.set_visibility(row.target_kind, row.target_id, row.value, row.reason)
        elif row.until is not None and row.until <= now():
            return  # the suspension has already ended: nothing left to apply
        else:
            await peers.set_status(
                row.target_id, row.value, row.until, row.reason, self._token_of(row)
            )

    def _token_of(self, row: Record) -> str:
        """A short-lived token of the moderator whose decision this is: users changes an
        account's status for staff only, by its own rules (only admins change a staff
        account's), and records the change as theirs."""
        token, _ = self._deps.tokens.issue_access(
            row.actor_id, Role(row.actor_role), row.decision_id
        )
        return token

    async def _postpone(self, row: Record, error: str) -> None:
        delay = min(self._interval * 2 ** max(row.attempts - 1, 0), self._backoff_max)
        log.warning(
            "enforcement postponed",
            decision_id=str(row.decision_id),
            step=row.step,
            attempts=row.attempts,
            error=error,
        )
        async with self._deps.db.connection() as conn:
            await repository_decisions.postpone_enforcement(
                conn, row.id, error, now() + timedelta(seconds=delay)
            )

    async def _finish(self, row: Record, state: str, error: str) -> None:
        moment = now()
        decision_state = DONE[row.step] if state == "done" else "refused"
        async with self._deps.db.transaction() as conn:
            if not await repository_decisions.finish_enforcement(
                conn, row.id, state, error, moment
            ):
                return  # another attempt finished it first
            await repository_decisions.set_decision_state(
                conn, row.decision_id, decision_state, moment if state == "done" else None
            )
            await audit.append(
                conn,
                AuditEntry(
                    actor=ACTOR,
                    actor_role="service",
                    action=f"moderation.{row.step}" + ("" if state == "done" else ".refused"),
                    target_kind=row.target_kind,
                    target_id=str(row.target_id),
                    reason=error or f"decision {row.decision_id}",
                    after={row.operation: row.value, "decision_id": str(row.decision_id)},
                    occurred_at=moment,
                ),
            )


class EnforcementLoop(BackgroundLoop):
    """Retries enforcements whose owning service did not confirm them."""

    def __init__(self, enforcer: Enforcer, interval: float) -> None:
        super().__init__(stop_seconds=5.0)
        self._enforcer = enforcer
        self._interval = interval

    async def _run(self) -> None:
        while not self.stopping:
            try:
                await self._enforcer.run_once()
            except Exception:
                log.exception("enforcement round failed")
            await self.pause(self._interval)
