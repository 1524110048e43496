"""The settings a real provider cannot work without, and the refusal naming those missing."""

from __future__ import annotations

from pydantic import SecretStr

from services.payments.settings import PaymentsSettings
from shared.errors import FailedPrecondition


class Credentials:
    def __init__(self, provider: str, settings: PaymentsSettings) -> None:
        self._provider = provider
        self._settings = settings

    def require(self, *names: str) -> list[str]:
        """The values of the named settings, in order; FAILED_PRECONDITION naming every
        one that is not set."""
        missing = [n for n in names if not getattr(self._settings, n)]
        if missing:
            listed = ", ".join(f"DAIRA_PAYMENTS_{n.upper()}" for n in missing)
            raise FailedPrecondition(
                f"the provider {self._provider.upper()} is not configured: set {listed}",
                reason="PROVIDER_NOT_CONFIGURED",
                metadata={"provider": self._provider.upper()},
            )
        values = [getattr(self._settings, n) for n in names]
        return [v.get_secret_value() if isinstance(v, SecretStr) else str(v) for v in values]


def no_payouts(provider: str, why: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"withdrawals through {provider.upper()} are not possible: {why}",
        reason="PROVIDER_NO_PAYOUTS",
        metadata={"provider": provider.upper()},
    )
