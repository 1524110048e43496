"""The ledger (accounts, transfers, append-only entries), provider payments and events,
and idempotency keys.

Users are another service's rows: plain UUID columns, no foreign keys.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Wallets (one per user and currency) and system accounts (provider clearing,
        -- platform fees, payouts), each of the latter striped over slots so that no
        -- single row is locked by every transfer. posted is credits minus debits.
        CREATE TABLE accounts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('wallet', 'clearing', 'fees', 'payouts')),
            user_id uuid,
            provider text NOT NULL DEFAULT '',
            slot smallint NOT NULL DEFAULT 0 CHECK (slot >= 0),
            currency char(3) NOT NULL,
            posted bigint NOT NULL DEFAULT 0,
            pending_debits bigint NOT NULL DEFAULT 0 CHECK (pending_debits >= 0),
            pending_credits bigint NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
            version bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((kind = 'wallet') = (user_id IS NOT NULL)),
            -- The last line of defence: a wallet never goes negative.
            CHECK (kind <> 'wallet' OR posted - pending_debits >= 0)
        );
        CREATE UNIQUE INDEX accounts_wallet ON accounts (user_id, currency)
            WHERE kind = 'wallet';
        CREATE UNIQUE INDEX accounts_system ON accounts (kind, provider, currency, slot)
            WHERE kind <> 'wallet';

        -- One movement of money. A pending transfer (withdrawal) is resolved exactly
        -- once by a post_pending or void_pending transfer naming it (unique pending_id).
        CREATE TABLE transfers (
            id uuid PRIMARY KEY,
            type text NOT NULL CHECK (type IN
                ('deposit', 'tip', 'withdrawal', 'refund', 'post_pending', 'void_pending')),
            currency char(3) NOT NULL,
            amount bigint NOT NULL CHECK (amount > 0),
            fee bigint NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
            pending boolean NOT NULL DEFAULT false,
            payer_id uuid,
            payee_id uuid,
            pending_id uuid UNIQUE REFERENCES transfers (id),
            refund_of uuid REFERENCES transfers (id),
            payment_id uuid,
            note text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL,
            CHECK ((type IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)),
            CHECK ((type = 'refund') = (refund_of IS NOT NULL))
        );
        -- The refunds of a tip, summed under the tip's lock.
        CREATE INDEX transfers_refunds ON transfers (refund_of) WHERE refund_of IS NOT NULL;

        -- Each account's side of a transfer, with its balances before and after.
        -- effect: posted (moves posted), reserved (adds to pending), committed
        -- (pending to posted), released (pending given back).
        CREATE TABLE ledger_entries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transfer_id uuid NOT NULL REFERENCES transfers (id),
            account_id bigint NOT NULL REFERENCES accounts (id),
            -- The wallet's owner (NULL for system accounts) and the transfer's type:
            -- a user's history is one index range.
            user_id uuid,
            type text NOT NULL,
            side text NOT NULL CHECK (side IN ('debit', 'credit')),
            effect text NOT NULL CHECK (effect IN ('posted', 'reserved', 'committed', 'released')),
            amount bigint NOT NULL CHECK (amount > 0),
            balance_before bigint NOT NULL,
            balance_after bigint NOT NULL,
            pending_before bigint NOT NULL,
            pending_after bigint NOT NULL,
            version bigint NOT NULL,
            created_at timestamptz NOT NULL,
            -- One entry per version of an account: no two transfers saw the same balance.
            UNIQUE (account_id, version)
        );
        -- A transfer's entries (a withdrawal's reservation, to post or void it). Hash, not
        -- btree: it serves equality only, so a user's history is never read by walking all
        -- entries in transfer order.
        CREATE INDEX ledger_entries_by_transfer ON ledger_entries USING hash (transfer_id);
        CREATE INDEX ledger_entries_history ON ledger_entries (user_id, transfer_id DESC)
            WHERE user_id IS NOT NULL AND type IN ('deposit', 'tip', 'withdrawal', 'refund');
        CREATE INDEX ledger_entries_history_by_type
            ON ledger_entries (user_id, type, transfer_id DESC)
            WHERE user_id IS NOT NULL AND type IN ('deposit', 'tip', 'withdrawal', 'refund');

        -- The ledger is append-only: a mistake is corrected by a new transfer.
        CREATE FUNCTION refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();
        CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_ledger_change();

        -- A deposit or withdrawal with a provider; its state follows the provider's events.
        CREATE TABLE payments (
            id uuid PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
            state text NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
            provider text NOT NULL,
            reference text NOT NULL,
            user_id uuid NOT NULL,
            amount bigint NOT NULL CHECK (amount > 0),
            currency char(3) NOT NULL,
            destination text NOT NULL DEFAULT '',
            failure_reason text NOT NULL DEFAULT '',
            transfer_id uuid REFERENCES transfers (id),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            UNIQUE (provider, reference)
        );
        -- What the reconciler voids once it has waited too long.
        CREATE INDEX payments_pending_withdrawals ON payments (created_at)
            WHERE state = 'pending' AND kind = 'withdrawal';

        -- Every provider event handled, by the provider's id: a redelivery is a no-op.
        CREATE TABLE provider_events (
            provider text NOT NULL,
            event_id text NOT NULL,
            digest text NOT NULL,
            payment_id uuid NOT NULL REFERENCES payments (id),
            received_at timestamptz NOT NULL,
            PRIMARY KEY (provider, event_id)
        );

        -- The request_id of every call that moved money, with what it made.
        CREATE TABLE idempotency_keys (
            owner text NOT NULL,
            request_id text NOT NULL,
            operation text NOT NULL,
            digest text NOT NULL,
            result_id uuid,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (owner, request_id)
        );
        CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE idempotency_keys, provider_events, payments, ledger_entries, transfers,
            accounts;
        DROP FUNCTION refuse_ledger_change();
        """
    )
