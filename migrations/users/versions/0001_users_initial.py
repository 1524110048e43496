"""Users, profiles, sessions, subscription tiers and storage quota.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        """
        CREATE TABLE subscription_tiers (
            name text PRIMARY KEY,
            display_name text NOT NULL,
            storage_quota_bytes bigint NOT NULL CHECK (storage_quota_bytes >= 0),
            monthly_price_minor bigint NOT NULL CHECK (monthly_price_minor >= 0),
            currency char(3) NOT NULL,
            rank integer NOT NULL UNIQUE
        );
        INSERT INTO subscription_tiers VALUES
            ('free', 'Free', 1073741824, 0, 'USD', 0),
            ('plus', 'Plus', 10737418240, 499, 'USD', 1),
            ('pro', 'Pro', 107374182400, 1499, 'USD', 2);

        CREATE TABLE users (
            id uuid PRIMARY KEY,
            username text NOT NULL,
            email text,
            password_hash text NOT NULL,
            display_name text NOT NULL,
            role text NOT NULL CHECK (role IN ('user', 'moderator', 'admin')),
            status text NOT NULL CHECK (status IN ('active', 'suspended', 'banned', 'deleted')),
            status_reason text,
            status_until timestamptz,
            subscription_tier text NOT NULL REFERENCES subscription_tiers (name),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            deleted_at timestamptz
        );
        CREATE UNIQUE INDEX users_username_key ON users (lower(username));
        CREATE UNIQUE INDEX users_email_key ON users (lower(email));
        CREATE INDEX users_username_trgm ON users USING gin (username gin_trgm_ops);
        CREATE INDEX users_display_name_trgm ON users USING gin (display_name gin_trgm_ops);

        CREATE TABLE user_profiles (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            bio text NOT NULL DEFAULT '',
            location text NOT NULL DEFAULT '',
            avatar_url text NOT NULL DEFAULT '',
            website text NOT NULL DEFAULT '',
            style_config jsonb NOT NULL DEFAULT '{}',
            version bigint NOT NULL DEFAULT 1,
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE user_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            device text NOT NULL,
            refresh_hash bytea NOT NULL,
            created_at timestamptz NOT NULL,
            last_refresh_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            revoke_reason text
        );
        CREATE INDEX user_sessions_live ON user_sessions (user_id, created_at DESC)
            WHERE revoked_at IS NULL;

        CREATE TABLE rotated_refresh_tokens (
            refresh_hash bytea PRIMARY KEY,
            session_id uuid NOT NULL REFERENCES user_sessions (id),
            rotated_at timestamptz NOT NULL
        );
        CREATE INDEX rotated_refresh_tokens_session ON rotated_refresh_tokens (session_id);

        CREATE TABLE storage_usage (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE storage_reservations (
            request_id text PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            bytes bigint NOT NULL CHECK (bytes > 0),
            created_at timestamptz NOT NULL,
            released_at timestamptz
        );
        CREATE INDEX storage_reservations_user ON storage_reservations (user_id);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE storage_reservations, storage_usage, rotated_refresh_tokens, "
        "user_sessions, user_profiles, users, subscription_tiers"
    )
