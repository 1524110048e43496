"""What a deleted account's cascade needs: videos are soft-deleted like posts and
comments (a video with `deleted_at` leaves every read), and a user's live comments are
found by author.

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
        ALTER TABLE videos ADD COLUMN deleted_at timestamptz;
        CREATE INDEX comments_by_author ON comments (author_id, post_id)
            WHERE deleted_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX comments_by_author; ALTER TABLE videos DROP COLUMN deleted_at")
