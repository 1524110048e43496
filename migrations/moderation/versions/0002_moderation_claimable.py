"""Claim-next finds a subject to claim in constant time however many are claimed: the
unclaimed in due order, and lapsed claims by their expiry, each on a partial index.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX subjects_unclaimed ON subjects (state, due_at, id)
            WHERE claimed_by IS NULL;
        CREATE INDEX subjects_claims ON subjects (state, claim_expires_at)
            WHERE claimed_by IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX subjects_unclaimed, subjects_claims")
