"""Erasure of a deleted account from the ledger: the one change its append-only rows
allow is emptying the columns that name a user (an entry's owner; a transfer's payer,
payee and note), every amount and balance staying as it was; and payments found by
their user, whom the erasure relabels.

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
        -- TG_ARGV names the columns that may be emptied (set to NULL or ''); any other
        -- change, or a new value in them, is refused as before.
        CREATE FUNCTION refuse_ledger_change_but_erasure() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            erasable text[] := TG_ARGV;
            old_row jsonb := to_jsonb(OLD);
            new_row jsonb := to_jsonb(NEW);
            name text;
        BEGIN
            IF (new_row - erasable) IS DISTINCT FROM (old_row - erasable) THEN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            FOREACH name IN ARRAY erasable LOOP
                IF new_row -> name IS DISTINCT FROM old_row -> name
                        AND new_row -> name NOT IN ('null'::jsonb, '""'::jsonb) THEN
                    RAISE EXCEPTION '% is append-only: % of % refused', TG_TABLE_NAME, TG_OP,
                        name USING ERRCODE = 'insufficient_privilege';
                END IF;
            END LOOP;
            RETURN NEW;
        END
        $$;

        DROP TRIGGER ledger_entries_append_only ON ledger_entries;
        CREATE TRIGGER ledger_entries_append_only BEFORE DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        CREATE TRIGGER ledger_entries_erasure_only BEFORE UPDATE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change_but_erasure('user_id');
        DROP TRIGGER transfers_append_only ON transfers;
        CREATE TRIGGER transfers_append_only BEFORE DELETE ON transfers
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        CREATE TRIGGER transfers_erasure_only BEFORE UPDATE ON transfers
            FOR EACH ROW EXECUTE FUNCTION
                refuse_ledger_change_but_erasure('payer_id', 'payee_id', 'note');

        CREATE INDEX payments_by_user ON payments (user_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX payments_by_user;
        DROP TRIGGER transfers_erasure_only ON transfers;
        DROP TRIGGER transfers_append_only ON transfers;
        CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        DROP TRIGGER ledger_entries_erasure_only ON ledger_entries;
        DROP TRIGGER ledger_entries_append_only ON ledger_entries;
        CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change();
        DROP FUNCTION refuse_ledger_change_but_erasure();
        """
    )
