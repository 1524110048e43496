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

from daira.events.v1 import events_pb2
from daira.users.v1 import users_events_pb2
from services.payments import repository, repository_payments
from shared.eventing import Subscription, payload
from shared.ids import parse_id
from shared.streams import USERS_ACCOUNTS

GROUP = "payments.cascade"


async def on_account(conn: AsyncConnection, event: events_pb2.Event) -> None:
    if event.type != "users.user.deleted":
        return
    user_id = parse_id("user_id", payload(event, users_events_pb2.UserDeleted).user_id)
    pseudonym = uuid.uuid4()
    await repository.erase_owner(conn, user_id, pseudonym)
    await repository_payments.relabel_payments(conn, user_id, pseudonym)
    await repository_payments.forget_keys_of(conn, str(user_id))


SUBSCRIPTIONS = [Subscription(USERS_ACCOUNTS, GROUP, on_account)]
