"""Withdrawals: money reserved (pending) at once, posted or voided by the provider's event,
and voided by the reconciler when the provider has been silent too long.

The withdrawal is sent to the provider once it is stored, so no wallet row stays locked
while the provider answers; one the provider refuses or cannot be reached for is voided
at once (the money is back) and the call answers why. One whose answer was lost (a
timeout once it was sent) stays pending, as the provider may have paid it: its event
settles it, or the reconciler voids it past the timeout.

The reconciler also forgets idempotency keys past their retention. It runs in the
servicer's process from start to stop (api.py's on_stop cancels it).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, currencies, idempotency, ledger, repository_payments
from services.payments.deps import Deps, now, owner_key, require_user
from services.payments.ledger import Movement
from services.payments.providers import REASON_MAX
from services.payments.providers.http import NO_ANSWER
from services.payments.repository import Transfer
from services.payments.settlement import settle
from services.payments.wallets import Wallets
from shared.auth import Principal
from shared.errors import DomainError
from shared.ids import new_id
from shared.logs import get_logger
from shared.validation import required_text

log = get_logger("daira.payments.withdrawals")

DESTINATION_MAX = 200
VOIDS_PER_ROUND = 100
TIMED_OUT = "the provider did not confirm in time"


class Withdrawals:
    def __init__(self, deps: Deps, wallets: Wallets) -> None:
        self._deps = deps
        self._wallets = wallets

    async def create(
        self,
        principal: Principal,
        amount: int,
        currency: str,
        provider_value: int,
        destination: str,
        request_id: str,
        behavior_value: int,
    ) -> tuple[pb.Payment, pb.Transaction]:
        user = require_user(principal)
        amount = currencies.amount("amount", amount)
        currency = currencies.currency("currency_code", currency)
        name = convert.provider("provider", provider_value)
        destination = required_text("destination", destination, DESTINATION_MAX)
        behavior = convert.behavior("sandbox_behavior", behavior_value)
        key = idempotency.required_request_id(request_id)
        provider = self._deps.providers[name]
        wallet = await self._deps.accounts.wallet(user, currency)
        payouts = await self._deps.accounts.system("payouts", currency)
        payment_id = new_id()
        moment = now()
        reservation = Transfer(
            id=new_id(),
            type="withdrawal",
            currency=currency,
            amount=amount,
            pending=True,
            payer_id=user,
            payment_id=payment_id,
            created_at=moment,
        )
        async with self._deps.db.transaction() as conn:
            earlier = await idempotency.claim(
                conn,
                owner_key(principal),
                key,
                "withdrawal",
                (amount, currency, name, destination, behavior),
                payment_id,
                moment,
            )
            if earlier is None:
                reference = provider.payout_reference(str(payment_id))
                await ledger.write(
                    conn,
                    reservation,
                    [Movement(wallet, "debit", amount), Movement(payouts, "credit", amount)],
                )
                await repository_payments.insert_payment(
                    conn,
                    id=payment_id,
                    kind="withdrawal",
                    state="pending",
                    provider=name,
                    reference=reference,
                    user_id=user,
                    amount=amount,
                    currency=currency,
                    destination=destination,
                    failure_reason="",
                    transfer_id=reservation.id,
                    created_at=moment,
                    updated_at=moment,
                )
            row = await repository_payments.payment(conn, earlier or payment_id)
        assert row is not None
        if earlier is not None:
            return convert.payment(row), await self._wallets.transaction(principal, row.transfer_id)
        try:
            await provider.start(row, behavior)
        except DomainError as exc:
            if exc.reason != NO_ANSWER:
                await self._void(row.id, exc.message[:REASON_MAX], now())
            raise
        return convert.payment(row), convert.written(reservation)

    async def _void(self, payment_id: uuid.UUID, reason: str, moment: datetime) -> bool:
        """Void a still-pending withdrawal; False when it was settled meanwhile."""
        async with self._deps.db.transaction() as conn:
            payment = await repository_payments.lock_pending_payment(conn, payment_id)
            if payment is None:
                return False  # settled meanwhile, or being settled by its event
            await settle(conn, self._deps, payment, False, reason, moment)
            return True

    async def void_expired(self, moment: datetime) -> int:
        """Void the withdrawals pending since before the timeout; how many were voided."""
        before = moment - timedelta(seconds=self._deps.settings.withdrawal_timeout_seconds)
        async with self._deps.db.connection() as conn:
            expired = await repository_payments.expired_withdrawals(conn, before, VOIDS_PER_ROUND)
        voided = 0
        for payment_id in expired:
            voided += await self._void(payment_id, TIMED_OUT, moment)
        return voided

    async def reconcile(self) -> None:
        moment = now()
        voided = await self.void_expired(moment)
        if voided:
            log.info("voided withdrawals the provider left pending", count=voided)
        retention = timedelta(seconds=self._deps.settings.idempotency_retention_seconds)
        async with self._deps.db.transaction() as conn:
            await repository_payments.forget_keys(conn, moment - retention)

    async def run_reconciler(self) -> None:
        """Reconcile at start and then every interval, until cancelled."""
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("payments reconciliation failed; will try again")
            await asyncio.sleep(self._deps.settings.reconcile_interval_seconds)
