"""The embedded servers, database provisioning and the migration runner, against real servers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql

from shared.embedded import EmbeddedPostgres, EmbeddedRedis
from shared.migrate import upgrade
from shared.provision import provision_service_database
from shared.service import ROOT, ServiceSpec


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_postgres_restart_keeps_data(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", durable=False)
    with server, psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    server.stop()
    with server, psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("still here",)]
        assert conn.execute("SHOW max_connections").fetchone() == ("500",)


def test_postgres_left_running_by_a_killed_parent_is_replaced(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from shared.embedded import EmbeddedPostgres
        server = EmbeddedPostgres(Path({str(data_dir)!r}), durable=False)
        server.start()
        print(server.url, flush=True)
        time.sleep(120)
    """)
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        orphan_url = parent.stdout.readline().strip()
        parent.kill()
    with psycopg.connect(orphan_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (value int)")

    with EmbeddedPostgres(data_dir, durable=False) as server, psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(orphan_url, connect_timeout=2)


@pytest.mark.parametrize("durable", [True, False])
def test_redis_restart_keeps_data_only_when_durable(tmp_path: Path, durable: bool) -> None:
    server = EmbeddedRedis(tmp_path / "redis", durable=durable)
    with server, redis.Redis.from_url(server.url) as client:
        client.set("key", "value")
    with server, redis.Redis.from_url(server.url) as client:
        assert client.get("key") == (b"value" if durable else None)


@pytest.fixture
def database_names(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """Unique database names, dropped with their roles afterwards (the server may be shared)."""
    names: list[str] = []

    def new() -> str:
        names.append(f"daira_test_{uuid.uuid4().hex[:10]}")
        return names[-1]

    yield new
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_provision_is_idempotent_and_isolates_services(
    pg_admin_url: str, database_names: Callable[[], str]
) -> None:
    first, second = database_names(), database_names()
    first_url = provision_service_database(pg_admin_url, first, "first-password")
    assert provision_service_database(pg_admin_url, first, "first-password") == first_url
    second_url = provision_service_database(pg_admin_url, second, "second-password")
    assert first_url.startswith(f"postgresql+psycopg://{first}:first-password@")

    with psycopg.connect(libpq(first_url), autocommit=True) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (first, first)
        # The owner can create trusted extensions in its own database.
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        assert conn.execute("SELECT similarity('daira', 'dairas') > 0.5").fetchone() == (True,)

    intruder = libpq(first_url).rsplit("/", 1)[0] + f"/{second}"
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(intruder)
    with psycopg.connect(libpq(second_url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (second,)


@dataclass(frozen=True)
class ThrowawaySpec(ServiceSpec):
    directory: Path = Path()

    @property
    def migrations_dir(self) -> Path:
        return self.directory


MIGRATION = """
from alembic import op

revision = "t0001"
down_revision = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE TABLE thing (name text NOT NULL)")
    op.execute("CREATE INDEX thing_name_trgm ON thing USING gin (name gin_trgm_ops)")
    op.execute("INSERT INTO thing VALUES ('once')")
"""


def test_upgrade_applies_each_migration_once(
    pg_admin_url: str, database_names: Callable[[], str], tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(
        ROOT / "migrations" / "users", migrations, ignore=shutil.ignore_patterns("versions")
    )
    (migrations / "versions").mkdir()
    (migrations / "versions" / "t0001_thing.py").write_text(MIGRATION)
    spec = ThrowawaySpec("throwaway", 1, 2, "daira.test.v1.Nothing", directory=migrations)
    url = provision_service_database(pg_admin_url, database_names(), "password")

    upgrade(spec, url)
    upgrade(spec, url)

    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute("SELECT name FROM thing").fetchall() == [("once",)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("t0001",)]
