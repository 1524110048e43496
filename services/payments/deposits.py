"""Deposits: a PENDING payment with the provider's reference, credited when its event says
so (see events and settlement).

The provider's next step for the customer (a client secret, an approval link) is stored
with the payment, so a retry answers the same one without asking the provider again;
only the owner is shown it (convert.payment).

The provider opens the deposit before the call's transaction, with no database
connection held while it answers (up to its timeout: a slow provider must not take the
pool from every other call); a refusal or an unreachable provider leaves nothing (no key,
no payment). A retry whose request_id is already claimed is answered without asking the
provider; two identical calls at the same instant may both open one at the provider,
and the one whose claim loses is never stored or shown, so nobody can pay it.
"""

from __future__ import annotations

from dataclasses import asdict

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, currencies, idempotency, repository_payments
from services.payments.deps import Deps, now, owner_key, require_user
from shared.auth import Principal
from shared.ids import new_id


class Deposits:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def create(
        self,
        principal: Principal,
        amount: int,
        currency: str,
        provider_value: int,
        request_id: str,
        behavior_value: int,
    ) -> pb.Payment:
        user = require_user(principal)
        amount = currencies.amount("amount", amount)
        currency = currencies.currency("currency_code", currency)
        name = convert.provider("provider", provider_value)
        behavior = convert.behavior("sandbox_behavior", behavior_value)
        key = idempotency.required_request_id(request_id)
        provider = self._deps.providers[name]
        payment_id = new_id()
        moment = now()
        owner, params = owner_key(principal), (amount, currency, name, behavior)
        async with self._deps.db.connection() as conn:
            earlier = await idempotency.answered(
                conn, idempotency.key_of(owner, key, "deposit", params)
            )
        if earlier is None:
            # No connection is held while the provider answers (it may take seconds).
            opened = await provider.open_deposit(str(payment_id), amount, currency)
            async with self._deps.db.transaction() as conn:
                earlier = await idempotency.claim(
                    conn, owner, key, "deposit", params, payment_id, moment
                )
                if earlier is None:
                    await repository_payments.insert_payment(
                        conn,
                        id=payment_id,
                        kind="deposit",
                        state="pending",
                        provider=name,
                        reference=opened.reference,
                        user_id=user,
                        amount=amount,
                        currency=currency,
                        destination="",
                        failure_reason="",
                        created_at=moment,
                        updated_at=moment,
                        next_action=asdict(opened.action) if opened.action else None,
                    )
        async with self._deps.db.connection() as conn:
            row = await repository_payments.payment(conn, earlier or payment_id)
        assert row is not None
        if earlier is None:
            await provider.start(row, behavior)
        return convert.payment(row, user)
