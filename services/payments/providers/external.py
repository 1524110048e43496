"""The real providers (Stripe, PayPal, Fawry, InstaPay): what each needs from the settings.

Their webhooks are verified with the webhook secret configured for each. Starting a
payment with one needs a call to the provider's API, which this service does not make
(it makes no network calls): a provider is refused with FAILED_PRECONDITION naming the
settings it lacks, and even when configured its payments cannot be started here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from services.payments.repository import Record
from services.payments.settings import PaymentsSettings
from shared.errors import FailedPrecondition

# provider: the settings it cannot work without (the webhook secret last).
REQUIRED = {
    "stripe": ("stripe_api_key", "stripe_webhook_secret"),
    "paypal": ("paypal_client_id", "paypal_client_secret", "paypal_webhook_secret"),
    "fawry": ("fawry_merchant_code", "fawry_security_key", "fawry_webhook_secret"),
    "instapay": ("instapay_merchant_id", "instapay_api_key", "instapay_webhook_secret"),
}


@dataclass(frozen=True)
class ExternalProvider:
    name: str
    settings: PaymentsSettings

    def _missing(self, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if not getattr(self.settings, n)]

    def _refuse(self, missing: list[str]) -> FailedPrecondition:
        names = ", ".join(f"DAIRA_PAYMENTS_{n.upper()}" for n in missing)
        return FailedPrecondition(
            f"the provider {self.name.upper()} is not configured: set {names}",
            reason="PROVIDER_NOT_CONFIGURED",
            metadata={"provider": self.name.upper()},
        )

    def webhook_secret(self) -> bytes:
        setting = REQUIRED[self.name][-1]
        missing = self._missing((setting,))
        if missing:
            raise self._refuse(missing)
        secret = getattr(self.settings, setting)
        assert isinstance(secret, SecretStr)
        return secret.get_secret_value().encode()

    def reference(self, payment_id: str) -> str:
        missing = self._missing(REQUIRED[self.name])
        if missing:
            raise self._refuse(missing)
        raise FailedPrecondition(
            f"payments through {self.name.upper()} need its API, which this service does not call",
            reason="PROVIDER_UNAVAILABLE",
            metadata={"provider": self.name.upper()},
        )

    def start(self, payment: Record, behavior: str) -> None:
        raise AssertionError("reference() refuses before a payment is made")
