"""The queue: due order (severity, distinct reporters, age), filters, pages, claims,
escalation and notes."""

from __future__ import annotations

import uuid

import grpc
import pytest

from daira.moderation.v1 import moderation_pb2 as pb
from shared.auth import Role

from .conftest import create_post, report, reported_post, subject_of


async def queue(stub, staff, **fields) -> list[pb.Subject]:
    reply = await stub.ListQueue(pb.ListQueueRequest(**fields), metadata=staff.auth)
    return list(reply.subjects)


@pytest.mark.usefixtures("empty_queue")
async def test_a_more_severe_reason_comes_first(stub, content_stub, alice, bob, moderator):
    _, spam = await reported_post(stub, content_stub, alice, bob, reason=pb.REPORT_REASON_SPAM)
    _, illegal = await reported_post(
        stub, content_stub, alice, bob, reason=pb.REPORT_REASON_ILLEGAL
    )

    listed = await queue(stub, moderator)

    assert [s.id for s in listed] == [illegal.subject_id, spam.subject_id]


@pytest.mark.usefixtures("empty_queue")
async def test_more_distinct_reporters_come_first(stub, content_stub, alice, bob, mint, moderator):
    _, once = await reported_post(stub, content_stub, alice, bob)
    post, twice = await reported_post(stub, content_stub, alice, bob)
    await report(stub, mint(), post.id)

    listed = await queue(stub, moderator)

    assert [s.id for s in listed] == [twice.subject_id, once.subject_id]


@pytest.mark.usefixtures("empty_queue")
async def test_of_two_alike_the_older_comes_first(stub, content_stub, alice, bob, moderator):
    _, older = await reported_post(stub, content_stub, alice, bob)
    _, newer = await reported_post(stub, content_stub, alice, bob)

    listed = await queue(stub, moderator)

    assert [s.id for s in listed] == [older.subject_id, newer.subject_id]


@pytest.mark.usefixtures("empty_queue")
async def test_the_queue_filters_by_kind_and_reason(stub, content_stub, alice, bob, moderator):
    _, post_report = await reported_post(stub, content_stub, alice, bob)
    user_report = await report(
        stub, bob, alice.id, kind=pb.SUBJECT_KIND_USER, reason=pb.REPORT_REASON_HARASSMENT
    )

    users = await queue(stub, moderator, subject_kind=pb.SUBJECT_KIND_USER)
    spam = await queue(stub, moderator, reason=pb.REPORT_REASON_SPAM)

    assert [s.id for s in users] == [user_report.subject_id]
    assert [s.id for s in spam] == [post_report.subject_id]


@pytest.mark.usefixtures("empty_queue")
async def test_the_queue_is_paged_without_repeats(stub, content_stub, alice, bob, moderator):
    filed = [(await reported_post(stub, content_stub, alice, bob))[1] for _ in range(5)]

    seen, token = [], ""
    while True:
        reply = await stub.ListQueue(
            pb.ListQueueRequest(page_size=2, page_token=token), metadata=moderator.auth
        )
        seen += [s.id for s in reply.subjects]
        token = reply.next_page_token
        if not token:
            break

    assert seen == [r.subject_id for r in filed]


async def test_a_page_token_of_another_filter_is_invalid_argument(
    stub, content_stub, alice, bob, moderator, rejected
):
    for _ in range(2):
        await reported_post(stub, content_stub, alice, bob)
    first = await stub.ListQueue(pb.ListQueueRequest(page_size=1), metadata=moderator.auth)

    failure = await rejected(
        stub.ListQueue(
            pb.ListQueueRequest(
                page_size=1, page_token=first.next_page_token, reason=pb.REPORT_REASON_ILLEGAL
            ),
            metadata=moderator.auth,
        )
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["page_token"]


async def test_claiming_assigns_the_subject_to_the_caller(
    stub, content_stub, alice, bob, moderator
):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    reply = await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=filed.subject_id), metadata=moderator.auth
    )

    assert reply.subject.claimed_by == moderator.id
    assert reply.subject.claim_expire_time.seconds > 0


async def test_a_subject_claimed_by_another_moderator_is_failed_precondition(
    stub, content_stub, alice, bob, moderator, mint, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    request = pb.ClaimSubjectRequest(subject_id=filed.subject_id)
    await stub.ClaimSubject(request, metadata=moderator.auth)

    failure = await rejected(stub.ClaimSubject(request, metadata=mint(Role.MODERATOR).auth))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["ALREADY_CLAIMED"]


async def test_an_expired_claim_can_be_taken_over(
    stub, content_stub, alice, bob, moderator, mint, moderation_db
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    request = pb.ClaimSubjectRequest(subject_id=filed.subject_id)
    await stub.ClaimSubject(request, metadata=moderator.auth)
    await moderation_db.sql(
        "UPDATE subjects SET claim_expires_at = now() - interval '1 second' WHERE id = %s",
        filed.subject_id,
    )
    other = mint(Role.MODERATOR)

    reply = await stub.ClaimSubject(request, metadata=other.auth)

    assert reply.subject.claimed_by == other.id


@pytest.mark.usefixtures("empty_queue")
async def test_claim_next_takes_the_most_urgent_unclaimed_subject(
    stub, content_stub, alice, bob, moderator, mint
):
    _, first = await reported_post(stub, content_stub, alice, bob, reason=pb.REPORT_REASON_ILLEGAL)
    _, second = await reported_post(stub, content_stub, alice, bob)
    await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=first.subject_id), metadata=moderator.auth
    )

    reply = await stub.ClaimNextSubject(
        pb.ClaimNextSubjectRequest(), metadata=mint(Role.MODERATOR).auth
    )

    assert reply.subject.id == second.subject_id


@pytest.mark.usefixtures("empty_queue")
async def test_claim_next_takes_a_subject_whose_claim_lapsed_first(
    stub, content_stub, alice, bob, moderator, mint, moderation_db
):
    _, lapsed = await reported_post(stub, content_stub, alice, bob)
    await reported_post(stub, content_stub, alice, bob, reason=pb.REPORT_REASON_ILLEGAL)
    await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=lapsed.subject_id), metadata=moderator.auth
    )
    await moderation_db.sql(
        "UPDATE subjects SET claim_expires_at = now() - interval '1 second' WHERE id = %s",
        lapsed.subject_id,
    )
    other = mint(Role.MODERATOR)

    reply = await stub.ClaimNextSubject(pb.ClaimNextSubjectRequest(), metadata=other.auth)

    assert reply.subject.id == lapsed.subject_id
    assert reply.subject.claimed_by == other.id


@pytest.mark.usefixtures("empty_queue")
async def test_claim_next_on_an_empty_queue_answers_without_a_subject(stub, moderator):
    reply = await stub.ClaimNextSubject(pb.ClaimNextSubjectRequest(), metadata=moderator.auth)

    assert not reply.HasField("subject")


async def test_escalating_hands_the_subject_to_admins(
    stub, content_stub, alice, bob, moderator, admin, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=filed.subject_id), metadata=moderator.auth
    )

    escalated = await stub.Escalate(
        pb.EscalateRequest(subject_id=filed.subject_id, reason="needs legal"),
        metadata=moderator.auth,
    )
    refused = await rejected(
        stub.ClaimSubject(
            pb.ClaimSubjectRequest(subject_id=filed.subject_id), metadata=moderator.auth
        )
    )
    taken = await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=filed.subject_id), metadata=admin.auth
    )

    assert escalated.subject.state == pb.QUEUE_STATE_ESCALATED
    assert not escalated.subject.claimed_by
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    assert taken.subject.claimed_by == admin.id


async def test_escalated_subjects_are_listed_apart(stub, content_stub, alice, bob, moderator):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    await stub.Escalate(pb.EscalateRequest(subject_id=filed.subject_id), metadata=moderator.auth)

    escalated = await queue(stub, moderator, state=pb.QUEUE_STATE_ESCALATED, page_size=100)
    opened = await queue(stub, moderator, state=pb.QUEUE_STATE_OPEN, page_size=100)

    assert filed.subject_id in [s.id for s in escalated]
    assert filed.subject_id not in [s.id for s in opened]


async def test_notes_show_on_the_subject(stub, content_stub, alice, bob, moderator):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    note = await stub.AddNote(
        pb.AddNoteRequest(subject_id=filed.subject_id, text="looks like a bot"),
        metadata=moderator.auth,
    )

    shown = await subject_of(stub, moderator, filed.subject_id)
    assert [n.id for n in shown.notes] == [note.note.id]
    assert shown.notes[0].author_id == moderator.id
    assert [r.id for r in shown.reports] == [filed.id]


async def test_an_empty_note_is_invalid_argument(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    failure = await rejected(
        stub.AddNote(pb.AddNoteRequest(subject_id=filed.subject_id), metadata=moderator.auth)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["text"]


async def test_an_unknown_subject_is_not_found(stub, moderator, rejected):
    failure = await rejected(
        stub.ClaimSubject(
            pb.ClaimSubjectRequest(subject_id=str(uuid.uuid4())), metadata=moderator.auth
        )
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_post_reported_by_many_shows_them_all(stub, content_stub, alice, mint, moderator):
    post = await create_post(content_stub, alice)
    reporters = [mint() for _ in range(3)]
    filed = [await report(stub, r, post.id) for r in reporters]

    shown = await subject_of(stub, moderator, filed[0].subject_id)

    assert shown.subject.reporter_count == 3
    assert {r.reporter_id for r in shown.reports} == {r.id for r in reporters}
