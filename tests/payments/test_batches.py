"""Tips posted in batches (batches.py, post_transfers()): the tips that arrive together go
in one round trip, each with its own outcome; a batch that fails whole is posted again
tip by tip."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.payments import repository
from services.payments.batches import TransferBatches
from services.payments.deps import AccountIds
from services.payments.ledger import Movement
from services.payments.repository import Transfer
from shared.db import Database
from shared.errors import FailedPrecondition

from .conftest import available, fund, ledger_sums


@pytest.fixture
async def db(payments_db_url: str) -> AsyncIterator[Database]:
    database = Database(payments_db_url)
    yield database
    await database.dispose()


async def wallet_ids(db: Database, *who) -> list[int]:
    """Their USD wallets' account ids, opened if need be."""
    accounts = AccountIds(db, slots=1)
    return [await accounts.wallet(uuid.UUID(w.id), "USD") for w in who]


def tip_of(payer, payee, amount: int) -> Transfer:
    return Transfer(
        id=uuid.uuid4(),
        type="tip",
        currency="USD",
        amount=amount,
        payer_id=uuid.UUID(payer.id),
        payee_id=uuid.UUID(payee.id),
        created_at=datetime.now(UTC),
    )


async def posted_tips(ledger_db, payer) -> int:
    [(count,)] = await ledger_db.rows(
        "SELECT count(*) FROM transfers WHERE type = 'tip' AND payer_id = %s", payer.id
    )
    return int(count)


@pytest.fixture
def round_trips(monkeypatch) -> list[int]:
    """The size of each batch sent to the database (every transfer goes through it)."""
    sizes: list[int] = []
    post = repository.post_transfers

    async def counted(conn, postings):
        sizes.append(len(postings))
        return await post(conn, postings)

    monkeypatch.setattr(repository, "post_transfers", counted)
    return sizes


async def test_tips_arriving_together_share_round_trips(
    db, stub, sandbox, alice, bob, ledger_db, round_trips
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    payer, payee = await wallet_ids(db, alice, bob)
    round_trips.clear()  # the deposit was posted through it too
    batches = TransferBatches(db)

    await asyncio.gather(
        *(
            batches.write(
                tip_of(alice, bob, 10),
                [Movement(payer, "debit", 10), Movement(payee, "credit", 10)],
            )
            for _ in range(20)
        )
    )

    assert sum(round_trips) == 20 and len(round_trips) < 20
    assert await available(stub, alice) == 800
    assert await ledger_sums(ledger_db) == []


async def test_a_tip_refused_for_funds_leaves_the_others_of_its_batch_posted(
    db, stub, sandbox, alice, bob, ledger_db, round_trips
) -> None:
    await fund(stub, sandbox, alice, 100)
    payer, payee = await wallet_ids(db, alice, bob)
    round_trips.clear()  # the deposit was posted through it too
    batches = TransferBatches(db)

    def write(amount: int):
        movements = [Movement(payer, "debit", amount), Movement(payee, "credit", amount)]
        return batches.write(tip_of(alice, bob, amount), movements)

    results = await asyncio.gather(write(60), write(60), write(40), return_exceptions=True)

    assert round_trips == [3]
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], FailedPrecondition)
    assert await available(stub, alice) == 0
    assert await posted_tips(ledger_db, alice) == 2


async def test_a_batch_that_fails_whole_is_posted_tip_by_tip(
    db, stub, sandbox, alice, bob, ledger_db, round_trips
) -> None:
    await fund(stub, sandbox, alice, 100)
    payer, payee = await wallet_ids(db, alice, bob)
    round_trips.clear()  # the deposit was posted through it too
    missing = payee + 10**9
    batches = TransferBatches(db)

    def write(to: int):
        return batches.write(
            tip_of(alice, bob, 10), [Movement(payer, "debit", 10), Movement(to, "credit", 10)]
        )

    results = await asyncio.gather(
        write(payee), write(payee), write(missing), write(payee), return_exceptions=True
    )

    assert round_trips == [4, 1, 1, 1, 1]
    assert [r is None for r in results] == [True, True, False, True]
    assert "missing" in str(results[2])
    assert await available(stub, alice) == 70
    assert await ledger_sums(ledger_db) == []
