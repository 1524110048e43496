"""Domain events: the outbox this service's changes write their events to.

Revision ID: 0003
Revises: 0002
"""

from shared.outbox import create_outbox_table, drop_outbox_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_table()


def downgrade() -> None:
    drop_outbox_table()
