"""post_transfers(): many transfers posted in one round trip and one transaction, each
as post_transfer() would post it alone.

Every account the batch names is locked first, in id order, so a batch takes its locks
in the same global order as any single transfer and no interleaving deadlocks; a hot
account is then locked once for the whole batch instead of once per transfer, with its
waiters queued behind one transaction rather than each waking on every commit.

Each transfer runs in a subtransaction of its own: one that would take a wallet below
zero is refused alone ('insufficient') and the others still post, each seeing the ones
before it (two tips from one wallet in a batch are checked one after the other). Any
other error fails the whole batch, which the service then posts one transfer at a time.
A batch stays under 64 transfers, PostgreSQL's cache of subtransactions per transaction.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION post_transfers(p_items jsonb)
        RETURNS TABLE (outcome text, result_id uuid) LANGUAGE plpgsql AS $$
        DECLARE
            item jsonb;
            posted record;
            violated text;
        BEGIN
            -- = ANY (ARRAY(…)), not IN (…): an IN here plans as a merge join walking
            -- the primary key from its first id up to the batch's highest.
            PERFORM 1 FROM accounts
            WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text(i -> 'accounts')::bigint
                                  FROM jsonb_array_elements(p_items) AS i))
            ORDER BY id FOR UPDATE;
            FOR item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
                BEGIN
                    SELECT p.outcome, p.result_id INTO posted FROM post_transfer(
                        item ->> 'owner', item ->> 'request_id', item ->> 'operation',
                        item ->> 'digest', (item ->> 'id')::uuid, item ->> 'type',
                        item ->> 'currency', (item ->> 'amount')::bigint,
                        (item ->> 'fee')::bigint, (item ->> 'pending')::boolean,
                        (item ->> 'payer_id')::uuid, (item ->> 'payee_id')::uuid,
                        (item ->> 'pending_id')::uuid, (item ->> 'refund_of')::uuid,
                        (item ->> 'payment_id')::uuid, item ->> 'note',
                        (item ->> 'created_at')::timestamptz, item ->> 'effect',
                        ARRAY(SELECT jsonb_array_elements_text(item -> 'accounts')::bigint),
                        ARRAY(SELECT jsonb_array_elements_text(item -> 'sides')),
                        ARRAY(SELECT jsonb_array_elements_text(item -> 'amounts')::bigint)
                    ) AS p;
                    outcome := posted.outcome;
                    result_id := posted.result_id;
                EXCEPTION WHEN check_violation THEN
                    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
                    IF violated <> 'wallet_not_negative' THEN
                        RAISE;
                    END IF;
                    outcome := 'insufficient';
                    result_id := NULL;
                END;
                RETURN NEXT;
            END LOOP;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION post_transfers")
