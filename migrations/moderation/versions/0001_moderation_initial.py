"""Subjects and their reports, notes, decisions and the enforcements that carry them to
the owning services, appeals, and the append-only, hash-chained audit log.

Users, posts, comments and videos are other services' rows: plain UUID columns, no
foreign keys.

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
        -- One per reported post, comment, video or user, aggregating its open reports.
        -- A decision closes it; a new report opens it again. due_at is the queue's order:
        -- the first report's time brought forward by severity and distinct reporters.
        CREATE TABLE subjects (
            id uuid PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('post', 'comment', 'video', 'user')),
            target_id uuid NOT NULL,
            owner_id uuid NOT NULL,
            state text NOT NULL CHECK (state IN ('open', 'escalated', 'closed')),
            reason text NOT NULL,
            severity smallint NOT NULL CHECK (severity BETWEEN 1 AND 4),
            reporter_count integer NOT NULL CHECK (reporter_count >= 0),
            first_reported_at timestamptz NOT NULL,
            last_reported_at timestamptz NOT NULL,
            due_at timestamptz NOT NULL,
            claimed_by uuid,
            claim_expires_at timestamptz,
            decision_id uuid,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            CONSTRAINT subjects_target UNIQUE (kind, target_id)
        );
        CREATE INDEX subjects_queue ON subjects (state, due_at, id);
        CREATE INDEX subjects_queue_by_kind ON subjects (state, kind, due_at, id);
        CREATE INDEX subjects_queue_by_reason ON subjects (state, reason, due_at, id);

        CREATE TABLE reports (
            id uuid PRIMARY KEY,
            subject_id uuid NOT NULL REFERENCES subjects (id),
            reporter_id uuid NOT NULL,
            reason text NOT NULL CHECK (reason IN ('spam', 'harassment', 'hate_speech',
                'violence', 'sexual_content', 'illegal', 'other')),
            comment text NOT NULL,
            related_post_ids uuid[] NOT NULL,
            state text NOT NULL CHECK (state IN ('open', 'resolved')),
            decision_id uuid,
            created_at timestamptz NOT NULL,
            resolved_at timestamptz
        );
        -- One open report per reporter and subject.
        CREATE UNIQUE INDEX reports_one_open ON reports (subject_id, reporter_id)
            WHERE state = 'open';
        CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at, id);
        CREATE INDEX reports_by_subject ON reports (subject_id, created_at, id);

        CREATE TABLE notes (
            id uuid PRIMARY KEY,
            subject_id uuid NOT NULL REFERENCES subjects (id),
            author_id uuid NOT NULL,
            text text NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX notes_by_subject ON notes (subject_id, created_at, id);

        CREATE TABLE decisions (
            id uuid PRIMARY KEY,
            subject_id uuid NOT NULL REFERENCES subjects (id),
            kind text NOT NULL,
            target_id uuid NOT NULL,
            owner_id uuid NOT NULL,
            moderator_id uuid NOT NULL,
            action text NOT NULL CHECK (action IN
                ('dismiss', 'warn', 'remove_content', 'suspend', 'ban')),
            reason text NOT NULL,
            policy text NOT NULL,
            suspension_seconds integer,
            suspended_until timestamptz,
            state text NOT NULL CHECK (state IN
                ('pending_apply', 'applied', 'pending_reversal', 'reversed', 'refused')),
            -- The subject's first report, for the time to decision.
            reported_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            applied_at timestamptz,
            CHECK ((action = 'suspend') = (suspension_seconds IS NOT NULL))
        );
        CREATE INDEX decisions_by_time ON decisions (created_at);
        CREATE INDEX decisions_by_subject ON decisions (subject_id, created_at);

        -- A decision's effect (or its reversal) to be made in the owning service: written
        -- in the decision's transaction, retried until that service confirms it. While an
        -- attempt runs, next_attempt_at is its lease. actor_* is the moderator who decided
        -- (or overturned), as whom users is asked.
        CREATE TABLE enforcements (
            id uuid PRIMARY KEY,
            decision_id uuid NOT NULL REFERENCES decisions (id),
            step text NOT NULL CHECK (step IN ('apply', 'reverse')),
            operation text NOT NULL CHECK (operation IN ('content_visibility', 'user_status')),
            target_kind text NOT NULL,
            target_id uuid NOT NULL,
            value text NOT NULL,
            until timestamptz,
            reason text NOT NULL,
            actor_id uuid NOT NULL,
            actor_role text NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'done', 'refused')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text NOT NULL DEFAULT '',
            next_attempt_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            done_at timestamptz,
            CONSTRAINT enforcements_step UNIQUE (decision_id, step)
        );
        CREATE INDEX enforcements_due ON enforcements (next_attempt_at) WHERE state = 'pending';

        CREATE TABLE appeals (
            id uuid PRIMARY KEY,
            decision_id uuid NOT NULL REFERENCES decisions (id),
            appellant_id uuid NOT NULL,
            statement text NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'upheld', 'overturned')),
            resolver_id uuid,
            resolution_reason text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL,
            resolved_at timestamptz,
            -- One appeal per decision.
            CONSTRAINT appeals_one_per_decision UNIQUE (decision_id)
        );
        CREATE INDEX appeals_by_state ON appeals (state, id);
        CREATE INDEX appeals_by_appellant ON appeals (appellant_id, id);

        -- Append-only and hash-chained: hash = sha256(previous_hash || the entry's
        -- canonical content), sequence from 1 without gaps; appends serialise on an
        -- advisory lock (services/moderation/audit.py).
        CREATE TABLE audit_log (
            sequence bigint PRIMARY KEY CHECK (sequence > 0),
            actor text NOT NULL,
            actor_role text NOT NULL,
            action text NOT NULL,
            target_kind text NOT NULL,
            target_id text NOT NULL,
            reason text NOT NULL,
            before_json text NOT NULL,
            after_json text NOT NULL,
            request_id text NOT NULL,
            peer text NOT NULL,
            source text NOT NULL,
            event_id text NOT NULL,
            occurred_at timestamptz NOT NULL,
            previous_hash bytea NOT NULL,
            hash bytea NOT NULL
        );
        CREATE UNIQUE INDEX audit_log_event ON audit_log (source, event_id) WHERE event_id <> '';
        CREATE INDEX audit_log_by_time ON audit_log (occurred_at, sequence);
        CREATE INDEX audit_log_by_actor ON audit_log (actor, occurred_at, sequence);
        CREATE INDEX audit_log_by_target
            ON audit_log (target_kind, target_id, occurred_at, sequence);
        CREATE INDEX audit_log_by_action ON audit_log (action, occurred_at, sequence);

        CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE audit_log, appeals, enforcements, decisions, notes, reports, subjects;
        DROP FUNCTION refuse_audit_change();
        """
    )
