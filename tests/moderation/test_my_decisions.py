"""ListMyDecisions: the decisions about the caller's content and account, newest first,
keyset-paged, each saying whether and until when it can be appealed; nobody else's."""

from __future__ import annotations

from datetime import timedelta

import grpc

from daira.moderation.v1 import moderation_pb2 as pb

from .conftest import decide, report, reported_post


async def my_decisions(stub, who, page_size: int = 0, page_token: str = ""):
    request = pb.ListMyDecisionsRequest(page_size=page_size, page_token=page_token)
    return await stub.ListMyDecisions(request, metadata=who.auth)


async def decided_post(stub, content_stub, author, reporter, moderator, action):
    _, filed = await reported_post(stub, content_stub, author, reporter)
    return await decide(stub, moderator, filed.subject_id, action)


async def test_a_user_lists_the_decisions_about_their_content_and_account_newest_first(
    stub, content_stub, alice, bob, moderator
):
    warned = await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_WARN)
    filed = await report(stub, bob, alice.id, kind=pb.SUBJECT_KIND_USER)
    about_account = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN)

    listed = (await my_decisions(stub, alice)).decisions

    assert [d.decision.id for d in listed] == [about_account.id, warned.id]
    assert listed[0].decision == about_account


async def test_a_user_sees_none_of_the_decisions_about_others(
    stub, content_stub, alice, bob, moderator
):
    await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_WARN)

    assert list((await my_decisions(stub, bob)).decisions) == []
    assert list((await my_decisions(stub, moderator)).decisions) == []


async def test_a_decision_is_appealable_until_twenty_days_after_it(
    stub, content_stub, alice, bob, moderator
):
    made = await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_WARN)

    [shown] = (await my_decisions(stub, alice)).decisions

    window = shown.appeal_expire_time.ToDatetime() - made.create_time.ToDatetime()
    assert (shown.appealable, window, shown.appeal_id) == (True, timedelta(days=20), "")


async def test_an_appealed_decision_is_not_appealable_again_and_names_its_appeal(
    stub, content_stub, alice, bob, moderator
):
    made = await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_WARN)
    request = pb.FileAppealRequest(decision_id=made.id, statement="it was satire")
    appeal = (await stub.FileAppeal(request, metadata=alice.auth)).appeal

    [shown] = (await my_decisions(stub, alice)).decisions

    assert (shown.appealable, shown.appeal_id) == (False, appeal.id)


async def test_a_dismissal_has_nothing_to_appeal(stub, content_stub, alice, bob, moderator):
    await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_DISMISS)

    [shown] = (await my_decisions(stub, alice)).decisions

    assert (shown.appealable, shown.HasField("appeal_expire_time")) == (False, False)


async def test_a_decision_past_its_window_is_not_appealable(
    stub, content_stub, moderation_db, alice, bob, moderator
):
    made = await decided_post(stub, content_stub, alice, bob, moderator, pb.DECISION_ACTION_WARN)
    await moderation_db.sql(
        "UPDATE decisions SET created_at = now() - interval '21 days' WHERE id = %s", made.id
    )

    [shown] = (await my_decisions(stub, alice)).decisions

    assert shown.appealable is False
    assert shown.HasField("appeal_expire_time")


async def test_decisions_come_in_pages_of_page_size(stub, content_stub, alice, mint, moderator):
    made = [
        await decided_post(stub, content_stub, alice, mint(), moderator, pb.DECISION_ACTION_WARN)
        for _ in range(3)
    ]

    first = await my_decisions(stub, alice, page_size=2)
    second = await my_decisions(stub, alice, page_size=2, page_token=first.next_page_token)

    assert [d.decision.id for d in first.decisions] == [made[2].id, made[1].id]
    assert [d.decision.id for d in second.decisions] == [made[0].id]
    assert second.next_page_token == ""


async def test_another_users_page_token_is_invalid_argument(
    stub, content_stub, alice, bob, mint, moderator, rejected
):
    for _ in range(2):
        await decided_post(stub, content_stub, alice, mint(), moderator, pb.DECISION_ACTION_WARN)
    token = (await my_decisions(stub, alice, page_size=1)).next_page_token

    failure = await rejected(my_decisions(stub, bob, page_token=token))

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_negative_page_size_or_a_garbled_token_is_invalid_argument(stub, alice, rejected):
    for fields in ({"page_size": -1}, {"page_token": "not-a-token"}):
        failure = await rejected(my_decisions(stub, alice, **fields))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_service_cannot_list_decisions(stub, service_auth, rejected):
    call = stub.ListMyDecisions(pb.ListMyDecisionsRequest(), metadata=service_auth)

    failure = await rejected(call)

    assert (failure.code, failure.reasons) == (grpc.StatusCode.PERMISSION_DENIED, ["USER_REQUIRED"])
