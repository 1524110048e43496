"""A deleted account in the ledger: every entry and transfer stays, so money is neither
made nor lost and every other wallet's history still adds up, but the account's id
leaves them and its wallets and payments are relabelled with a pseudonym no caller
holds. Nobody can then read them through GetWallet, ListTransactions, GetTransaction or
GetEarnings by the deleted id, and its counterparties see their transactions with it
with an empty payer or payee. Its idempotency keys go (only its own retries used them).

The balance left in its wallets stays there. A pending withdrawal still ends as its
provider says (the payout may already be on its way; a failure or the reconciler's
timeout gives the money back to the relabelled wallet), and a pending deposit that
succeeds later is credited to the relabelled wallet: the provider did take the money.

All of it is one transaction, the consumer's: it touches only this account's rows.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.payments import repository, repository_payments
from shared.eventing import on_user_deleted

GROUP = "payments.cascade"


async def erase(conn: AsyncConnection, user_id: uuid.UUID, _: object) -> None:
    pseudonym = uuid.uuid4()
    await repository.erase_owner(conn, user_id, pseudonym)
    await repository_payments.relabel_payments(conn, user_id, pseudonym)
    await repository_payments.forget_keys_of(conn, str(user_id))


SUBSCRIPTIONS = [on_user_deleted(GROUP, erase)]
