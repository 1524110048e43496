"""Filing reports, and reporters' view of their own.

A report names a target its owning service must know and the reporter may see (asked as
the reporter). Its subject is found or made by an upsert that locks the subject's row,
so concurrent reports on one target serialise on it: they all land on one subject, each
reporter's open report is found there by a retry, and the subject's counts and due time
are exact. A closed subject opens again with its first new report.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import convert, priority, repository
from services.moderation.deps import Caller, Deps, now
from shared import pagination
from shared.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from shared.ids import new_id, parse_id
from shared.validation import bounded_text

COMMENT_MAX = 1000
RELATED_MAX = 10


def related_posts(values: list[str]) -> list[uuid.UUID]:
    if len(values) > RELATED_MAX:
        raise InvalidArgument("related_post_ids", f"at most {RELATED_MAX} posts")
    ids = [parse_id(f"related_post_ids[{i}]", v) for i, v in enumerate(values)]
    return list(dict.fromkeys(ids))


class Reports:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def file(self, caller: Caller, request: pb.FileReportRequest) -> pb.Report:
        reporter = caller.user_id
        kind = convert.name_of("subject_kind", request.subject_kind, convert.KINDS)
        target_id = parse_id("target_id", request.target_id)
        reason = convert.name_of("reason", request.reason, convert.REASONS)
        comment = bounded_text("comment", request.comment, COMMENT_MAX)
        related = related_posts(list(request.related_post_ids))
        if kind == "user" and target_id == reporter:
            raise self_report()
        verdict = await self._deps.report_limiter.hit(str(reporter))
        if not verdict.allowed:
            raise ResourceExhausted(
                "too many reports; try again later",
                retry_after_seconds=verdict.retry_after_seconds,
                reason="REPORT_RATE_LIMITED",
            )
        owner = await self._deps.peers.owner_of(kind, target_id, caller.token)
        if owner == reporter:
            raise self_report()
        moment = now()
        async with self._deps.db.transaction() as conn:
            subject = await repository.open_subject(
                conn,
                {
                    "id": new_id(),
                    "kind": kind,
                    "target_id": target_id,
                    "owner_id": owner,
                    "reason": reason,
                    "severity": priority.severity(reason),
                    "now": moment,
                },
            )
            report = await repository.open_report_by(conn, subject.id, reporter)
            if report is None:
                report = await repository.insert_report(
                    conn,
                    {
                        "id": new_id(),
                        "subject_id": subject.id,
                        "reporter_id": reporter,
                        "reason": reason,
                        "comment": comment,
                        "related_post_ids": related,
                        "state": "open",
                        "created_at": moment,
                    },
                )
                await repository.update_subject(conn, subject.id, counted(subject, reason, moment))
        return convert.open_report(report, subject)

    async def mine(self, caller: Caller, size: int, token: str) -> tuple[list[pb.Report], str]:
        reporter = caller.user_id
        limit = pagination.page_size(size)
        query = {"reporter": str(reporter)}
        after = pagination.time_position(token, query)
        async with self._deps.db.connection() as conn:
            rows = await repository.rows(
                conn, repository.reports_of_statement(reporter, after, limit + 1)
            )
        page, next_token = pagination.cut(
            rows, limit, lambda row: pagination.time_key(row.created_at, row.id), query
        )
        return [convert.report(row) for row in page], next_token


def counted(subject: repository.Record, reason: str, moment: datetime) -> dict[str, object]:
    """The subject with one more distinct reporter; opened again if it was closed."""
    if subject.state == "closed" or subject.reporter_count == 0:
        worst, reporters, first = reason, 1, moment
        reopened: dict[str, object] = {
            "state": "open",
            "claimed_by": None,
            "claim_expires_at": None,
        }
    else:
        worst = priority.worse(subject.reason, reason)
        reporters, first = subject.reporter_count + 1, subject.first_reported_at
        reopened = {}
    severity = priority.severity(worst)
    return {
        **reopened,
        "reason": worst,
        "severity": severity,
        "reporter_count": reporters,
        "first_reported_at": first,
        "last_reported_at": moment,
        "due_at": priority.due_at(first, severity, reporters),
        "updated_at": moment,
    }


def self_report() -> FailedPrecondition:
    return FailedPrecondition(
        "you cannot report yourself or your own content; appeal a decision instead",
        reason="SELF_REPORT",
    )
