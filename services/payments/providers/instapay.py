"""INSTAPAY (Egypt's instant payment network) refuses every payment and event.

InstaPay offers no public merchant API: there is nothing to start a payment with or to
verify a notification against, so no setting can enable it. It is listed so that a
request naming it is answered plainly rather than as an unknown provider.
"""

from __future__ import annotations

from services.payments.providers import Event, Opened
from services.payments.repository import Record
from shared.errors import FailedPrecondition


def _refusal() -> FailedPrecondition:
    return FailedPrecondition(
        "the provider INSTAPAY is not configured and cannot be: InstaPay has no public "
        "merchant API to start or verify payments with (no DAIRA_PAYMENTS_ setting enables it)",
        reason="PROVIDER_NOT_CONFIGURED",
        metadata={"provider": "INSTAPAY"},
    )


class InstaPay:
    name = "instapay"

    async def open_deposit(self, payment_id: str, amount: int, currency: str) -> Opened:
        raise _refusal()

    def payout_reference(self, payment_id: str) -> str:
        raise _refusal()

    async def start(self, payment: Record, behavior: str) -> None:
        raise AssertionError("nothing is stored for INSTAPAY")

    async def receive(self, payload: bytes, signature: str) -> Event:
        raise _refusal()
