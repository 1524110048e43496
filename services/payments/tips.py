"""Tips: from the caller's wallet to another user's, the platform's fee to the fees account.

The fee is `tip_fee_basis_points` of the amount rounded down (the recipient keeps a
fraction of a minor unit). The recipient's status comes from users (cached briefly);
tipping oneself, a banned or deleted user, or beyond the available balance moves
nothing. Posted with the tips that arrive with it (batches.py), in one statement and
transaction: the request_id claimed, the accounts locked in id order, the transfer
written (ledger.posting). The recipient is
checked before; if they may no longer receive money, a retry of a tip that was already
made still answers with it, and anything else is refused.
"""

from __future__ import annotations

import uuid

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, currencies, idempotency
from services.payments.deps import Deps, now, owner_key, require_user
from services.payments.ledger import Movement
from services.payments.repository import Transfer
from services.payments.wallets import Wallets
from shared.auth import Principal
from shared.errors import FailedPrecondition
from shared.ids import new_id
from shared.validation import bounded_text

NOTE_MAX = 280
BASIS_POINTS = 10_000


def fee_of(amount: int, basis_points: int) -> int:
    """The platform's part, rounded down."""
    return amount * basis_points // BASIS_POINTS


class Tips:
    def __init__(self, deps: Deps, wallets: Wallets) -> None:
        self._deps = deps
        self._wallets = wallets

    async def tip(
        self,
        principal: Principal,
        recipient: uuid.UUID,
        amount: int,
        currency: str,
        note: str,
        request_id: str,
    ) -> pb.Transaction:
        payer = require_user(principal)
        amount = currencies.amount("amount", amount)
        currency = currencies.currency("currency_code", currency)
        note = bounded_text("note", note, NOTE_MAX)
        key = idempotency.required_request_id(request_id)
        if recipient == payer:
            raise FailedPrecondition("you cannot tip yourself", reason="SELF_TIP")
        accounts = self._deps.accounts
        payer_wallet = await accounts.wallet(payer, currency)
        recipient_wallet = await accounts.wallet(recipient, currency)
        fees = await accounts.system("fees", currency)
        fee = fee_of(amount, self._deps.settings.tip_fee_basis_points)
        moment = now()
        transfer = Transfer(
            id=new_id(),
            type="tip",
            currency=currency,
            amount=amount,
            fee=fee,
            payer_id=payer,
            payee_id=recipient,
            note=note,
            created_at=moment,
        )
        claim = idempotency.key_of(
            owner_key(principal), key, "tip", (str(recipient), amount, currency, note)
        )
        try:
            await self._deps.peers.require_recipient(recipient)
        except FailedPrecondition:
            async with self._deps.db.connection() as conn:
                made = await idempotency.made_by(conn, claim)
            if made is None:
                raise
            return await self._wallets.transaction(principal, made)
        earlier = await self._deps.batches.write(
            transfer,
            [
                Movement(payer_wallet, "debit", amount),
                Movement(recipient_wallet, "credit", amount - fee),
                Movement(fees, "credit", fee),
            ],
            claim,
        )
        if earlier is not None:
            return await self._wallets.transaction(principal, earlier)
        return convert.written(transfer)
