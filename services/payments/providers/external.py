"""The real provider not yet adapted (Fawry): what each needs from the settings.

Starting a payment with one needs a call to its API, which this module does not make: a
provider is refused with FAILED_PRECONDITION naming the settings it lacks, and even when
configured its payments cannot be started here.
"""

from __future__ import annotations

from services.payments.providers import Event
from services.payments.providers.credentials import Credentials
from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.errors import FailedPrecondition

# provider: the settings it cannot work without (the webhook secret last).
REQUIRED = {
    "fawry": ("fawry_merchant_code", "fawry_security_key", "fawry_webhook_secret"),
}


class ExternalProvider:
    def __init__(self, name: str, settings: PaymentsSettings) -> None:
        self.name = name
        self._credentials = Credentials(name, settings)

    def _refuse(self) -> FailedPrecondition:
        self._credentials.require(*REQUIRED[self.name])
        return FailedPrecondition(
            f"payments through {self.name.upper()} need its API, which this service does not call",
            reason="PROVIDER_UNAVAILABLE",
            metadata={"provider": self.name.upper()},
        )

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> str:
        raise self._refuse()

    def payout_reference(self, payment_id: str) -> str:
        raise self._refuse()

    async def start(self, payment: Record, behavior: str) -> None:
        raise AssertionError("nothing is stored for a provider that refuses")

    async def receive(self, payload: bytes, signature: str) -> Event:
        raise self._refuse()
