"""Settings of the moderation service (environment prefix DAIRA_MODERATION_)."""

from pydantic import Field

from shared.config import ServiceSettings


class ModerationSettings(ServiceSettings):
    # How long a claim keeps a subject for one moderator.
    claim_seconds: int = Field(default=900, ge=10)
    # Reports one account may file per window.
    report_limit: int = Field(default=30, ge=1)
    report_window_seconds: int = Field(default=3600, ge=1)
    # How often the enforcer looks for effects still to make, and how many per round.
    enforce_interval_seconds: float = Field(default=2.0, gt=0)
    enforce_batch: int = Field(default=20, ge=1)
    # An attempt holds its enforcement this long; a crashed attempt is retried after it.
    enforce_lease_seconds: float = Field(default=30.0, gt=0)
    # Retries back off from the interval to this.
    enforce_backoff_max_seconds: float = Field(default=60.0, gt=0)
    # How long after a decision the user it concerns may appeal it.
    appeal_window_days: int = Field(default=20, ge=1)
