"""The posts that mention a user, found by the user: a deleted account's cascade takes
it out of them.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX post_mentions_by_user ON post_mentions (user_id)")


def downgrade() -> None:
    op.execute("DROP INDEX post_mentions_by_user")
