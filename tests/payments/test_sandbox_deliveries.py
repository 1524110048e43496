"""The sandbox delivers as a provider does: a few events at a time, again while the
service cannot take one, never again once it refused one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.payments.providers.sandbox import DELIVERIES_AT_ONCE, Sandbox
from shared.errors import FailedPrecondition

WAIT_SECONDS = 5.0


def payment(n: int = 0) -> Any:
    return SimpleNamespace(reference=f"sbx_{n}", amount=100, currency="USD")


async def test_an_event_the_service_cannot_take_yet_is_delivered_again(settings) -> None:
    sandbox, calls, done = Sandbox(settings), [], asyncio.Event()

    async def deliver(payload: bytes, signature: str) -> None:
        calls.append(payload)
        if len(calls) == 1:
            raise PoolTimeout("QueuePool limit reached")
        done.set()

    sandbox.connect(deliver)
    await sandbox.start(payment(), "succeed")
    await asyncio.wait_for(done.wait(), WAIT_SECONDS)
    assert len(calls) == 2 and calls[0] == calls[1]
    await sandbox.close()


async def test_an_event_the_service_refuses_is_not_delivered_again(settings) -> None:
    sandbox, calls, refused = Sandbox(settings), [], asyncio.Event()

    async def deliver(payload: bytes, signature: str) -> None:
        calls.append(payload)
        refused.set()
        raise FailedPrecondition("no such payment", reason="UNKNOWN_PAYMENT")

    sandbox.connect(deliver)
    await sandbox.start(payment(), "succeed")
    await asyncio.wait_for(refused.wait(), WAIT_SECONDS)
    await asyncio.sleep(0.3)  # past the first retry's wait
    assert len(calls) == 1
    await sandbox.close()


async def test_a_burst_of_payments_is_delivered_a_few_at_a_time(settings) -> None:
    sandbox, delivered, all_in = Sandbox(settings), [], asyncio.Event()
    in_flight = most = 0

    async def deliver(payload: bytes, signature: str) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        delivered.append(payload)
        if len(delivered) == 20:
            all_in.set()

    sandbox.connect(deliver)
    for n in range(20):
        await sandbox.start(payment(n), "succeed")
    await asyncio.wait_for(all_in.wait(), WAIT_SECONDS)
    assert most == DELIVERIES_AT_ONCE
    await sandbox.close()
