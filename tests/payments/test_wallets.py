"""GetWallet, ListTransactions, GetTransaction and GetEarnings: own money, or any for admins."""

from __future__ import annotations

import grpc

from daira.payments.v1 import payments_pb2 as pb

from .conftest import fund, tip, wallet, withdraw


async def every_transaction(stub, who, request: pb.ListTransactionsRequest) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        reply = await stub.ListTransactions(request, metadata=who.auth)
        pages.append([t.id for t in reply.transactions])
        if not reply.next_page_token:
            return pages
        request.page_token = reply.next_page_token


async def test_a_wallet_never_used_is_empty(stub, alice) -> None:
    found = await wallet(stub, alice, "JPY")
    assert (found.user_id, found.currency_code) == (alice.id, "JPY")
    assert (found.posted_balance, found.pending_balance, found.available_balance) == (0, 0, 0)


async def test_a_wallet_in_an_unknown_currency_is_invalid_argument(stub, alice, rejected) -> None:
    request = pb.GetWalletRequest(currency_code="DOGE")
    failure = await rejected(stub.GetWallet(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["currency_code"]


async def test_wallets_of_each_currency_are_apart(stub, sandbox, alice) -> None:
    await fund(stub, sandbox, alice, 500, "USD")
    await fund(stub, sandbox, alice, 7, "KWD")
    assert (await wallet(stub, alice, "USD")).available_balance == 500
    assert (await wallet(stub, alice, "KWD")).available_balance == 7


async def test_another_users_wallet_is_permission_denied(stub, alice, bob, rejected) -> None:
    request = pb.GetWalletRequest(user_id=bob.id, currency_code="USD")
    failure = await rejected(stub.GetWallet(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_admin_reads_any_wallet(stub, sandbox, alice, admin) -> None:
    await fund(stub, sandbox, alice, 321)
    request = pb.GetWalletRequest(user_id=alice.id, currency_code="USD")
    reply = await stub.GetWallet(request, metadata=admin.auth)
    assert reply.wallet.available_balance == 321


async def test_transactions_are_listed_newest_first_in_pages(stub, sandbox, alice, bob) -> None:
    deposit = await fund(stub, sandbox, alice, 1_000)
    tips = [await tip(stub, alice, bob, 10 + n) for n in range(5)]
    out = await withdraw(stub, alice, 100)
    request = pb.ListTransactionsRequest(page_size=3)
    pages = await every_transaction(stub, alice, request)
    assert [len(p) for p in pages] == [3, 3, 1]
    expected = [out.transaction.id, *[t.id for t in reversed(tips)], deposit.transaction_id]
    assert [i for page in pages for i in page] == expected


async def test_transactions_filtered_by_type(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = [await tip(stub, alice, bob, 10) for _ in range(2)]
    request = pb.ListTransactionsRequest(type=pb.TRANSACTION_TYPE_TIP, page_size=1)
    pages = await every_transaction(stub, alice, request)
    assert [i for page in pages for i in page] == [t.id for t in reversed(sent)]
    deposits = pb.ListTransactionsRequest(type=pb.TRANSACTION_TYPE_DEPOSIT)
    assert len((await every_transaction(stub, bob, deposits))[0]) == 0


async def test_the_recipient_sees_a_tip_in_their_own_history(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 10)
    reply = await stub.ListTransactions(pb.ListTransactionsRequest(), metadata=bob.auth)
    assert [t.id for t in reply.transactions] == [sent.id]


async def test_a_page_token_of_another_query_is_refused(
    stub, sandbox, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    for _ in range(2):
        await tip(stub, alice, bob, 10)
    reply = await stub.ListTransactions(
        pb.ListTransactionsRequest(page_size=1), metadata=alice.auth
    )
    other = pb.ListTransactionsRequest(
        page_size=1, type=pb.TRANSACTION_TYPE_TIP, page_token=reply.next_page_token
    )
    failure = await rejected(stub.ListTransactions(other, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["page_token"]


async def test_another_users_history_is_permission_denied(stub, alice, bob, rejected) -> None:
    request = pb.ListTransactionsRequest(user_id=bob.id)
    failure = await rejected(stub.ListTransactions(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_admin_lists_any_users_history(stub, sandbox, alice, admin) -> None:
    deposit = await fund(stub, sandbox, alice, 10)
    request = pb.ListTransactionsRequest(user_id=alice.id)
    reply = await stub.ListTransactions(request, metadata=admin.auth)
    assert [t.id for t in reply.transactions] == [deposit.transaction_id]


async def test_a_transaction_of_others_is_not_found(
    stub, sandbox, alice, bob, carol, rejected
) -> None:
    await fund(stub, sandbox, alice, 100)
    sent = await tip(stub, alice, bob, 10)
    failure = await rejected(
        stub.GetTransaction(pb.GetTransactionRequest(id=sent.id), metadata=carol.auth)
    )
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_transaction_id_that_is_not_a_uuid_is_invalid_argument(
    stub, alice, rejected
) -> None:
    failure = await rejected(
        stub.GetTransaction(pb.GetTransactionRequest(id="tx-1"), metadata=alice.auth)
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == ["id"]


async def test_earnings_are_derived_from_the_ledger(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    await fund(stub, sandbox, bob, 50, "EUR")
    await tip(stub, alice, bob, 200)  # bob earns 190
    await tip(stub, alice, bob, 100)  # bob earns 95
    back = await tip(stub, bob, alice, 40)  # bob spends 40, alice earns 38
    request = pb.RefundRequest(
        transaction_id=back.id, amount=40, reason="no thanks", request_id="r-" + back.id
    )
    await stub.Refund(request, metadata=alice.auth)  # alice pays 38 back, bob gets 40 back
    reply = await stub.GetEarnings(pb.GetEarningsRequest(), metadata=bob.auth)
    found = {e.currency_code: e for e in reply.earnings}
    assert set(found) == {"EUR", "USD"}
    usd = found["USD"]
    assert (usd.earned, usd.spent, usd.tips_received, usd.tips_sent) == (285, 0, 2, 1)
    eur = found["EUR"]
    assert (eur.earned, eur.spent, eur.tips_received, eur.tips_sent) == (0, 0, 0, 0)
    mine = await stub.GetEarnings(pb.GetEarningsRequest(), metadata=alice.auth)
    [alice_usd] = mine.earnings
    assert (alice_usd.earned, alice_usd.spent) == (0, 300)


async def test_another_users_earnings_are_permission_denied(stub, alice, bob, rejected) -> None:
    request = pb.GetEarningsRequest(user_id=bob.id)
    failure = await rejected(stub.GetEarnings(request, metadata=alice.auth))
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_admin_reads_anyones_earnings(stub, sandbox, alice, bob, admin) -> None:
    await fund(stub, sandbox, alice, 100)
    await tip(stub, alice, bob, 100)
    reply = await stub.GetEarnings(pb.GetEarningsRequest(user_id=bob.id), metadata=admin.auth)
    assert [(e.currency_code, e.earned) for e in reply.earnings] == [("USD", 95)]
