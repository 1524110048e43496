"""A deleted account's cascade: each column that names a user can be found by it (claims
by subjects_claims, which holds only the claimed subjects), and the pseudonym that
replaces the account is kept only while its cascade runs.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- One row while a deleted account's cascade runs, so that every batch (and a
        -- re-delivery resuming it) relabels with one pseudonym; deleted in the transaction
        -- that records the event as handled, after which nothing links the two.
        CREATE TABLE erasures (
            user_id uuid PRIMARY KEY,
            pseudonym uuid NOT NULL,
            started_at timestamptz NOT NULL
        );
        CREATE INDEX subjects_by_owner ON subjects (owner_id);
        CREATE INDEX notes_by_author ON notes (author_id);
        -- Also a user's decisions, newest first.
        CREATE INDEX decisions_by_owner ON decisions (owner_id, created_at, id);
        CREATE INDEX decisions_by_moderator ON decisions (moderator_id);
        CREATE INDEX enforcements_by_actor ON enforcements (actor_id);
        CREATE INDEX appeals_by_resolver ON appeals (resolver_id) WHERE resolver_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX subjects_by_owner, notes_by_author,
            decisions_by_owner, decisions_by_moderator, enforcements_by_actor,
            appeals_by_resolver;
        DROP TABLE erasures;
        """
    )
