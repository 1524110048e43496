"""A demo queue for `make run`: reports by demo accounts on demo posts and on one demo user,
and one subject the demo moderator has already decided (a warning), so the queue, its
statistics and the audit log have something to show.

The accounts are the users service's and the posts content's: the seed asks them (with
a service token), then files the reports through the service's own logic as their
reporters, with tokens signed for them, as a client would. Idempotent: once any subject
exists, a second run changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import SPEC, repository
from services.moderation.decisions import Decisions
from services.moderation.deps import Caller, Deps
from services.moderation.enforcement import Enforcer
from services.moderation.reports import Reports
from services.moderation.settings import ModerationSettings
from shared import seeding
from shared.auth import Principal, Role
from shared.config import load_settings
from shared.errors import DomainError
from shared.server import Runtime, build_runtime

POST, USER = pb.SUBJECT_KIND_POST, pb.SUBJECT_KIND_USER
# (reporter, kind, whose post (or which user), reason, comment)
REPORTS = [
    ("demo02", POST, "demo01", pb.REPORT_REASON_SPAM, "Same photo posted five times today"),
    ("demo03", POST, "demo01", pb.REPORT_REASON_SPAM, ""),
    ("demo04", POST, "demo01", pb.REPORT_REASON_HARASSMENT, "The caption insults me"),
    ("demo06", POST, "demo01", pb.REPORT_REASON_SPAM, ""),
    ("demo07", POST, "demo03", pb.REPORT_REASON_HATE_SPEECH, "Slur in the second line"),
    ("demo11", POST, "demo05", pb.REPORT_REASON_ILLEGAL, "Sells stolen chess sets"),
    ("demo12", POST, "demo06", pb.REPORT_REASON_VIOLENCE, ""),
    ("demo08", USER, "demo10", pb.REPORT_REASON_HARASSMENT, "Keeps sending me DMs"),
    ("demo09", USER, "demo10", pb.REPORT_REASON_HARASSMENT, ""),
    ("demo13", POST, "demo08", pb.REPORT_REASON_OTHER, "Robot looks unsafe"),
]
# The demo subject decided for the statistics: demo08's post, warned.
DECIDED = "demo08"
NAMES = sorted({"moderator", *(r[0] for r in REPORTS), *(r[2] for r in REPORTS)})


def _as(runtime: Runtime, user_id: uuid.UUID, role: Role = Role.USER) -> Caller:
    """A caller signed in as the user, with a token other services accept."""
    token, _ = runtime.tokens.issue_access(user_id, role, uuid.uuid4())
    principal = Principal(subject=str(user_id), role=role, session_id="seed")
    return Caller(principal, request_id="seed", peer="seed", token=token)


async def latest_posts(runtime: Runtime, authors: dict[str, uuid.UUID]) -> dict[str, str]:
    """Each author's latest post id, asked of content."""
    found: dict[str, str] = {}
    async with runtime.client("content") as content:
        stub = content.stub(content_pb2_grpc.ContentServiceStub)
        for name, user_id in authors.items():
            request = content_pb2.ListUserPostsRequest(user_id=str(user_id), page_size=1)
            reply = await content.call(stub.ListUserPosts, request, idempotent=True)
            if reply.posts:
                found[name] = reply.posts[0].id
    return found


async def seed(settings: ModerationSettings) -> str:
    """File the demo reports and decide one subject; a one-line summary."""
    runtime = build_runtime(SPEC, settings)
    deps = Deps.from_runtime(runtime)
    try:
        async with runtime.db.connection() as conn:
            if await repository.any_subject(conn):
                return "demo queue already in place"
        try:
            ids = await seeding.user_ids(runtime, NAMES)
            authors = {r[2]: ids[r[2]] for r in REPORTS if r[1] == POST}
            posts = await latest_posts(runtime, authors)
        except DomainError as exc:
            return f"users or content not reachable ({exc.message}): demo queue skipped"
        reports, decided = Reports(deps), None
        for reporter, kind, whose, reason, comment in REPORTS:
            target = posts.get(whose) if kind == POST else str(ids[whose])
            if target is None:
                continue
            request = pb.FileReportRequest(
                subject_kind=kind, target_id=target, reason=reason, comment=comment
            )
            report = await reports.file(_as(runtime, ids[reporter]), request)
            if whose == DECIDED:
                decided = report.subject_id
        if decided is not None:
            decision = pb.DecideRequest(
                subject_id=decided,
                action=pb.DECISION_ACTION_WARN,
                reason="Unsafe build shown without a warning",
                policy="community-guidelines/safety",
            )
            await Decisions(deps, Enforcer(deps)).decide(
                _as(runtime, ids["moderator"], Role.MODERATOR), decision
            )
        return f"{len(REPORTS)} demo reports filed, one subject decided"
    finally:
        await deps.close()
        await runtime.db.dispose()
        await runtime.redis.aclose()


if __name__ == "__main__":
    summary = asyncio.run(seed(load_settings(ModerationSettings, SPEC.name)))
    print(f"moderation: {summary}")
