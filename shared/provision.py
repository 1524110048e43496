"""One database and one login role per service, so a service can reach only its own data.

Idempotent: run it on every start; it also resets the role's password to the one given.
"""

from __future__ import annotations

from contextlib import suppress

import psycopg
from psycopg import errors, sql
from sqlalchemy.engine import make_url


def provision_service_database(admin_url: str, database: str, password: str) -> str:
    """Create role and database `database` as the superuser at `admin_url`; return the
    service's own SQLAlchemy URL. The role owns its database, so its migrations can create
    tables and trusted extensions (pg_trgm) there; other roles cannot even connect."""
    admin = make_url(admin_url).set(drivername="postgresql")
    name = sql.Identifier(database)
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        # A concurrent provisioner can lose the race with a unique violation instead.
        with suppress(errors.DuplicateObject, errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(name))
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(name, sql.Literal(password)))
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, name))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(name, name))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(name))
    service = admin.set(
        drivername="postgresql+psycopg", username=database, password=password, database=database
    )
    return service.render_as_string(hide_password=False)
