"""A pending deposit's next action: what the customer's app does to pay it (a Stripe
client secret, a PayPal approval link, a Fawry reference's deadline), as the provider
answered when it opened the deposit. Kept with the payment so that a retry of
CreateDeposit and GetPayment answer the same one without asking the provider again;
emptied when the payment settles (the CHECK holds it to pending deposits), so a
credential of the customer's payment is not kept past its use.

The column is added without a default (no rewrite of the table) and the CHECK added NOT
VALID then validated, so writers are held only for the catalog change.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE payments ADD COLUMN next_action jsonb;
        ALTER TABLE payments ADD CONSTRAINT payments_next_action_pending_deposit
            CHECK (next_action IS NULL OR (kind = 'deposit' AND state = 'pending')) NOT VALID;
        ALTER TABLE payments VALIDATE CONSTRAINT payments_next_action_pending_deposit;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE payments DROP COLUMN next_action")
