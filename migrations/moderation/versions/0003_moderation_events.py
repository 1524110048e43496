"""Domain events: the ids of the events moderation's consumers have handled (the other
services' admin actions entered in the audit log), so each has its effect once.

Revision ID: 0003
Revises: 0002
"""

from shared.processed_events import create_processed_events_table, drop_processed_events_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_processed_events_table()


def downgrade() -> None:
    drop_processed_events_table()
