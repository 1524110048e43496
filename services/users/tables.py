"""The tables the users service owns (the migrations in migrations/users create them)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

subscription_tiers = Table(
    "subscription_tiers",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("storage_quota_bytes", BigInteger, nullable=False),
    Column("monthly_price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rank", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Stored lowercased; a deleted account's is replaced so the name is free again.
    Column("username", Text, nullable=False),
    Column("email", Text),
    Column("password_hash", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text),
    Column("status_until", DateTime(timezone=True)),
    Column("subscription_tier", String(32), ForeignKey("subscription_tiers.name"), nullable=False),
    # A profile setting kept beside display_name: new followers need approval.
    Column("locked", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)

user_profiles = Table(
    "user_profiles",
    metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True),
    Column("bio", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("avatar_url", Text, nullable=False),
    Column("website", Text, nullable=False),
    Column("style_config", JSONB, nullable=False),
    # Bumped by every write; the etag is derived from it.
    Column("version", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("device", Text, nullable=False),
    # SHA-256 of the current refresh secret; older secrets of the session no longer match.
    Column("refresh_hash", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_refresh_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoke_reason", Text),
)

storage_usage = Table(
    "storage_usage",
    metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), primary_key=True),
    Column("used_bytes", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

storage_reservations = Table(
    "storage_reservations",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True)),
)

rotated_refresh_tokens = Table(
    "rotated_refresh_tokens",
    metadata,
    # SHA-256 of a refresh secret its session has since replaced.
    Column("refresh_hash", LargeBinary, primary_key=True),
    Column("session_id", UUID(as_uuid=True), ForeignKey("user_sessions.id"), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)
