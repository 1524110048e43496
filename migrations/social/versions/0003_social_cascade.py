"""The ways into a user's rows that only a deleted account's cascade takes: blocks and
mutes of them, their reactions, and the notifications they caused. Without these the
cascade would scan each table whole, once per batch.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX blocks_by_blocked ON blocks (blocked_id);
        CREATE INDEX mutes_by_muted ON mutes (muted_id);
        CREATE INDEX reactions_by_user ON reactions (user_id);
        CREATE INDEX notifications_by_actor ON notifications (actor_id);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP INDEX blocks_by_blocked, mutes_by_muted, reactions_by_user, notifications_by_actor"
    )
