"""Settings of the payments service (environment prefix DAIRA_PAYMENTS_)."""

from pydantic import Field, SecretStr

from shared.config import ServiceSettings


class PaymentsSettings(ServiceSettings):
    # The platform's part of a tip, in basis points (1/100 of a percent), rounded down:
    # a fraction of a minor unit stays with the recipient.
    tip_fee_basis_points: int = Field(default=500, ge=0, le=10_000)
    # System accounts are striped over this many rows per currency, so transfers do
    # not all wait on one fees (or clearing, or payouts) row.
    system_account_slots: int = Field(default=8, ge=1, le=64)
    # A withdrawal still pending after this long is voided: the money goes back.
    withdrawal_timeout_seconds: float = Field(default=900.0, gt=0)
    reconcile_interval_seconds: float = Field(default=30.0, gt=0)
    # Idempotency keys live at least a day.
    idempotency_retention_seconds: int = Field(default=48 * 3600, ge=24 * 3600)
    # A provider event signed longer ago than this is refused (a replay).
    webhook_tolerance_seconds: int = Field(default=300, gt=0)
    # How long a recipient's account status (banned, deleted) is believed.
    user_status_cache_seconds: int = Field(default=30, ge=1)

    # The sandbox simulator: its signing secret and the wait of SANDBOX_BEHAVIOR_DELAY.
    sandbox_webhook_secret: SecretStr = SecretStr("sandbox-webhook-secret-for-development")
    sandbox_delay_seconds: float = Field(default=2.0, ge=0)

    # Real providers: each is usable only with every credential it needs. Their API base
    # URLs default to production; every call to one waits at most the timeout.
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_url: str = "https://api.stripe.com"
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_webhook_id: str | None = None
    paypal_api_url: str = "https://api-m.paypal.com"
    fawry_merchant_code: str | None = None
    fawry_security_key: SecretStr | None = None
    fawry_api_url: str = "https://www.atfawry.com"
