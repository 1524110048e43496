"""Settings of the social service (environment prefix DAIRA_SOCIAL_)."""

from shared.config import ServiceSettings


class SocialSettings(ServiceSettings):
    # Striped counters: the writes to one user's (or one target's) counts spread over
    # this many rows, summed on read, so a hot user's follows do not queue on one row.
    counter_slots: int = 8
