"""Races: parallel tips from one wallet, parallel retries of one request, crossing tips."""

from __future__ import annotations

import asyncio

import grpc

from .conftest import available, fund, key, ledger_sums, tip, wallet


async def test_parallel_tips_beyond_the_balance_post_exactly_what_it_affords(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 37 * 100)
    results = await asyncio.gather(
        *(tip(stub, alice, bob, 100) for _ in range(100)), return_exceptions=True
    )
    posted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(posted) == 37 and len(refused) == 63
    assert all(r.code() == grpc.StatusCode.FAILED_PRECONDITION for r in refused)
    assert await available(stub, alice) == 0
    assert await available(stub, bob) == 37 * 95
    [(tips,)] = await ledger_db.rows(
        "SELECT count(*) FROM transfers WHERE payer_id = %s AND type = 'tip'", alice.id
    )
    assert tips == 37
    assert await ledger_sums(ledger_db) == []


async def test_parallel_retries_of_one_request_move_money_once(stub, sandbox, alice, bob) -> None:
    await fund(stub, sandbox, alice, 1_000)
    request_id = key()
    results = await asyncio.gather(
        *(tip(stub, alice, bob, 100, request_id=request_id) for _ in range(50))
    )
    assert len({r.id for r in results}) == 1
    assert await available(stub, alice) == 900
    assert await available(stub, bob) == 95


async def test_crossing_tips_in_both_directions_never_deadlock(
    stub, sandbox, alice, bob, ledger_db
) -> None:
    await fund(stub, sandbox, alice, 10_000)
    await fund(stub, sandbox, bob, 10_000)
    calls = [tip(stub, alice, bob, 10) for _ in range(60)] + [
        tip(stub, bob, alice, 10) for _ in range(60)
    ]
    await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
    # A tip of 10 carries no fee (5% is 0.5, rounded down): both end where they began.
    a, b = await wallet(stub, alice), await wallet(stub, bob)
    assert (a.available_balance, b.available_balance) == (10_000, 10_000)
    assert await ledger_sums(ledger_db) == []
