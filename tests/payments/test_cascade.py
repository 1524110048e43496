"""A deleted account's users.user.deleted erases it from the ledger: every entry and
transfer stays and the books still balance, but nothing names it any more, so no read
shows its wallets or history and its counterparties see an empty payer or payee; its
pending payments still end as their provider says."""

from __future__ import annotations

import grpc
import pytest

from daira.payments.v1 import payments_pb2 as pb
from services.payments import cascade
from shared.streams import USERS_ACCOUNTS
from tests import harness
from tests.users.conftest import status_changed, user_deleted

from .conftest import available, deliver, fund, ledger_sums, silent_deposit, tip, wallet, withdraw


async def transactions(stub, caller, user_id: str = "") -> dict[str, pb.Transaction]:
    request = pb.ListTransactionsRequest(user_id=user_id, page_size=100)
    reply = await stub.ListTransactions(request, metadata=caller.auth)
    return {t.id: t for t in reply.transactions}


async def rows_naming(db, user_id: str) -> list[int]:
    """How many rows of each payments table name the user."""
    [counts] = await db.rows(
        "SELECT (SELECT count(*) FROM accounts WHERE user_id = %s),"
        " (SELECT count(*) FROM ledger_entries WHERE user_id = %s),"
        " (SELECT count(*) FROM transfers WHERE %s IN (payer_id, payee_id)),"
        " (SELECT count(*) FROM payments WHERE user_id = %s),"
        " (SELECT count(*) FROM idempotency_keys WHERE owner = %s)",
        *[user_id] * 5,
    )
    return list(counts)


async def debited_wallet(db, transfer_id: str) -> tuple[str, int]:
    """(owner, posted balance) of the wallet a transfer debited."""
    [found] = await db.rows(
        "SELECT a.user_id::text, a.posted FROM ledger_entries e JOIN accounts a"
        " ON a.id = e.account_id WHERE e.transfer_id = %s AND e.side = 'debit'"
        " AND a.kind = 'wallet'",
        transfer_id,
    )
    return found


async def erased(stub, who) -> pb.Wallet:
    """The user's wallet once the cascade has relabelled it: read as never opened."""
    empty = pb.Wallet(user_id=who.id, currency_code="USD")
    return await harness.settled(lambda: wallet(stub, who), empty)


async def test_a_deleted_users_wallet_and_history_leave_every_read(
    stub, sandbox, ledger_db, redis_url, rejected, alice, bob, admin
):
    await fund(stub, sandbox, alice, 1_000)
    await fund(stub, sandbox, bob, 500)
    sent = await tip(stub, alice, bob, 200, note="for the photos")  # fee 10: bob gets 190
    received = await tip(stub, bob, alice, 100)  # fee 5: alice gets 95

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(alice.id))

    assert await erased(stub, alice) == pb.Wallet(user_id=alice.id, currency_code="USD")
    assert await transactions(stub, alice) == {}
    assert await transactions(stub, admin, alice.id) == {}
    request = pb.GetEarningsRequest(user_id=alice.id)
    assert list((await stub.GetEarnings(request, metadata=admin.auth)).earnings) == []
    asked = stub.GetTransaction(pb.GetTransactionRequest(id=sent.id), metadata=alice.auth)
    assert (await rejected(asked)).code == grpc.StatusCode.NOT_FOUND
    seen = await transactions(stub, bob)
    assert (seen[sent.id].payer_id, seen[sent.id].payee_id, seen[sent.id].note) == ("", bob.id, "")
    assert (seen[received.id].payer_id, seen[received.id].payee_id) == (bob.id, "")
    assert await available(stub, bob) == 500 + 190 - 100
    assert await rows_naming(ledger_db, alice.id) == [0, 0, 0, 0, 0]
    owner, posted = await debited_wallet(ledger_db, sent.id)
    assert owner != alice.id and posted == 1_000 - 200 + 95
    assert await ledger_sums(ledger_db) == []


async def test_a_tip_with_a_deleted_account_is_not_refundable(
    stub, sandbox, redis_url, rejected, alice, bob
):
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 200)

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(alice.id))
    await erased(stub, alice)

    request = pb.RefundRequest(transaction_id=sent.id, amount=50, request_id="refund-1")
    failure = await rejected(stub.Refund(request, metadata=bob.auth))
    assert (failure.code, failure.reasons) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ["ACCOUNT_DELETED"],
    )


async def test_pending_payments_of_a_deleted_account_still_settle(
    stub, sandbox, ledger_db, redis_url, alice
):
    await fund(stub, sandbox, alice, 1_000)
    withdrawal = (await withdraw(stub, alice, 300)).payment
    deposit = await silent_deposit(stub, alice, 50)
    reserved = await transactions(stub, alice)
    [withdrawn] = [t.id for t in reserved.values() if t.type == pb.TRANSACTION_TYPE_WITHDRAWAL]

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(alice.id))
    await erased(stub, alice)

    assert (await deliver(stub, sandbox, withdrawal)).payment.state == pb.PAYMENT_STATE_SUCCEEDED
    assert (await deliver(stub, sandbox, deposit)).payment.state == pb.PAYMENT_STATE_SUCCEEDED
    owner, posted = await debited_wallet(ledger_db, withdrawn)
    assert owner != alice.id and posted == 1_000 - 300 + 50
    assert await rows_naming(ledger_db, alice.id) == [0, 0, 0, 0, 0]
    assert await wallet(stub, alice) == pb.Wallet(user_id=alice.id, currency_code="USD")
    assert await ledger_sums(ledger_db) == []


async def test_a_duplicate_delivery_and_other_events_change_nothing_more(
    stub, sandbox, ledger_db, redis_url, alice, bob, carol
):
    await fund(stub, sandbox, alice, 400)
    await fund(stub, sandbox, bob, 300)
    await fund(stub, sandbox, carol, 200)
    sent = await tip(stub, alice, carol, 100)
    event = user_deleted(alice.id)

    await harness.publish(redis_url, USERS_ACCOUNTS, event)
    await harness.publish(redis_url, USERS_ACCOUNTS, event)
    await harness.publish(redis_url, USERS_ACCOUNTS, status_changed(bob.id))
    # Handled after the others: the group reads its stream in order.
    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(carol.id))
    await erased(stub, carol)

    owner, posted = await debited_wallet(ledger_db, sent.id)
    assert owner not in (alice.id, carol.id) and posted == 300
    assert await ledger_db.rows("SELECT count(*) FROM accounts WHERE user_id = %s", owner) == [(1,)]
    assert await available(stub, bob) == 300
    assert await ledger_sums(ledger_db) == []


async def test_a_deletion_naming_no_user_ends_in_the_dead_letters(stub, redis_url):
    event = user_deleted("not-a-uuid")

    await harness.publish(redis_url, USERS_ACCOUNTS, event)

    letter = await harness.dead_letter(redis_url, USERS_ACCOUNTS, event.id, group=cascade.GROUP)
    assert letter is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET user_id = gen_random_uuid() WHERE transfer_id = %s",
        "UPDATE ledger_entries SET user_id = NULL, amount = 1 WHERE transfer_id = %s",
        "UPDATE transfers SET note = 'changed' WHERE id = %s",
        "UPDATE transfers SET payee_id = gen_random_uuid() WHERE id = %s",
    ],
)
async def test_the_ledger_allows_no_change_but_erasing_a_user(
    stub, sandbox, ledger_db, alice, bob, statement
):
    await fund(stub, sandbox, alice, 100)
    sent = await tip(stub, alice, bob, 10)

    with pytest.raises(Exception, match="append-only"):
        await ledger_db.rows(statement, sent.id)
