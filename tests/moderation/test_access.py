"""Who may call what: users report and appeal, staff work the queue, admins read the audit
log, only services record into it."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.moderation.v1 import moderation_pb2 as pb
from shared.auth import Role

SOME_ID = str(uuid.uuid4())

CALLS = {
    "FileReport": pb.FileReportRequest(),
    "ListMyReports": pb.ListMyReportsRequest(),
    "ListQueue": pb.ListQueueRequest(),
    "GetSubject": pb.GetSubjectRequest(subject_id=SOME_ID),
    "ClaimSubject": pb.ClaimSubjectRequest(subject_id=SOME_ID),
    "ClaimNextSubject": pb.ClaimNextSubjectRequest(),
    "Escalate": pb.EscalateRequest(subject_id=SOME_ID),
    "AddNote": pb.AddNoteRequest(subject_id=SOME_ID, text="x"),
    "Decide": pb.DecideRequest(subject_id=SOME_ID),
    "GetDecision": pb.GetDecisionRequest(decision_id=SOME_ID),
    "ListMyDecisions": pb.ListMyDecisionsRequest(),
    "FileAppeal": pb.FileAppealRequest(decision_id=SOME_ID),
    "ListAppeals": pb.ListAppealsRequest(),
    "ResolveAppeal": pb.ResolveAppealRequest(appeal_id=SOME_ID),
    "GetQueueStats": pb.GetQueueStatsRequest(),
    "ListAuditLog": pb.ListAuditLogRequest(),
    "VerifyAuditLog": pb.VerifyAuditLogRequest(),
    "RecordAuditEvent": pb.RecordAuditEventRequest(),
}
STAFF_CALLS = [
    "ListQueue",
    "GetSubject",
    "ClaimSubject",
    "ClaimNextSubject",
    "Escalate",
    "AddNote",
    "Decide",
    "ResolveAppeal",
    "GetQueueStats",
]
ADMIN_CALLS = ["ListAuditLog", "VerifyAuditLog"]


@pytest.mark.parametrize("method", sorted(CALLS))
async def test_every_call_without_a_token_is_unauthenticated(stub, rejected, method):
    failure = await rejected(getattr(stub, method)(CALLS[method]))

    assert failure.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("method", [*STAFF_CALLS, *ADMIN_CALLS, "RecordAuditEvent"])
async def test_a_user_on_staff_admin_and_service_calls_is_permission_denied(
    stub, mint, rejected, method
):
    failure = await rejected(getattr(stub, method)(CALLS[method], metadata=mint().auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("method", [*ADMIN_CALLS, "RecordAuditEvent"])
async def test_a_moderator_on_admin_and_service_calls_is_permission_denied(
    stub, mint, rejected, method
):
    moderator = mint(Role.MODERATOR)

    failure = await rejected(getattr(stub, method)(CALLS[method], metadata=moderator.auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_admin_on_record_audit_event_is_permission_denied(stub, mint, rejected):
    admin = mint(Role.ADMIN)

    failure = await rejected(stub.RecordAuditEvent(CALLS["RecordAuditEvent"], metadata=admin.auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_service_cannot_file_a_report(stub, service_auth, rejected):
    request = pb.FileReportRequest(
        subject_kind=pb.SUBJECT_KIND_USER, target_id=SOME_ID, reason=pb.REPORT_REASON_SPAM
    )

    failure = await rejected(stub.FileReport(request, metadata=service_auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["USER_REQUIRED"]


async def test_a_moderator_cannot_claim_next_from_the_escalated(stub, mint, rejected):
    request = pb.ClaimNextSubjectRequest(state=pb.QUEUE_STATE_ESCALATED)

    failure = await rejected(stub.ClaimNextSubject(request, metadata=mint(Role.MODERATOR).auth))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
