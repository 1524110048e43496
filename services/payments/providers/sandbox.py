"""The SANDBOX provider: a local simulator that behaves like a provider's webhook.

A payment made with it gets a signed event delivered to the service's own event
handler, as a provider's would arrive at the webhook: at once (SUCCEED, FAIL), after
the configured delay (DELAY), twice (DUPLICATE), or never (SILENT, for an event sent by
hand with `event`, or a withdrawal left to time out). Its events are verified by their
HMAC before they are parsed, and refused once older than the webhook tolerance.

It delivers as a provider does: a few events at a time (a burst of payments must not
take every database connection from the service's own calls), and again, with backoff,
while the service cannot take one (its database down or busy) instead of losing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import grpc

from services.payments.providers import (
    FAILED,
    SUCCEEDED,
    Event,
    Opened,
    check_fresh,
    forged,
    sign,
    verify,
)
from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.db import is_outage
from shared.errors import DomainError
from shared.ids import new_id
from shared.logs import get_logger

log = get_logger("daira.payments.sandbox")
DELIVERIES_AT_ONCE = 4
DELIVERY_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 0.1

Deliver = Callable[[bytes, str], Awaitable[object]]


class Sandbox:
    name = "sandbox"

    def __init__(self, settings: PaymentsSettings) -> None:
        self._secret = settings.sandbox_webhook_secret.get_secret_value().encode()
        self._delay = settings.sandbox_delay_seconds
        self._tolerance = settings.webhook_tolerance_seconds
        self._deliver: Deliver | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(DELIVERIES_AT_ONCE)

    def connect(self, deliver: Deliver) -> None:
        """Where events go: the service's webhook handler."""
        self._deliver = deliver

    def webhook_secret(self) -> bytes:
        return self._secret

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        """No next action: the simulator pays the deposit itself."""
        return Opened(f"sbx_{payment_id}")

    def payout_reference(self, payment_id: str) -> str:
        return f"sbx_{payment_id}"

    async def receive(self, payload: bytes, signature: str) -> Event:
        if not verify(self._secret, payload, signature):
            raise forged()
        event = Event.parse(payload)
        check_fresh(event.created, self._tolerance, event.id)
        return event

    def event(
        self,
        reference: str,
        amount: int,
        currency: str,
        type_: str = SUCCEEDED,
        *,
        event_id: str = "",
        reason: str = "",
        created: int | None = None,
    ) -> tuple[bytes, str]:
        """A signed event about a payment: (payload, signature), as the webhook takes them."""
        event = Event(
            id=event_id or f"evt_{new_id().hex}",
            type=type_,
            reference=reference,
            amount=amount,
            currency=currency,
            created=int(time.time()) if created is None else created,
            reason=reason,
        )
        payload = event.to_json()
        return payload, sign(self._secret, payload)

    async def start(self, payment: Record, behavior: str) -> None:
        if behavior == "silent":
            return
        failed = behavior == "fail"
        payload, signature = self.event(
            payment.reference,
            payment.amount,
            payment.currency,
            FAILED if failed else SUCCEEDED,
            reason="declined by the sandbox" if failed else "",
        )
        delay = self._delay if behavior == "delay" else 0.0
        copies = 2 if behavior == "duplicate" else 1
        task = asyncio.create_task(self._send(payload, signature, delay, copies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, payload: bytes, signature: str, delay: float, copies: int) -> None:
        await asyncio.sleep(delay)
        for _ in range(copies):
            await self._deliver_once(payload, signature)

    async def _deliver_once(self, payload: bytes, signature: str) -> None:
        assert self._deliver is not None, "the sandbox is not connected to a webhook"
        for attempt in range(DELIVERY_ATTEMPTS):
            async with self._slots:
                try:
                    await self._deliver(payload, signature)
                    return
                except DomainError as exc:
                    if exc.code is not grpc.StatusCode.UNAVAILABLE:
                        log.warning("sandbox event refused", error=exc.message)
                        return
                except Exception as exc:
                    if not is_outage(exc):
                        raise
            await asyncio.sleep(FIRST_RETRY_SECONDS * 2**attempt)
        log.warning("sandbox event undelivered", attempts=DELIVERY_ATTEMPTS)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
