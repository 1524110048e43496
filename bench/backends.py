"""PostgreSQL and Redis for the bench: the servers named in the environment, or embedded ones.

DAIRA_DATABASE_URL (a superuser URL) and DAIRA_REDIS_URL, when both are set, point the
bench at existing servers; otherwise non-durable embedded servers start in `workdir`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from shared.embedded import EmbeddedPostgres, EmbeddedRedis


@contextmanager
def backends(workdir: Path) -> Iterator[tuple[str, str]]:
    """(superuser PostgreSQL URL, Redis URL), stopped again on exit if we started them."""
    database_url = os.environ.get("DAIRA_DATABASE_URL")
    redis_url = os.environ.get("DAIRA_REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    with ExitStack() as stack:
        postgres = stack.enter_context(EmbeddedPostgres(workdir / "postgres", durable=False))
        redis = stack.enter_context(EmbeddedRedis(workdir / "redis", durable=False))
        yield postgres.url, redis.url
