"""FileReport and ListMyReports: one subject per target, one open report per reporter,
the subject checked with its owning service, self-reports refused, a rate limit."""

from __future__ import annotations

import uuid

import grpc

from daira.content.v1 import content_pb2
from daira.moderation.v1 import moderation_pb2 as pb

from .conftest import (
    REPORT_LIMIT,
    create_comment,
    create_post,
    decide,
    published_video,
    report,
    reported_post,
    subject_of,
)


async def test_a_report_on_a_post_opens_a_subject_about_its_author(
    stub, content_stub, alice, bob, moderator
):
    post, filed = await reported_post(stub, content_stub, alice, bob)

    subject = (await subject_of(stub, moderator, filed.subject_id)).subject
    assert filed.state == pb.REPORT_STATE_OPEN
    assert filed.reporter_id == bob.id
    assert subject.target_id == post.id
    assert subject.kind == pb.SUBJECT_KIND_POST
    assert subject.owner_id == alice.id
    assert subject.state == pb.QUEUE_STATE_OPEN
    assert subject.reporter_count == 1


async def test_reporting_again_answers_with_the_open_report(stub, content_stub, alice, bob):
    post, first = await reported_post(stub, content_stub, alice, bob)

    again = await report(stub, bob, post.id, reason=pb.REPORT_REASON_VIOLENCE)

    assert again.id == first.id
    assert again.reason == pb.REPORT_REASON_SPAM


async def test_a_second_reporter_joins_the_same_subject(
    stub, content_stub, alice, bob, carol, moderator
):
    post, first = await reported_post(stub, content_stub, alice, bob)

    second = await report(stub, carol, post.id, reason=pb.REPORT_REASON_HATE_SPEECH)

    subject = (await subject_of(stub, moderator, first.subject_id)).subject
    assert second.subject_id == first.subject_id
    assert subject.reporter_count == 2
    assert subject.reason == pb.REPORT_REASON_HATE_SPEECH
    assert subject.severity == pb.SEVERITY_HIGH


async def test_comments_videos_and_users_can_be_reported(
    stub, content_stub, alice, bob, service_auth
):
    post = await create_post(content_stub, alice)
    comment = await create_comment(content_stub, alice, post.id)
    video = await published_video(content_stub, alice, service_auth)

    kinds = [
        (pb.SUBJECT_KIND_COMMENT, comment.id),
        (pb.SUBJECT_KIND_VIDEO, video.id),
        (pb.SUBJECT_KIND_USER, alice.id),
    ]
    filed = [await report(stub, bob, target, kind=kind) for kind, target in kinds]

    assert [r.subject_kind for r in filed] == [kind for kind, _ in kinds]


async def test_reporting_yourself_is_failed_precondition(stub, alice, rejected):
    failure = await rejected(report(stub, alice, alice.id, kind=pb.SUBJECT_KIND_USER))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["SELF_REPORT"]


async def test_reporting_your_own_post_is_failed_precondition(stub, content_stub, alice, rejected):
    post = await create_post(content_stub, alice)

    failure = await rejected(report(stub, alice, post.id))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["SELF_REPORT"]


async def test_a_post_that_does_not_exist_is_not_found(stub, bob, rejected):
    failure = await rejected(report(stub, bob, str(uuid.uuid4())))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_user_that_does_not_exist_is_not_found(stub, bob, rejected):
    failure = await rejected(report(stub, bob, str(uuid.uuid4()), kind=pb.SUBJECT_KIND_USER))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_private_post_of_another_user_is_not_found(
    stub, content_stub, alice, bob, rejected
):
    post = await create_post(content_stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)

    failure = await rejected(report(stub, bob, post.id))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_invalid_fields_are_invalid_argument_naming_the_field(stub, bob, rejected):
    target = str(uuid.uuid4())
    cases = {
        "subject_kind": pb.FileReportRequest(target_id=target, reason=pb.REPORT_REASON_SPAM),
        "target_id": pb.FileReportRequest(
            subject_kind=pb.SUBJECT_KIND_POST, target_id="nope", reason=pb.REPORT_REASON_SPAM
        ),
        "reason": pb.FileReportRequest(subject_kind=pb.SUBJECT_KIND_POST, target_id=target),
        "comment": pb.FileReportRequest(
            subject_kind=pb.SUBJECT_KIND_POST,
            target_id=target,
            reason=pb.REPORT_REASON_SPAM,
            comment="x" * 1001,
        ),
        "related_post_ids[0]": pb.FileReportRequest(
            subject_kind=pb.SUBJECT_KIND_POST,
            target_id=target,
            reason=pb.REPORT_REASON_SPAM,
            related_post_ids=["nope"],
        ),
    }
    for field, request in cases.items():
        failure = await rejected(stub.FileReport(request, metadata=bob.auth))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, field
        assert failure.fields == [field]


async def test_reporting_beyond_the_limit_is_resource_exhausted(
    stub, content_stub, alice, bob, rejected
):
    post = await create_post(content_stub, alice)
    for _ in range(REPORT_LIMIT):
        await report(stub, bob, post.id)

    failure = await rejected(report(stub, bob, post.id))

    assert failure.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert failure.retry_delay_seconds is not None


async def test_my_reports_show_the_outcome_once_decided(stub, content_stub, alice, bob, moderator):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS)

    reply = await stub.ListMyReports(pb.ListMyReportsRequest(), metadata=bob.auth)

    [mine] = reply.reports
    assert mine.id == filed.id
    assert mine.state == pb.REPORT_STATE_RESOLVED
    assert mine.outcome == pb.DECISION_ACTION_DISMISS
    assert mine.outcome_state == pb.DECISION_STATE_APPLIED
    assert made.state == pb.DECISION_STATE_APPLIED


async def test_my_reports_are_paged_newest_first(stub, content_stub, alice, bob):
    posts = [await create_post(content_stub, alice) for _ in range(3)]
    filed = [await report(stub, bob, post.id) for post in posts]

    first = await stub.ListMyReports(pb.ListMyReportsRequest(page_size=2), metadata=bob.auth)
    rest = await stub.ListMyReports(
        pb.ListMyReportsRequest(page_size=2, page_token=first.next_page_token),
        metadata=bob.auth,
    )

    listed = [r.id for r in [*first.reports, *rest.reports]]
    assert listed == [r.id for r in reversed(filed)]
    assert not rest.next_page_token


async def test_a_new_report_on_a_decided_subject_opens_it_again(
    stub, content_stub, alice, bob, carol, moderator
):
    post, filed = await reported_post(stub, content_stub, alice, bob)
    await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS)

    again = await report(stub, carol, post.id)

    subject = (await subject_of(stub, moderator, again.subject_id)).subject
    assert again.subject_id == filed.subject_id
    assert subject.state == pb.QUEUE_STATE_OPEN
    assert subject.reporter_count == 1
