"""Deposits: a PENDING payment with the provider's reference, credited when its event says
so (see events and settlement).

The provider's next step for the customer (a client secret, an approval link) is stored
with the payment, so a retry answers the same one without asking the provider again;
only the owner is shown it (convert.payment).

The provider opens the deposit inside the call's transaction, once its request_id is
claimed: a refusal or an unreachable provider rolls everything back (no key, no payment),
and a concurrent retry waits on the key instead of asking the provider twice.
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
        async with self._deps.db.transaction() as conn:
            earlier = await idempotency.claim(
                conn,
                owner_key(principal),
                key,
                "deposit",
                (amount, currency, name, behavior),
                payment_id,
                moment,
            )
            if earlier is None:
                opened = await provider.open_deposit(str(payment_id), amount, currency)
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
            row = await repository_payments.payment(conn, earlier or payment_id)
        assert row is not None
        if earlier is None:
            await provider.start(row, behavior)
        return convert.payment(row, user)
