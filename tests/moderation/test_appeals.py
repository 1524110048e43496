"""Appeals: the affected user appeals once within 20 days; another moderator upholds or
overturns; overturning reverses the effect in the owning service."""

from __future__ import annotations

import grpc

from daira.moderation.v1 import moderation_pb2 as pb
from daira.users.v1 import users_pb2

from .conftest import decide, decision, get_post, report, reported_post, until_state


async def appeal(stub, who, decision_id: str, statement: str = "I did nothing wrong"):
    request = pb.FileAppealRequest(decision_id=decision_id, statement=statement)
    return (await stub.FileAppeal(request, metadata=who.auth)).appeal


async def resolve(stub, who, appeal_id: str, outcome: int, reason: str = "reviewed"):
    request = pb.ResolveAppealRequest(appeal_id=appeal_id, outcome=outcome, reason=reason)
    return await stub.ResolveAppeal(request, metadata=who.auth)


async def removed_post(stub, content_stub, author, reporter, moderator):
    post, filed = await reported_post(stub, content_stub, author, reporter)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)
    return post, made


async def test_overturning_a_removal_shows_the_post_again(
    stub, content_stub, alice, bob, carol, moderator, admin
):
    post, made = await removed_post(stub, content_stub, alice, bob, moderator)
    filed = await appeal(stub, alice, made.id)

    resolved = await resolve(stub, admin, filed.id, pb.APPEAL_OUTCOME_OVERTURN)

    reversed_ = await until_state(
        lambda: decision(stub, admin, made.id), pb.DECISION_STATE_REVERSED
    )
    shown = await get_post(content_stub, carol, post.id)
    assert resolved.appeal.state == pb.APPEAL_STATE_OVERTURNED
    assert resolved.appeal.resolver_id == admin.id
    assert reversed_.state == pb.DECISION_STATE_REVERSED
    assert shown.id == post.id


async def test_overturning_a_ban_reinstates_the_account(
    stub, users_stub, alice, bob, moderator, admin
):
    filed = await report(stub, bob, alice.id, kind=pb.SUBJECT_KIND_USER)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_BAN)
    filed_appeal = await appeal(stub, alice, made.id)

    await resolve(stub, admin, filed_appeal.id, pb.APPEAL_OUTCOME_OVERTURN)

    await until_state(lambda: decision(stub, admin, made.id), pb.DECISION_STATE_REVERSED)
    user = await users_stub.GetUser(users_pb2.GetUserRequest(id=alice.id), metadata=admin.auth)
    assert user.user.status == users_pb2.USER_STATUS_ACTIVE


async def test_upholding_keeps_the_decision(
    stub, content_stub, alice, bob, carol, moderator, admin, rejected
):
    post, made = await removed_post(stub, content_stub, alice, bob, moderator)
    filed = await appeal(stub, alice, made.id)

    resolved = await resolve(stub, admin, filed.id, pb.APPEAL_OUTCOME_UPHOLD)

    hidden = await rejected(get_post(content_stub, carol, post.id))
    assert resolved.appeal.state == pb.APPEAL_STATE_UPHELD
    assert resolved.decision.state == pb.DECISION_STATE_APPLIED
    assert hidden.code == grpc.StatusCode.NOT_FOUND


async def test_a_second_appeal_of_one_decision_is_already_exists(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    await appeal(stub, alice, made.id)

    failure = await rejected(appeal(stub, alice, made.id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


async def test_only_the_affected_user_may_appeal(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)

    failure = await rejected(appeal(stub, bob, made.id))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["NOT_AFFECTED_USER"]


async def test_an_appeal_after_twenty_days_is_failed_precondition(
    stub, content_stub, alice, bob, moderator, moderation_db, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    await moderation_db.sql(
        "UPDATE decisions SET created_at = now() - interval '21 days' WHERE id = %s", made.id
    )

    failure = await rejected(appeal(stub, alice, made.id))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["APPEAL_WINDOW_CLOSED"]


async def test_a_dismissal_cannot_be_appealed(stub, content_stub, alice, bob, moderator, rejected):
    _, filed = await reported_post(stub, content_stub, alice, bob)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_DISMISS)

    failure = await rejected(appeal(stub, alice, made.id))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["NOTHING_TO_APPEAL"]


async def test_the_deciding_moderator_cannot_resolve_the_appeal(
    stub, content_stub, alice, bob, moderator, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    filed = await appeal(stub, alice, made.id)

    failure = await rejected(resolve(stub, moderator, filed.id, pb.APPEAL_OUTCOME_OVERTURN))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.reasons == ["SAME_MODERATOR"]


async def test_a_resolved_appeal_cannot_be_resolved_again(
    stub, content_stub, alice, bob, moderator, admin, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    filed = await appeal(stub, alice, made.id)
    await resolve(stub, admin, filed.id, pb.APPEAL_OUTCOME_UPHOLD)

    failure = await rejected(resolve(stub, admin, filed.id, pb.APPEAL_OUTCOME_OVERTURN))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert failure.reasons == ["APPEAL_RESOLVED"]


async def test_users_list_their_own_appeals_and_staff_list_all(
    stub, content_stub, alice, bob, moderator, admin
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    filed = await appeal(stub, alice, made.id)
    pending = pb.ListAppealsRequest(state=pb.APPEAL_STATE_PENDING, page_size=100)

    own = await stub.ListAppeals(pending, metadata=alice.auth)
    others = await stub.ListAppeals(pending, metadata=bob.auth)
    staff = await stub.ListAppeals(pending, metadata=admin.auth)

    assert [a.id for a in own.appeals] == [filed.id]
    assert not others.appeals
    assert filed.id in [a.id for a in staff.appeals]


async def test_an_appeal_needs_a_statement_and_an_outcome(
    stub, content_stub, alice, bob, moderator, admin, rejected
):
    _, made = await removed_post(stub, content_stub, alice, bob, moderator)
    no_statement = await rejected(appeal(stub, alice, made.id, statement=""))
    filed = await appeal(stub, alice, made.id)

    no_outcome = await rejected(resolve(stub, admin, filed.id, 0))

    assert no_statement.fields == ["statement"]
    assert no_outcome.fields == ["outcome"]
