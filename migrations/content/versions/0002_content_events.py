"""Domain events: the outbox this service's changes write their events to, and the ids of
the events its consumers have handled (so each has its effect once).

Revision ID: 0002
Revises: 0001
"""

from shared.outbox import create_outbox_table, drop_outbox_table
from shared.processed_events import create_processed_events_table, drop_processed_events_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_table()
    create_processed_events_table()


def downgrade() -> None:
    drop_processed_events_table()
    drop_outbox_table()
