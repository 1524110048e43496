"""What the payments service's logic modules share, built once per process: the database,
settings, the users peer, the providers and the ids of the ledger's accounts."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.payments import repository
from services.payments.batches import TransferBatches
from services.payments.peers import Peers
from services.payments.providers import Provider
from services.payments.providers.fawry import Fawry
from services.payments.providers.http import Http
from services.payments.providers.instapay import InstaPay
from services.payments.providers.paypal import PayPal
from services.payments.providers.sandbox import Sandbox
from services.payments.providers.stripe import Stripe
from services.payments.repository import AccountKey
from services.payments.settings import PaymentsSettings
from shared.auth import Principal, Role
from shared.db import Database
from shared.errors import PermissionDenied
from shared.server import Runtime


class AccountIds:
    """Account ids by key, opened on first use. Accounts are never removed, so an id once
    known is kept for the life of the process and a transfer pays no lookup."""

    def __init__(self, db: Database, slots: int) -> None:
        self._db = db
        self._slots = slots
        self._known: dict[AccountKey, int] = {}

    async def id(self, key: AccountKey) -> int:
        found = self._known.get(key)
        if found is None:
            async with self._db.connection() as conn:
                found = await repository.open_account(conn, key)
            self._known[key] = found
        return found

    async def wallet(self, user_id: uuid.UUID, currency: str) -> int:
        return await self.id(AccountKey("wallet", currency, user_id))

    async def system(self, kind: str, currency: str, provider: str = "") -> int:
        """One slot, at random, of a striped system account (fees, clearing, payouts)."""
        slot = random.randrange(self._slots)
        return await self.id(AccountKey(kind, currency, provider=provider, slot=slot))


@dataclass(frozen=True)
class Deps:
    db: Database
    settings: PaymentsSettings
    peers: Peers
    accounts: AccountIds
    # Tips, posted together while the database is busy (batches.py).
    batches: TransferBatches
    sandbox: Sandbox
    http: Http
    providers: dict[str, Provider] = field(default_factory=dict)

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Deps:
        settings = runtime.settings
        assert isinstance(settings, PaymentsSettings)
        users = runtime.client("users")
        sandbox = Sandbox(settings)
        http = Http(settings.provider_timeout_seconds)
        providers: dict[str, Provider] = {
            "stripe": Stripe(settings, http),
            "paypal": PayPal(settings, http),
            "fawry": Fawry(settings, http),
            "instapay": InstaPay(),
            "sandbox": sandbox,
        }
        return cls(
            runtime.db,
            settings,
            Peers(users, runtime.cache, settings.user_status_cache_seconds),
            AccountIds(runtime.db, settings.system_account_slots),
            TransferBatches(runtime.db),
            sandbox,
            http,
            providers,
        )

    async def close(self) -> None:
        await self.batches.close()
        await self.sandbox.close()
        await self.http.close()
        await self.peers.close()


def now() -> datetime:
    return datetime.now(UTC)


def require_user(principal: Principal) -> uuid.UUID:
    """The calling user: money is a user's own, services have none."""
    if principal.role is Role.SERVICE:
        raise PermissionDenied("this call is for signed-in users", reason="USER_REQUIRED")
    return principal.user_id


def owner_key(principal: Principal) -> str:
    """Whose idempotency keys a call's request_id is among."""
    return principal.subject
