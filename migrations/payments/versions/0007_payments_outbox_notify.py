"""Commits that record events wake the outbox relay, instead of it polling the outbox.

Revision ID: 0007
Revises: 0006
"""

from shared.outbox import create_outbox_notify, drop_outbox_notify

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_notify()


def downgrade() -> None:
    drop_outbox_notify()
