"""Posts, hashtags, mentions, media, videos with striped view counters, and comments.

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
        CREATE TABLE posts (
            id uuid PRIMARY KEY,
            author_id uuid NOT NULL,
            text text NOT NULL,
            visibility text NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
            hashtags text[] NOT NULL DEFAULT '{}',
            mentions jsonb NOT NULL DEFAULT '[]',
            comments_count bigint NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
            engagement bigint NOT NULL DEFAULT 0 CHECK (engagement >= 0),
            trending_score double precision NOT NULL,
            moderation_state text NOT NULL DEFAULT 'visible'
                CHECK (moderation_state IN ('visible', 'hidden', 'removed')),
            moderation_reason text NOT NULL DEFAULT '',
            version bigint NOT NULL DEFAULT 1,
            request_id text,
            request_digest text,
            -- false while the bytes of the media it is created with are being reserved
            published boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            edited_at timestamptz,
            deleted_at timestamptz
        );
        -- "deleted_at IS NULL AND published" is repository.LIVE_POST: keep them the same.
        CREATE INDEX posts_author_timeline ON posts (author_id, created_at DESC, id DESC)
            WHERE deleted_at IS NULL AND published;
        CREATE UNIQUE INDEX posts_request ON posts (author_id, request_id)
            WHERE request_id IS NOT NULL;
        CREATE INDEX posts_trending ON posts (trending_score DESC, id DESC)
            WHERE deleted_at IS NULL AND published
                AND visibility = 'public' AND moderation_state = 'visible';
        CREATE INDEX posts_unpublished ON posts (created_at) WHERE NOT published;

        CREATE TABLE hashtags (
            tag text PRIMARY KEY,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE post_hashtags (
            post_id uuid NOT NULL REFERENCES posts (id),
            tag text NOT NULL REFERENCES hashtags (tag),
            created_at timestamptz NOT NULL,
            PRIMARY KEY (post_id, tag)
        );
        CREATE INDEX post_hashtags_by_tag ON post_hashtags (tag, created_at DESC, post_id DESC);

        CREATE TABLE post_mentions (
            post_id uuid NOT NULL REFERENCES posts (id),
            user_id uuid NOT NULL,
            PRIMARY KEY (post_id, user_id)
        );

        -- No foreign key on post_id: a releasing row (bytes owed back) may outlive the
        -- unpublished post it was created with, which a rolled-back CreatePost removes.
        CREATE TABLE post_media (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL,
            author_id uuid NOT NULL,
            url text NOT NULL,
            mime_type text NOT NULL,
            size_bytes bigint NOT NULL CHECK (size_bytes > 0),
            width integer NOT NULL CHECK (width >= 0),
            height integer NOT NULL CHECK (height >= 0),
            state text NOT NULL CHECK (state IN ('pending', 'active', 'releasing')),
            reservation_key text NOT NULL UNIQUE,
            request_id text,
            request_digest text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX post_media_shown ON post_media (post_id, created_at, id)
            WHERE state = 'active';
        CREATE UNIQUE INDEX post_media_request ON post_media (post_id, request_id)
            WHERE request_id IS NOT NULL AND state IN ('pending', 'active');
        CREATE INDEX post_media_unsettled ON post_media (state, updated_at)
            WHERE state <> 'active';

        CREATE TABLE videos (
            id uuid PRIMARY KEY,
            author_id uuid NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            state text NOT NULL
                CHECK (state IN ('uploading', 'processing', 'published', 'failed')),
            hls_url text NOT NULL DEFAULT '',
            thumbnail_url text NOT NULL DEFAULT '',
            duration_us bigint NOT NULL DEFAULT 0,
            resolution text NOT NULL DEFAULT '',
            failure_reason text NOT NULL DEFAULT '',
            moderation_state text NOT NULL DEFAULT 'visible'
                CHECK (moderation_state IN ('visible', 'hidden', 'removed')),
            moderation_reason text NOT NULL DEFAULT '',
            request_id text,
            request_digest text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX videos_author ON videos (author_id, created_at DESC, id DESC);
        CREATE UNIQUE INDEX videos_request ON videos (author_id, request_id)
            WHERE request_id IS NOT NULL;

        CREATE TABLE video_view_counters (
            video_id uuid NOT NULL REFERENCES videos (id),
            slot smallint NOT NULL CHECK (slot >= 0),
            views bigint NOT NULL CHECK (views >= 0),
            PRIMARY KEY (video_id, slot)
        );

        CREATE TABLE comments (
            id uuid PRIMARY KEY,
            post_id uuid NOT NULL REFERENCES posts (id),
            author_id uuid NOT NULL,
            parent_id uuid REFERENCES comments (id),
            text text NOT NULL,
            replies_count bigint NOT NULL DEFAULT 0 CHECK (replies_count >= 0),
            moderation_state text NOT NULL DEFAULT 'visible'
                CHECK (moderation_state IN ('visible', 'hidden', 'removed')),
            moderation_reason text NOT NULL DEFAULT '',
            request_id text,
            request_digest text,
            created_at timestamptz NOT NULL,
            deleted_at timestamptz
        );
        CREATE INDEX comments_thread ON comments (post_id, parent_id, created_at, id)
            WHERE deleted_at IS NULL;
        CREATE UNIQUE INDEX comments_request ON comments (author_id, request_id)
            WHERE request_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE comments, video_view_counters, videos, post_media, post_mentions, "
        "post_hashtags, hashtags, posts"
    )
