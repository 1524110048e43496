"""Decide: each action takes effect in the owning service (content, users) before it is
applied, every open report is resolved with it, and its refusals."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import duration_pb2

from daira.moderation.v1 import moderation_pb2 as pb
from daira.users.v1 import users_pb2

from .conftest import decide, get_post, report, reported_post, subject_of

DAY = duration_pb2.Duration(seconds=86_400)


async def status_of(users_stub, staff, user_id: str) -> int:
    reply = await users_stub.GetUser(users_pb2.GetUserRequest(id=user_id), metadata=staff.auth)
    return reply.user.status


async def test_removing_content_hides_the_post_in_content(
    stub, content_stub, alice, bob, carol, moderator, rejected
):
    post, filed = await reported_post(stub, content_stub, alice, bob)

    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)

    failure = await rejected(get_post(content_stub, carol, post.id))
    assert made.state == pb.DECISION_STATE_APPLIED
    assert made.apply_time.seconds > 0
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_suspending_suspends_the_author_in_users_until_the_end(
    stub, content_stub, users_stub, alice, bob, moderator
):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    made = await decide(
        stub, moderator, filed.subject_id, pb.DECISION_ACTION_SUSPEND, suspension=DAY
    )

    assert made.state == pb.DECISION_STATE_APPLIED
    assert made.suspended_until.seconds - made.create_time.seconds == DAY.seconds
    assert await status_of(users_stub, moderator, alice.id) == users_pb2.USER_STATUS_SUSPENDED


async def test_banning_a_reported_user_ends_their_sessions(
    stub, users_stub, alice, bob, moderator, rejected
):
    filed = await report(stub, bob, alice.id, kind=pb.SUBJECT_KIND_USER)

    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_BAN)

    refreshed = await rejected(
        users_stub.RefreshSession(
            users_pb2.RefreshSessionRequest(refresh_token=alice.refresh_token)
        )
    )
    assert made.state == pb.DECISION_STATE_APPLIED
    assert await status_of(users_stub, moderator, alice.id) == users_pb2.USER_STATUS_BANNED
    assert refreshed.code == grpc.StatusCode.UNAUTHENTICATED


async def test_a_decision_resolves_every_open_report_and_closes_the_subject(
    stub, content_stub, alice, bob, carol, moderator
):
    post, first = await reported_post(stub, content_stub, alice, bob)
    await report(stub, carol, post.id)

    made = await decide(stub, moderator, first.subject_id, pb.DECISION_ACTION_WARN)

    shown = await subject_of(stub, moderator, first.subject_id)
    assert shown.subject.state == pb.QUEUE_STATE_CLOSED
    assert shown.subject.decision_id == made.id
    assert {r.state for r in shown.reports} == {pb.REPORT_STATE_RESOLVED}
    assert {r.outcome for r in shown.reports} == {pb.DECISION_ACTION_WARN}


async def test_a_decided_subject_cannot_be_decided_again(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS)

    failure = await rejected(decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["SUBJECT_CLOSED"]


async def test_a_subject_claimed_by_another_moderator_cannot_be_decided(
    stub, content_stub, alice, bob, moderator, admin, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    await stub.ClaimSubject(
        pb.ClaimSubjectRequest(subject_id=filed.subject_id), metadata=moderator.auth
    )

    failure = await rejected(decide(stub, admin, filed.subject_id, pb.DECISION_ACTION_DISMISS))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["ALREADY_CLAIMED"]


async def test_a_moderator_cannot_decide_about_themselves(
    stub, content_stub, moderator, bob, admin, rejected
):
    _, filed = await reported_post(stub, content_stub, moderator, bob)

    failure = await rejected(decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["SELF_DECISION"]


async def test_a_moderator_banning_a_staff_account_is_refused_by_users(
    stub, content_stub, users_stub, moderator, accounts, bob
):
    other = await accounts.create(role="moderator")
    _, filed = await reported_post(stub, content_stub, other, bob)

    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_BAN)

    assert made.state == pb.DECISION_STATE_REFUSED
    assert made.apply_error
    assert await status_of(users_stub, moderator, other.id) == users_pb2.USER_STATUS_ACTIVE


async def test_suspend_needs_a_duration(stub, content_stub, alice, bob, moderator, rejected):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    failure = await rejected(decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_SUSPEND))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["suspension"]


async def test_a_duration_on_another_action_is_invalid_argument(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    failure = await rejected(
        decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_BAN, suspension=DAY)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["suspension"]


async def test_removing_a_user_subject_is_invalid_argument(stub, alice, bob, moderator, rejected):
    filed = await report(stub, bob, alice.id, kind=pb.SUBJECT_KIND_USER)

    failure = await rejected(
        decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["action"]


async def test_a_decision_needs_an_action_and_a_reason(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)

    no_action = await rejected(decide(stub, moderator, filed.subject_id, 0))
    no_reason = await rejected(
        decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN, reason="")
    )

    assert no_action.fields == ["action"]
    assert no_reason.fields == ["reason"]


async def test_deciding_an_unknown_subject_is_not_found(stub, moderator, rejected):
    failure = await rejected(decide(stub, moderator, str(uuid.uuid4()), pb.DECISION_ACTION_WARN))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_the_user_a_decision_concerns_can_read_it_and_others_cannot(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN)
    request = pb.GetDecisionRequest(decision_id=made.id)

    own = await stub.GetDecision(request, metadata=alice.auth)
    other = await rejected(stub.GetDecision(request, metadata=bob.auth))

    assert own.decision.action == pb.DECISION_ACTION_WARN
    assert own.decision.moderator_id == moderator.id
    assert other.code == grpc.StatusCode.NOT_FOUND
