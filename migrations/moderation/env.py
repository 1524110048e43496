"""Alembic environment of the moderation service: all logic lives in shared.migrate."""

from shared.migrate import run_alembic_env

run_alembic_env()
