"""Settings of the users service (environment prefix DAIRA_USERS_)."""

from shared.config import ServiceSettings


class UsersSettings(ServiceSettings):
    refresh_token_ttl_days: int = 30
    # Failed logins allowed per login name in one window before RESOURCE_EXHAUSTED.
    login_failure_limit: int = 10
    login_failure_window_seconds: int = 900
    # argon2id cost (RFC 9106 second recommended option by default).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
