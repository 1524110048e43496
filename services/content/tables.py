"""The tables the content service owns (the migrations in migrations/content create them).

Users are referenced by plain UUID columns: their rows live in another service's database.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

posts = Table(
    "posts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("visibility", Text, nullable=False),
    # Parsed from the text, in order; post_hashtags indexes them for search.
    Column("hashtags", ARRAY(Text), nullable=False),
    # [{"user_id": …, "username": …}] of the mentions that named an existing user.
    Column("mentions", JSONB, nullable=False),
    Column("comments_count", BigInteger, nullable=False),
    # Comments (and, once social reports them, reactions) behind the trending score.
    Column("engagement", BigInteger, nullable=False),
    Column("trending_score", Float, nullable=False),
    Column("moderation_state", Text, nullable=False),
    Column("moderation_reason", Text, nullable=False),
    # Bumped by every edit; the etag is derived from it.
    Column("version", BigInteger, nullable=False),
    Column("request_id", Text),
    Column("request_digest", Text),
    # False while the bytes of the media it was created with are being reserved: not shown.
    Column("published", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
)

hashtags = Table(
    "hashtags",
    metadata,
    Column("tag", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

post_hashtags = Table(
    "post_hashtags",
    metadata,
    Column("post_id", UUID(as_uuid=True), ForeignKey("posts.id"), primary_key=True),
    Column("tag", Text, ForeignKey("hashtags.tag"), primary_key=True),
    # The post's created_at, so a tag's posts come newest first straight from the index.
    Column("created_at", DateTime(timezone=True), nullable=False),
)

post_mentions = Table(
    "post_mentions",
    metadata,
    Column("post_id", UUID(as_uuid=True), ForeignKey("posts.id"), primary_key=True),
    Column("user_id", UUID(as_uuid=True), primary_key=True),
)

post_media = Table(
    "post_media",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # No foreign key: a releasing row may outlive the unpublished post it came with.
    Column("post_id", UUID(as_uuid=True), nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("url", Text, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    # pending: written, bytes not yet reserved; active: shown; releasing: bytes owed back.
    Column("state", Text, nullable=False),
    # The users service's reservation request id for this media's bytes.
    Column("reservation_key", Text, nullable=False, unique=True),
    Column("request_id", Text),
    Column("request_digest", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

videos = Table(
    "videos",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("hls_url", Text, nullable=False),
    Column("thumbnail_url", Text, nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Column("resolution", Text, nullable=False),
    Column("failure_reason", Text, nullable=False),
    Column("moderation_state", Text, nullable=False),
    Column("moderation_reason", Text, nullable=False),
    Column("request_id", Text),
    Column("request_digest", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Set when its author's account is deleted: the video leaves every read.
    Column("deleted_at", DateTime(timezone=True)),
)

video_view_counters = Table(
    "video_view_counters",
    metadata,
    Column("video_id", UUID(as_uuid=True), ForeignKey("videos.id"), primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("views", BigInteger, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("post_id", UUID(as_uuid=True), ForeignKey("posts.id"), nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("comments.id")),
    Column("text", Text, nullable=False),
    Column("replies_count", BigInteger, nullable=False),
    Column("moderation_state", Text, nullable=False),
    Column("moderation_reason", Text, nullable=False),
    Column("request_id", Text),
    Column("request_digest", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)
