"""The ModerationService servicer: requests in, domain calls, responses out.

Who may call each RPC is declared in ACCESS and enforced by the shared pipeline before a
handler runs: users file reports and appeals and read their own, staff work the queue,
admins read the audit log, and only services record into it. Finer rules (escalated
subjects for admins, claims, the affected user, another moderator for appeals) live in
the logic modules.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from daira.moderation.v1 import moderation_pb2 as pb
from daira.moderation.v1 import moderation_pb2_grpc
from services.moderation.appeals import Appeals
from services.moderation.decisions import Decisions
from services.moderation.deps import Caller, Deps
from services.moderation.enforcement import EnforcementLoop, Enforcer
from services.moderation.queue import Queue
from services.moderation.reports import Reports
from services.moderation.subscriptions import subscriptions
from services.moderation.trail import Trail
from shared.auth import Access, bearer_token, current_principal
from shared.context import inbound
from shared.eventing import Events
from shared.ids import parse_id
from shared.server import Endpoint, Runtime

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

ACCESS = {
    "FileReport": Access.USER,
    "ListMyReports": Access.USER,
    "ListQueue": Access.STAFF,
    "GetSubject": Access.STAFF,
    "ClaimSubject": Access.STAFF,
    "ClaimNextSubject": Access.STAFF,
    "Escalate": Access.STAFF,
    "AddNote": Access.STAFF,
    "Decide": Access.STAFF,
    "GetDecision": Access.USER,
    "ListMyDecisions": Access.USER,
    "FileAppeal": Access.USER,
    "ListAppeals": Access.USER,
    "ResolveAppeal": Access.STAFF,
    "GetQueueStats": Access.STAFF,
    "ListAuditLog": Access.ADMIN,
    "VerifyAuditLog": Access.ADMIN,
    "RecordAuditEvent": Access.SERVICE,
}


def caller(context: Context) -> Caller:
    """The calling principal, with what the audit log records of the call."""
    current = inbound.get()
    return Caller(
        principal=current_principal(),
        request_id=current.request_id if current is not None else "",
        peer=context.peer() or "",
        token=bearer_token(context.invocation_metadata()) or "",
    )


class ModerationServicer(moderation_pb2_grpc.ModerationServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.enforcer = Enforcer(deps)
        self.reports = Reports(deps)
        self.queue = Queue(deps)
        self.decisions = Decisions(deps, self.enforcer)
        self.appeals = Appeals(deps, self.enforcer)
        self.trail = Trail(deps)
        self._loop = EnforcementLoop(self.enforcer, deps.settings.enforce_interval_seconds)

    def start(self) -> None:
        """Start retrying enforcements; `close` (the endpoint's on_stop) ends it."""
        self._loop.start()

    async def close(self) -> None:
        await self._loop.close()
        await self._deps.close()

    async def FileReport(
        self, request: pb.FileReportRequest, context: Context
    ) -> pb.FileReportResponse:
        return pb.FileReportResponse(report=await self.reports.file(caller(context), request))

    async def ListMyReports(
        self, request: pb.ListMyReportsRequest, context: Context
    ) -> pb.ListMyReportsResponse:
        reports, token = await self.reports.mine(
            caller(context), request.page_size, request.page_token
        )
        return pb.ListMyReportsResponse(reports=reports, next_page_token=token)

    async def ListQueue(
        self, request: pb.ListQueueRequest, context: Context
    ) -> pb.ListQueueResponse:
        subjects, token = await self.queue.page(request)
        return pb.ListQueueResponse(subjects=subjects, next_page_token=token)

    async def GetSubject(
        self, request: pb.GetSubjectRequest, context: Context
    ) -> pb.GetSubjectResponse:
        subject, notes, reports = await self.queue.get(parse_id("subject_id", request.subject_id))
        return pb.GetSubjectResponse(subject=subject, notes=notes, reports=reports)

    async def ClaimSubject(
        self, request: pb.ClaimSubjectRequest, context: Context
    ) -> pb.ClaimSubjectResponse:
        subject = await self.queue.claim(
            caller(context), parse_id("subject_id", request.subject_id)
        )
        return pb.ClaimSubjectResponse(subject=subject)

    async def ClaimNextSubject(
        self, request: pb.ClaimNextSubjectRequest, context: Context
    ) -> pb.ClaimNextSubjectResponse:
        subject = await self.queue.claim_next(caller(context), request)
        return pb.ClaimNextSubjectResponse(subject=subject)

    async def Escalate(self, request: pb.EscalateRequest, context: Context) -> pb.EscalateResponse:
        subject = await self.queue.escalate(
            caller(context), parse_id("subject_id", request.subject_id), request.reason
        )
        return pb.EscalateResponse(subject=subject)

    async def AddNote(self, request: pb.AddNoteRequest, context: Context) -> pb.AddNoteResponse:
        note = await self.queue.add_note(
            caller(context), parse_id("subject_id", request.subject_id), request.text
        )
        return pb.AddNoteResponse(note=note)

    async def Decide(self, request: pb.DecideRequest, context: Context) -> pb.DecideResponse:
        return pb.DecideResponse(decision=await self.decisions.decide(caller(context), request))

    async def GetDecision(
        self, request: pb.GetDecisionRequest, context: Context
    ) -> pb.GetDecisionResponse:
        decision = await self.decisions.get(
            caller(context), parse_id("decision_id", request.decision_id)
        )
        return pb.GetDecisionResponse(decision=decision)

    async def ListMyDecisions(
        self, request: pb.ListMyDecisionsRequest, context: Context
    ) -> pb.ListMyDecisionsResponse:
        decisions, token = await self.decisions.mine(
            caller(context), request.page_size, request.page_token
        )
        return pb.ListMyDecisionsResponse(decisions=decisions, next_page_token=token)

    async def FileAppeal(
        self, request: pb.FileAppealRequest, context: Context
    ) -> pb.FileAppealResponse:
        appeal = await self.appeals.file(
            caller(context), parse_id("decision_id", request.decision_id), request.statement
        )
        return pb.FileAppealResponse(appeal=appeal)

    async def ListAppeals(
        self, request: pb.ListAppealsRequest, context: Context
    ) -> pb.ListAppealsResponse:
        appeals, token = await self.appeals.page(
            caller(context), request.state, request.page_size, request.page_token
        )
        return pb.ListAppealsResponse(appeals=appeals, next_page_token=token)

    async def ResolveAppeal(
        self, request: pb.ResolveAppealRequest, context: Context
    ) -> pb.ResolveAppealResponse:
        appeal, decision_id = await self.appeals.resolve(
            caller(context),
            parse_id("appeal_id", request.appeal_id),
            request.outcome,
            request.reason,
        )
        decision = await self.decisions.shown(decision_id)
        return pb.ResolveAppealResponse(appeal=appeal, decision=decision)

    async def GetQueueStats(
        self, request: pb.GetQueueStatsRequest, context: Context
    ) -> pb.GetQueueStatsResponse:
        return await self.queue.stats()

    async def ListAuditLog(
        self, request: pb.ListAuditLogRequest, context: Context
    ) -> pb.ListAuditLogResponse:
        entries, token = await self.trail.page(request)
        return pb.ListAuditLogResponse(entries=entries, next_page_token=token)

    async def VerifyAuditLog(
        self, request: pb.VerifyAuditLogRequest, context: Context
    ) -> pb.VerifyAuditLogResponse:
        return await self.trail.verify()

    async def RecordAuditEvent(
        self, request: pb.RecordAuditEventRequest, context: Context
    ) -> pb.RecordAuditEventResponse:
        entry = await self.trail.record(caller(context), request)
        return pb.RecordAuditEventResponse(entry=entry)


async def build(runtime: Runtime) -> Endpoint:
    deps = Deps.from_runtime(runtime)
    servicer = ModerationServicer(deps)
    servicer.start()
    # Moderation records no events of its own: it consumes the others' admin actions and
    # deleted accounts.
    events = Events(runtime, subscriptions(deps), relay=False)
    events.start()

    async def stop() -> None:
        await events.close()
        await servicer.close()

    return Endpoint(
        servicer, moderation_pb2_grpc.add_ModerationServiceServicer_to_server, ACCESS, on_stop=stop
    )
