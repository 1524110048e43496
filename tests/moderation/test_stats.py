"""GetQueueStats: open and escalated subjects, the last day's decisions and their median
time to decision."""

from __future__ import annotations

import pytest

from daira.moderation.v1 import moderation_pb2 as pb

from .conftest import decide, reported_post


@pytest.mark.usefixtures("empty_queue")
async def test_stats_count_the_queue_and_the_last_days_decisions(
    stub, content_stub, alice, mint, moderator, moderation_db
):
    for _ in range(3):
        await reported_post(stub, content_stub, alice, mint())
    _, escalated = await reported_post(stub, content_stub, alice, mint())
    await stub.Escalate(
        pb.EscalateRequest(subject_id=escalated.subject_id), metadata=moderator.auth
    )
    decided = [(await reported_post(stub, content_stub, alice, mint()))[1] for _ in range(2)]
    for filed, hours in zip(decided, (1, 3), strict=True):
        await moderation_db.sql(
            "UPDATE subjects SET first_reported_at = now() - make_interval(hours => %s) "
            "WHERE id = %s",
            hours,
            filed.subject_id,
        )
        await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS)

    stats = await stub.GetQueueStats(pb.GetQueueStatsRequest(), metadata=moderator.auth)

    assert stats.open_subjects == 3
    assert stats.escalated_subjects == 1
    assert stats.decided_last_day == 2
    assert 7_100 < stats.median_time_to_decision.seconds < 7_300
