"""post_transfer(): a transfer posted in one round trip, its idempotency key claimed first.

The ledger's own rules stay where they were (balanced movements, one entry per account,
checked by the service before the call); the function takes the locks in the fixed
order and computes every balance from the locked rows, so the accounts are held only
while the database runs it. The wallet rule is named, for the service to recognise.

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
        ALTER TABLE accounts DROP CONSTRAINT accounts_check1,
            ADD CONSTRAINT wallet_not_negative
                CHECK (kind <> 'wallet' OR posted - pending_debits >= 0);

        -- outcome: posted (now), duplicate (the key's earlier call made result_id) or
        -- reused (the key was claimed by a call with other parameters).
        CREATE FUNCTION post_transfer(
            p_owner text, p_request_id text, p_operation text, p_digest text,
            p_id uuid, p_type text, p_currency text, p_amount bigint, p_fee bigint,
            p_pending boolean, p_payer_id uuid, p_payee_id uuid, p_pending_id uuid,
            p_refund_of uuid, p_payment_id uuid, p_note text, p_created_at timestamptz,
            p_effect text, p_accounts bigint[], p_sides text[], p_amounts bigint[]
        ) RETURNS TABLE (outcome text, result_id uuid) LANGUAGE plpgsql AS $$
        DECLARE
            earlier record;
            moved integer;
        BEGIN
            IF p_owner IS NOT NULL THEN
                INSERT INTO idempotency_keys (owner, request_id, operation, digest, result_id,
                                              created_at)
                VALUES (p_owner, p_request_id, p_operation, p_digest, p_id, p_created_at)
                ON CONFLICT DO NOTHING;
                IF NOT FOUND THEN
                    SELECT k.operation, k.digest, k.result_id INTO earlier
                    FROM idempotency_keys AS k
                    WHERE k.owner = p_owner AND k.request_id = p_request_id;
                    IF earlier.operation = p_operation AND earlier.digest = p_digest THEN
                        RETURN QUERY SELECT 'duplicate'::text, earlier.result_id;
                    ELSE
                        RETURN QUERY SELECT 'reused'::text, NULL::uuid;
                    END IF;
                    RETURN;
                END IF;
            END IF;
            -- Every writer locks its accounts in id order: no interleaving deadlocks.
            PERFORM 1 FROM accounts WHERE id = ANY (p_accounts) ORDER BY id FOR UPDATE;
            INSERT INTO transfers (id, type, currency, amount, fee, pending, payer_id, payee_id,
                                   pending_id, refund_of, payment_id, note, created_at)
            VALUES (p_id, p_type, p_currency, p_amount, p_fee, p_pending, p_payer_id,
                    p_payee_id, p_pending_id, p_refund_of, p_payment_id, p_note, p_created_at);
            WITH m AS (
                SELECT * FROM unnest(p_accounts, p_sides, p_amounts)
                    AS m (account_id, side, amount)
            ), changes AS (
                SELECT a.id, a.user_id, m.side, m.amount, a.posted, a.version,
                       CASE m.side WHEN 'debit' THEN a.pending_debits ELSE a.pending_credits END
                           AS pending,
                       a.posted + CASE WHEN p_effect IN ('posted', 'committed')
                           THEN CASE m.side WHEN 'debit' THEN -m.amount ELSE m.amount END
                           ELSE 0 END AS new_posted,
                       CASE p_effect WHEN 'reserved' THEN m.amount WHEN 'posted' THEN 0
                           ELSE -m.amount END AS held
                FROM accounts AS a JOIN m ON m.account_id = a.id
                WHERE a.currency = p_currency
            ), entries AS (
                INSERT INTO ledger_entries (transfer_id, account_id, user_id, type, side, effect,
                                            amount, balance_before, balance_after,
                                            pending_before, pending_after, version, created_at)
                SELECT p_id, id, user_id, p_type, side, p_effect, amount, posted, new_posted,
                       pending, pending + held, version + 1, p_created_at
                FROM changes
            )
            UPDATE accounts AS a
            SET posted = c.new_posted,
                pending_debits = a.pending_debits + CASE c.side WHEN 'debit' THEN c.held ELSE 0 END,
                pending_credits = a.pending_credits
                    + CASE c.side WHEN 'credit' THEN c.held ELSE 0 END,
                version = a.version + 1
            FROM changes AS c
            WHERE a.id = c.id;
            GET DIAGNOSTICS moved = ROW_COUNT;
            IF moved <> cardinality(p_accounts) THEN
                RAISE EXCEPTION 'transfer % names accounts that are missing or not in %',
                    p_id, p_currency;
            END IF;
            RETURN QUERY SELECT 'posted'::text, p_id;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION post_transfer;
        ALTER TABLE accounts DROP CONSTRAINT wallet_not_negative,
            ADD CONSTRAINT accounts_check1
                CHECK (kind <> 'wallet' OR posted - pending_debits >= 0);
        """
    )
