"""Alembic driven from code, so there is no alembic.ini per service: the runner, the tests
and a deploy job all call `upgrade`, and each migrations/<name>/env.py is one call to
`run_alembic_env`.

Command line: python -m shared.migrate <service> [--url URL] [--revision REV]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from shared.service import ServiceSpec, discover

# Each service has its own database, so one constant key serializes exactly the concurrent
# migrators of one service (replicas, deploy jobs, test workers).
_MIGRATION_LOCK_KEY = 0x6461697261


def _config(migrations_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return config


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = _config(migrations_dir)
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    # The option goes through ConfigParser interpolation, and URL-escaped passwords hold '%'.
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def scripts(migrations_dir: Path) -> ScriptDirectory:
    """The revisions a service's code knows, without touching a database."""
    return ScriptDirectory.from_config(_config(migrations_dir))


def upgrade(spec: ServiceSpec, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(spec.migrations_dir, database_url), revision)


def run_alembic_env(target_metadata: MetaData | None = None) -> None:
    """Online migrations, each in its own transaction, under a session advisory lock."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set: run migrations through shared.migrate")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            connection.commit()
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    specs = {spec.name: spec for spec in discover()}
    parser = argparse.ArgumentParser(prog="python -m shared.migrate", description=__doc__)
    parser.add_argument("service", choices=sorted(specs))
    parser.add_argument("--url", help="default: $DAIRA_<SERVICE>_DATABASE_URL")
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    spec = specs[args.service]
    url = args.url or os.environ.get(f"{spec.env_prefix}DATABASE_URL")
    if not url:
        parser.error(f"give --url or set {spec.env_prefix}DATABASE_URL")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    upgrade(spec, url, args.revision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
