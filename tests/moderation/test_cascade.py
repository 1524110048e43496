"""A deleted account's users.user.deleted leaves nothing of its own readable in
moderation: its reports (relabelled, every subject's counts exact), the subjects and
decisions about it or its content (closed, relabelled), its appeals (gone), its notes,
decisions and claims as a moderator; the audit log keeps its entries; once per event."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import cascade
from shared.auth import Role
from shared.streams import USERS_ACCOUNTS
from tests import harness
from tests.users.conftest import status_changed, user_deleted

from .conftest import (
    EVENTS_PREFIX,
    create_post,
    decide,
    decision,
    my_reports,
    report,
    subject_of,
)


async def handled(db, event_id: str) -> bool:
    found = await db.sql(
        "SELECT count(*) FROM processed_events WHERE consumer_group = %s AND event_id = %s",
        cascade.GROUP,
        event_id,
    )
    return found == [(1,)]


async def publish(redis_url, event) -> None:
    await harness.publish(redis_url, USERS_ACCOUNTS, event, prefix=EVENTS_PREFIX)


async def delete_account(redis_url, db, user_id: str) -> None:
    """users.user.deleted of `user_id`, once moderation's cascade has handled it."""
    event = user_deleted(user_id)
    await publish(redis_url, event)
    assert await harness.settled(lambda: handled(db, event.id), True)


async def open_subjects(stub, staff) -> set[str]:
    reply = await stub.ListQueue(pb.ListQueueRequest(page_size=100), metadata=staff.auth)
    return {s.id for s in reply.subjects}


async def appeals(stub, staff) -> list[pb.Appeal]:
    request = pb.ListAppealsRequest(page_size=100)
    return list((await stub.ListAppeals(request, metadata=staff.auth)).appeals)


async def test_a_deleted_reporters_reports_leave_list_my_reports_and_get_subject(
    stub, content_stub, moderation_db, redis_url, alice, mint, moderator
):
    reporter = mint()
    post = await create_post(content_stub, alice)
    filed = await report(stub, reporter, post.id, comment="I am the one in the photo")

    await delete_account(redis_url, moderation_db, reporter.id)

    assert await my_reports(stub, reporter) == []
    [shown] = (await subject_of(stub, moderator, filed.subject_id)).reports
    assert shown.id == filed.id
    assert (shown.reporter_id != reporter.id, shown.comment) == (True, "")


async def test_a_subjects_counts_and_due_time_stay_exact_when_a_reporter_is_deleted(
    stub, content_stub, moderation_db, redis_url, alice, mint, moderator
):
    gone, others = mint(), [mint(), mint()]
    post = await create_post(content_stub, alice)
    filed = await report(stub, gone, post.id, reason=pb.REPORT_REASON_ILLEGAL)
    for other in others:
        await report(stub, other, post.id)
    before = (await subject_of(stub, moderator, filed.subject_id)).subject

    await delete_account(redis_url, moderation_db, gone.id)
    after = (await subject_of(stub, moderator, filed.subject_id)).subject
    await report(stub, mint(), post.id)
    later = (await subject_of(stub, moderator, filed.subject_id)).subject

    assert after == before
    assert (after.reporter_count, after.reason) == (3, pb.REPORT_REASON_ILLEGAL)
    assert later.reporter_count == 4


@pytest.mark.usefixtures("empty_queue")
async def test_subjects_about_a_deleted_user_and_their_content_leave_the_queue(
    stub, content_stub, moderation_db, redis_url, accounts, bob, moderator
):
    gone = await accounts.create()
    post = await create_post(content_stub, gone)
    about_post = await report(stub, bob, post.id)
    about_user = await report(stub, bob, gone.id, kind=pb.SUBJECT_KIND_USER)
    assert await open_subjects(stub, moderator) == {about_post.subject_id, about_user.subject_id}

    await delete_account(redis_url, moderation_db, gone.id)

    for filed in (about_post, about_user):
        subject = (await subject_of(stub, moderator, filed.subject_id)).subject
        assert subject.state == pb.QUEUE_STATE_CLOSED
        assert gone.id not in (subject.owner_id, subject.target_id)
    assert await open_subjects(stub, moderator) == set()
    mine = {r.id: r for r in await my_reports(stub, bob)}
    for filed in (about_post, about_user):
        shown = mine[filed.id]
        assert (shown.state, shown.outcome) == (
            pb.REPORT_STATE_RESOLVED,
            pb.DECISION_ACTION_UNSPECIFIED,
        )
    assert mine[about_user.id].target_id != gone.id


async def warned(stub, reporter, moderator, user):
    """A WARN decision about `user`, reported by `reporter`; its subject's report too."""
    filed = await report(stub, reporter, user.id, kind=pb.SUBJECT_KIND_USER)
    return filed, await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN)


async def test_a_decision_about_a_deleted_user_names_them_no_more(
    stub, moderation_db, redis_url, rejected, accounts, bob, moderator, admin
):
    gone = await accounts.create()
    filed, made = await warned(stub, bob, moderator, gone)

    await delete_account(redis_url, moderation_db, gone.id)

    shown = await decision(stub, admin, made.id)
    assert gone.id not in (shown.owner_id, shown.target_id)
    assert shown.owner_id == (await subject_of(stub, admin, filed.subject_id)).subject.owner_id
    own = await rejected(
        stub.GetDecision(pb.GetDecisionRequest(decision_id=made.id), metadata=gone.auth)
    )
    assert own.code == grpc.StatusCode.NOT_FOUND
    mine = await stub.ListMyDecisions(pb.ListMyDecisionsRequest(), metadata=gone.auth)
    assert list(mine.decisions) == []


@pytest.mark.usefixtures("empty_queue")
async def test_a_deleted_users_appeals_are_gone(
    stub, moderation_db, redis_url, accounts, bob, moderator, admin
):
    gone = await accounts.create()
    _, made = await warned(stub, bob, moderator, gone)
    request = pb.FileAppealRequest(decision_id=made.id, statement="it was a joke")
    appeal = (await stub.FileAppeal(request, metadata=gone.auth)).appeal
    assert [a.id for a in await appeals(stub, admin)] == [appeal.id]

    await delete_account(redis_url, moderation_db, gone.id)

    assert await appeals(stub, admin) == []
    assert await appeals(stub, gone) == []


async def test_a_claim_held_by_a_deleted_moderator_is_released(
    stub, content_stub, moderation_db, redis_url, alice, bob, mint
):
    gone, other = mint(Role.MODERATOR), mint(Role.MODERATOR)
    filed = await report(stub, bob, (await create_post(content_stub, alice)).id)
    claim = pb.ClaimSubjectRequest(subject_id=filed.subject_id)
    await stub.ClaimSubject(claim, metadata=gone.auth)

    await delete_account(redis_url, moderation_db, gone.id)

    assert (await subject_of(stub, other, filed.subject_id)).subject.claimed_by == ""
    claimed = await stub.ClaimSubject(claim, metadata=other.auth)
    assert claimed.subject.claimed_by == other.id


async def test_a_deleted_moderators_notes_and_decisions_keep_their_text_without_them(
    stub, content_stub, moderation_db, redis_url, alice, bob, mint, moderator
):
    gone = mint(Role.MODERATOR)
    filed = await report(stub, bob, (await create_post(content_stub, alice)).id)
    note = pb.AddNoteRequest(subject_id=filed.subject_id, text="same spam as last week")
    await stub.AddNote(note, metadata=gone.auth)
    made = await decide(stub, gone, filed.subject_id, pb.DECISION_ACTION_WARN, "spam")

    await delete_account(redis_url, moderation_db, gone.id)

    [kept] = (await subject_of(stub, moderator, filed.subject_id)).notes
    assert (kept.author_id != gone.id, kept.text) == (True, "same spam as last week")
    shown = await decision(stub, moderator, made.id)
    assert (shown.moderator_id != gone.id, shown.reason) == (True, "spam")


async def test_the_audit_log_keeps_a_deleted_moderators_entries_and_its_chain(
    stub, content_stub, moderation_db, redis_url, alice, bob, mint, admin
):
    gone = mint(Role.MODERATOR)
    filed = await report(stub, bob, (await create_post(content_stub, alice)).id)
    await decide(stub, gone, filed.subject_id, pb.DECISION_ACTION_WARN)

    await delete_account(redis_url, moderation_db, gone.id)

    request = pb.ListAuditLogRequest(actor=gone.id)
    entries = (await stub.ListAuditLog(request, metadata=admin.auth)).entries
    assert [e.action for e in entries] == ["moderation.decide"]
    verified = await stub.VerifyAuditLog(pb.VerifyAuditLogRequest(), metadata=admin.auth)
    assert verified.intact


async def test_more_reports_than_a_batch_are_all_relabelled(
    stub, content_stub, moderation_db, redis_url, alice, mint, monkeypatch
):
    monkeypatch.setattr(cascade, "BATCH", 2)
    gone = mint()
    for _ in range(5):
        await report(stub, gone, (await create_post(content_stub, alice)).id)

    await delete_account(redis_url, moderation_db, gone.id)

    assert await my_reports(stub, gone) == []
    left = "SELECT count(*) FROM reports WHERE reporter_id = %s"
    assert await moderation_db.sql(left, gone.id) == [(0,)]


async def test_a_resumed_cascade_relabels_with_the_pseudonym_it_began_with(
    stub, content_stub, moderation_db, redis_url, alice, mint, moderator
):
    gone, pseudonym = mint(), str(uuid.uuid4())
    filed = await report(stub, gone, (await create_post(content_stub, alice)).id)
    # As a cascade interrupted after its first transaction leaves it.
    await moderation_db.sql("INSERT INTO erasures VALUES (%s, %s, now())", gone.id, pseudonym)

    await delete_account(redis_url, moderation_db, gone.id)

    [shown] = (await subject_of(stub, moderator, filed.subject_id)).reports
    assert shown.reporter_id == pseudonym
    assert await moderation_db.sql("SELECT count(*) FROM erasures") == [(0,)]


async def test_a_redelivered_deletion_changes_nothing_more(
    stub, content_stub, moderation_db, redis_url, alice, mint, moderator
):
    gone, marker = mint(), mint()
    filed = await report(stub, gone, (await create_post(content_stub, alice)).id)
    event = user_deleted(gone.id)
    await publish(redis_url, event)
    assert await harness.settled(lambda: handled(moderation_db, event.id), True)
    before = await subject_of(stub, moderator, filed.subject_id)

    await publish(redis_url, event)
    # Handled after the copy: the group reads its stream in order.
    await delete_account(redis_url, moderation_db, marker.id)

    assert await subject_of(stub, moderator, filed.subject_id) == before


async def test_other_events_of_the_family_change_nothing(
    stub, content_stub, moderation_db, redis_url, alice, mint
):
    kept, marker = mint(), mint()
    filed = await report(stub, kept, (await create_post(content_stub, alice)).id)

    await publish(redis_url, status_changed(kept.id))
    await delete_account(redis_url, moderation_db, marker.id)

    assert [r.id for r in await my_reports(stub, kept)] == [filed.id]


async def test_a_deletion_naming_no_user_ends_in_the_dead_letters(stub, redis_url):
    event = user_deleted("not-a-uuid")

    await publish(redis_url, event)

    letter = await harness.dead_letter(
        redis_url, USERS_ACCOUNTS, event.id, prefix=EVENTS_PREFIX, group=cascade.GROUP
    )
    assert letter is not None
