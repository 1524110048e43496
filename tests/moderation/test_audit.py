"""The audit log: moderation actions and other services' admin actions as entries,
append-only in the database, hash-chained so VerifyAuditLog finds an entry altered or
removed (even by a superuser), and filtered reads for admins."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import grpc
import psycopg
import pytest

from daira.moderation.v1 import moderation_pb2 as pb
from services.moderation import audit
from services.moderation.audit import AuditEntry
from shared.db import Database

from .conftest import decide, reported_post


def audit_event(**fields) -> pb.RecordAuditEventRequest:
    values = {
        "actor": str(uuid.uuid4()),
        "actor_role": "admin",
        "action": "payments.refund",
        "target_kind": "transaction",
        "target_id": str(uuid.uuid4()),
        "reason": "duplicate charge",
        **fields,
    }
    return pb.RecordAuditEventRequest(**values)


async def entries(stub, admin, **filters) -> list[pb.AuditEntry]:
    request = pb.ListAuditLogRequest(page_size=100, **filters)
    return list((await stub.ListAuditLog(request, metadata=admin.auth)).entries)


async def verify(stub, admin) -> pb.VerifyAuditLogResponse:
    return await stub.VerifyAuditLog(pb.VerifyAuditLogRequest(), metadata=admin.auth)


async def test_a_decision_is_an_audit_entry_of_its_moderator(
    stub, content_stub, alice, bob, moderator, admin
):
    post, filed = await reported_post(stub, content_stub, alice, bob)
    made = await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_WARN, "rude")

    [entry] = await entries(stub, admin, target_kind="post", target_id=post.id)

    assert entry.actor == moderator.id
    assert entry.actor_role == "moderator"
    assert entry.action == "moderation.decide"
    assert entry.reason == "rude"
    assert json.loads(entry.after_json)["decision_id"] == made.id
    assert json.loads(entry.before_json) == {"state": "open"}
    assert entry.peer
    assert entry.source == "moderation"


async def test_an_applied_effect_is_an_audit_entry_of_the_service(
    stub, content_stub, alice, bob, moderator, admin
):
    post, filed = await reported_post(stub, content_stub, alice, bob)
    await decide(stub, moderator, filed.subject_id, pb.DECISION_ACTION_REMOVE_CONTENT)

    listed = await entries(stub, admin, target_kind="post", target_id=post.id)

    # content's own entry of the removal follows from its event (test_admin_actions)
    ours = [e for e in listed if e.source == "moderation"]
    assert [e.action for e in ours] == ["moderation.apply", "moderation.decide"]
    assert ours[0].actor == "service:moderation"


async def test_another_service_records_an_admin_action(stub, service_auth, admin):
    request = audit_event(before_json='{"refunded": 0}', after_json='{"refunded": 150}')

    recorded = (await stub.RecordAuditEvent(request, metadata=service_auth)).entry

    [listed] = await entries(stub, admin, target_kind="transaction", target_id=request.target_id)
    assert listed.sequence == recorded.sequence
    assert listed.source == "payments"
    assert json.loads(listed.after_json) == {"refunded": 150}


async def test_recording_an_event_again_records_nothing_new(stub, service_auth):
    request = audit_event(event_id=str(uuid.uuid4()))

    first = (await stub.RecordAuditEvent(request, metadata=service_auth)).entry
    again = (await stub.RecordAuditEvent(request, metadata=service_auth)).entry

    assert again.sequence == first.sequence


async def test_recording_needs_actor_action_and_target(stub, service_auth, rejected):
    for field in ("actor", "action", "target_kind", "target_id"):
        failure = await rejected(
            stub.RecordAuditEvent(audit_event(**{field: ""}), metadata=service_auth)
        )
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.fields == [field]


async def test_before_and_after_must_be_json_objects(stub, service_auth, rejected):
    failure = await rejected(
        stub.RecordAuditEvent(audit_event(after_json="[1, 2]"), metadata=service_auth)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["after_json"]


async def test_the_log_filters_by_actor_and_action(stub, service_auth, admin):
    actor = str(uuid.uuid4())
    for action in ("users.set_status", "payments.refund", "users.set_status"):
        await stub.RecordAuditEvent(audit_event(actor=actor, action=action), metadata=service_auth)

    by_actor = await entries(stub, admin, actor=actor)
    by_both = await entries(stub, admin, actor=actor, action="users.set_status")

    assert len(by_actor) == 3
    assert [e.action for e in by_both] == ["users.set_status", "users.set_status"]
    assert by_both[0].sequence > by_both[1].sequence


async def test_the_log_filters_by_time(stub, service_auth, admin):
    actor = str(uuid.uuid4())
    old, new = audit_event(actor=actor), audit_event(actor=actor)
    old.occur_time.FromSeconds(1_700_000_000)
    new.occur_time.FromSeconds(1_800_000_000)
    for request in (old, new):
        await stub.RecordAuditEvent(request, metadata=service_auth)
    window = pb.ListAuditLogRequest(actor=actor)
    window.start_time.FromSeconds(1_750_000_000)

    listed = (await stub.ListAuditLog(window, metadata=admin.auth)).entries

    assert [e.target_id for e in listed] == [new.target_id]


async def test_the_log_is_paged(stub, service_auth, admin):
    actor = str(uuid.uuid4())
    for _ in range(3):
        await stub.RecordAuditEvent(audit_event(actor=actor), metadata=service_auth)

    first = await stub.ListAuditLog(
        pb.ListAuditLogRequest(actor=actor, page_size=2), metadata=admin.auth
    )
    rest = await stub.ListAuditLog(
        pb.ListAuditLogRequest(actor=actor, page_size=2, page_token=first.next_page_token),
        metadata=admin.auth,
    )

    assert len(first.entries) == 2
    assert len(rest.entries) == 1
    assert not rest.next_page_token


async def test_a_target_id_without_its_kind_is_invalid_argument(stub, admin, rejected):
    failure = await rejected(
        stub.ListAuditLog(pb.ListAuditLogRequest(target_id="x"), metadata=admin.auth)
    )

    assert failure.fields == ["target_kind"]


async def test_the_database_refuses_to_change_an_entry(stub, service_auth, moderation_db):
    recorded = (await stub.RecordAuditEvent(audit_event(), metadata=service_auth)).entry

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await moderation_db.sql(
            "UPDATE audit_log SET reason = 'nothing' WHERE sequence = %s", recorded.sequence
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await moderation_db.sql("DELETE FROM audit_log WHERE sequence = %s", recorded.sequence)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await moderation_db.sql("TRUNCATE audit_log")


async def test_concurrent_appends_make_one_unbroken_chain(stub, service_auth, admin):
    before = await verify(stub, admin)

    await asyncio.gather(
        *(stub.RecordAuditEvent(audit_event(), metadata=service_auth) for _ in range(30))
    )

    after = await verify(stub, admin)
    assert before.intact
    assert after.intact
    assert after.entries_checked >= before.entries_checked + 30


async def past_the_triggers(superuser_db, statement: str, *params) -> None:
    """Run `statement` as a superuser with triggers off, as only a superuser can."""
    async with await psycopg.AsyncConnection.connect(superuser_db.url, autocommit=True) as conn:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(statement, params)


@pytest.fixture
async def tampered_log(superuser_db):
    """Lets a test change entries past the triggers; the log is emptied afterwards, since a
    broken chain would fail every later verification."""
    yield superuser_db
    await past_the_triggers(superuser_db, "TRUNCATE audit_log")


async def test_an_entry_altered_by_a_superuser_is_found_where_it_is(
    stub, service_auth, admin, tampered_log
):
    recorded = [
        (await stub.RecordAuditEvent(audit_event(), metadata=service_auth)).entry for _ in range(3)
    ]
    altered = recorded[1].sequence

    await past_the_triggers(
        tampered_log, "UPDATE audit_log SET reason = 'nothing' WHERE sequence = %s", altered
    )

    verdict = await verify(stub, admin)
    assert not verdict.intact
    assert verdict.first_bad_sequence == altered
    assert verdict.problem == pb.AUDIT_PROBLEM_ALTERED


async def test_an_entry_removed_by_a_superuser_is_found_where_it_was(
    stub, service_auth, admin, tampered_log
):
    recorded = [
        (await stub.RecordAuditEvent(audit_event(), metadata=service_auth)).entry for _ in range(3)
    ]
    removed = recorded[1].sequence

    await past_the_triggers(tampered_log, "DELETE FROM audit_log WHERE sequence = %s", removed)

    verdict = await verify(stub, admin)
    assert not verdict.intact
    assert verdict.first_bad_sequence == removed
    assert verdict.problem == pb.AUDIT_PROBLEM_MISSING


async def test_an_entry_appended_in_a_transaction_that_rolls_back_leaves_no_trace(
    stub, admin, moderation_db_url
):
    database = Database(moderation_db_url)
    actor = str(uuid.uuid4())
    entry = AuditEntry(
        actor=actor,
        actor_role="admin",
        action="users.set_status",
        target_kind="user",
        target_id=str(uuid.uuid4()),
        source="users",
    )
    try:
        with pytest.raises(RuntimeError):
            async with database.transaction() as conn:
                await audit.append(conn, entry)
                raise RuntimeError("the action failed")
        async with database.transaction() as conn:
            kept = await audit.append(conn, dataclasses.replace(entry, reason="second try"))
    finally:
        await database.dispose()

    listed = await entries(stub, admin, actor=actor)
    assert [e.reason for e in listed] == ["second try"]
    assert listed[0].sequence == kept.sequence
    assert (await verify(stub, admin)).intact
