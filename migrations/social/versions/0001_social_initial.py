"""Follows, friendships, striped user counters, blocks, mutes, reactions and their striped
counters, and notifications.

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
        CREATE TABLE follows (
            follower_id uuid NOT NULL,
            followee_id uuid NOT NULL,
            state text NOT NULL CHECK (state IN ('active', 'pending')),
            created_at timestamptz NOT NULL,
            PRIMARY KEY (follower_id, followee_id),
            CHECK (follower_id <> followee_id)
        );
        -- A user's followers (active) and follow requests (pending), newest first.
        CREATE INDEX follows_by_followee
            ON follows (followee_id, state, created_at DESC, follower_id DESC);
        -- Whom a user follows, newest first.
        CREATE INDEX follows_by_follower ON follows (follower_id, created_at DESC, followee_id DESC)
            WHERE state = 'active';

        -- Both directions of each friendship, so a user's friends are one index range.
        CREATE TABLE friendships (
            user_id uuid NOT NULL,
            friend_id uuid NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (user_id, friend_id),
            CHECK (user_id <> friend_id)
        );
        CREATE INDEX friendships_by_user
            ON friendships (user_id, created_at DESC, friend_id DESC);

        -- A user's counts are the sums over their slots; one slot may go below zero.
        CREATE TABLE user_counts (
            user_id uuid NOT NULL,
            slot smallint NOT NULL CHECK (slot >= 0),
            followers bigint NOT NULL,
            following bigint NOT NULL,
            friends bigint NOT NULL,
            PRIMARY KEY (user_id, slot)
        );

        CREATE TABLE blocks (
            blocker_id uuid NOT NULL,
            blocked_id uuid NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (blocker_id, blocked_id),
            CHECK (blocker_id <> blocked_id)
        );
        CREATE INDEX blocks_by_blocker ON blocks (blocker_id, created_at DESC, blocked_id DESC);

        -- A mute past expires_at no longer applies; reads compare it with now().
        CREATE TABLE mutes (
            muter_id uuid NOT NULL,
            muted_id uuid NOT NULL,
            notifications boolean NOT NULL,
            expires_at timestamptz,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (muter_id, muted_id),
            CHECK (muter_id <> muted_id)
        );
        CREATE INDEX mutes_by_muter ON mutes (muter_id, created_at DESC, muted_id DESC);

        CREATE TABLE reactions (
            target_id uuid NOT NULL,
            target_kind text NOT NULL CHECK (target_kind IN ('post', 'comment', 'video')),
            user_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('like', 'love', 'laugh', 'sad', 'angry')),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (target_id, target_kind, user_id)
        );
        CREATE INDEX reactions_by_target
            ON reactions (target_id, target_kind, created_at DESC, user_id DESC);

        -- A target's count of a kind is the sum over its slots.
        CREATE TABLE reaction_counts (
            target_id uuid NOT NULL,
            target_kind text NOT NULL,
            kind text NOT NULL,
            slot smallint NOT NULL CHECK (slot >= 0),
            count bigint NOT NULL,
            PRIMARY KEY (target_id, target_kind, kind, slot)
        );

        CREATE TABLE notifications (
            id uuid PRIMARY KEY,
            recipient_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('follow', 'follow_request', 'follow_approved',
                                               'reaction', 'comment', 'reply', 'mention')),
            actor_id uuid NOT NULL,
            target_kind text CHECK (target_kind IN ('post', 'comment', 'video')),
            target_id uuid,
            post_id uuid,
            created_at timestamptz NOT NULL,
            read_at timestamptz,
            CHECK (recipient_id <> actor_id)
        );
        CREATE INDEX notifications_by_recipient
            ON notifications (recipient_id, created_at DESC, id DESC);
        -- The unread badge and the unread-only list.
        CREATE INDEX notifications_unread
            ON notifications (recipient_id, created_at DESC, id DESC) WHERE read_at IS NULL;
        -- One unread notification per event: a follow after an unfollow, or an activity
        -- recorded twice, does not notify again until the first is read.
        CREATE UNIQUE INDEX notifications_unread_event
            ON notifications (recipient_id, kind, actor_id, target_id) NULLS NOT DISTINCT
            WHERE read_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE notifications, reaction_counts, reactions, mutes, blocks, user_counts, "
        "friendships, follows"
    )
