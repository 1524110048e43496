"""The moderation service's scenarios.

Moderation: every call is a moderator's (a token signed with the services' secret), over
100,000 open subjects (moderation_dataset). ListQueue(20) reads the first page of the
open queue, unfiltered, of posts and of spam; ClaimNextSubject claims the most urgent
subject nobody holds, one more each call; FileReport reports each of content's posts
once (content is asked who wrote it, as the moderator); Decide warns each of the 40,000
least urgent subjects once (a warning changes nothing elsewhere, so it is moderation's
own transaction: the decision, its reports resolved, the subject closed, the audit entry).
"""

from __future__ import annotations

from typing import Any

from bench.moderation_dataset import ModerationIds
from bench.scenarios.common import (
    HEALTH,
    PAGE_SIZE,
    Data,
    Scenario,
    _each,
    _health,
    _one,
    _single_use,
)
from daira.moderation.v1 import moderation_pb2 as mpb
from services.moderation import SPEC as MODERATION

MODERATION_API = f"/{MODERATION.grpc_service}"
# ListQueue's filters, one picked per call: none, by kind, by reason.
QUEUE_FILTERS: list[dict[str, Any]] = [
    {},
    {"subject_kind": mpb.SUBJECT_KIND_POST},
    {"reason": mpb.REPORT_REASON_SPAM},
]


def _moderation(data: Data) -> ModerationIds:
    assert data.moderation is not None, "moderation scenarios need the moderation dataset"
    return data.moderation


def _moderator(data: Data) -> str:
    return _moderation(data).moderator_token


SCENARIOS = [
    Scenario(
        "moderation-floor",
        "Health/Check (moderation floor)",
        HEALTH,
        _health(MODERATION.grpc_service),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "queue",
        "ListQueue(20), 100,000 open",
        f"{MODERATION_API}/ListQueue",
        _each(
            lambda _d: QUEUE_FILTERS,
            lambda f: mpb.ListQueueRequest(page_size=PAGE_SIZE, **f),
        ),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "claim-next",
        "ClaimNextSubject",
        f"{MODERATION_API}/ClaimNextSubject",
        _one(mpb.ClaimNextSubjectRequest()),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "file-report",
        "FileReport (posts)",
        f"{MODERATION_API}/FileReport",
        _single_use(
            lambda d: _moderation(d).posts,
            lambda p: mpb.FileReportRequest(
                subject_kind=mpb.SUBJECT_KIND_POST, target_id=p, reason=mpb.REPORT_REASON_SPAM
            ),
        ),
        service="moderation",
        once=True,
        token=_moderator,
    ),
    Scenario(
        "decide",
        "Decide (WARN)",
        f"{MODERATION_API}/Decide",
        _single_use(
            lambda d: _moderation(d).to_decide,
            lambda s: mpb.DecideRequest(
                subject_id=s, action=mpb.DECISION_ACTION_WARN, reason="bench"
            ),
        ),
        service="moderation",
        once=True,
        token=_moderator,
    ),
]
