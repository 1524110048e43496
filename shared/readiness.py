"""Is a service ready to answer: does its database answer, and is its schema migrated?

The server asks every `readiness_interval_seconds` and sets its gRPC health to match, so
load balancers and orchestrators stop sending calls while PostgreSQL is away or the
migration job has not run yet, and send them again once it is back.

"Migrated" means the database is at the head this code knows, or at a revision this code
does not know: one a newer release applied during a rolling upgrade (its migrations keep
the previous release working), which must not take the old replicas out of service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from shared.db import Database
from shared.migrate import scripts

# A probe that takes longer than this counts as the database not answering.
PROBE_TIMEOUT_SECONDS = 2.0


class Readiness:
    def __init__(self, db: Database, migrations_dir: Path) -> None:
        script = scripts(migrations_dir)
        self._db = db
        self._heads = frozenset(script.get_heads())
        self._known = frozenset(revision.revision for revision in script.walk_revisions())

    async def problem(self) -> str | None:
        """Why the service is not ready, or None when it is."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                revisions = await self._revisions()
        except ProgrammingError:
            return "no migration has been applied"
        except Exception as exc:
            return f"the database does not answer: {exc or type(exc).__name__}"
        behind = revisions & (self._known - self._heads)
        if not revisions or behind:
            return f"migrations behind: at {sorted(revisions)}, head {sorted(self._heads)}"
        return None

    async def _revisions(self) -> frozenset[str]:
        async with self._db.connection() as conn:
            result = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(result.scalars())
