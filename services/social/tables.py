"""The tables the social service owns (the migrations in migrations/social create them).

Users and content are referenced by plain UUID columns: their rows live in other
services' databases.
"""

from sqlalchemy import BigInteger, Boolean, Column, DateTime, MetaData, SmallInteger, Table, Text
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

follows = Table(
    "follows",
    metadata,
    Column("follower_id", UUID(as_uuid=True), primary_key=True),
    Column("followee_id", UUID(as_uuid=True), primary_key=True),
    # active, or pending until the (locked) followee approves.
    Column("state", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

friendships = Table(
    "friendships",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("friend_id", UUID(as_uuid=True), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

user_counts = Table(
    "user_counts",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("followers", BigInteger, nullable=False),
    Column("following", BigInteger, nullable=False),
    Column("friends", BigInteger, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("blocker_id", UUID(as_uuid=True), primary_key=True),
    Column("blocked_id", UUID(as_uuid=True), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

mutes = Table(
    "mutes",
    metadata,
    Column("muter_id", UUID(as_uuid=True), primary_key=True),
    Column("muted_id", UUID(as_uuid=True), primary_key=True),
    Column("notifications", Boolean, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

reactions = Table(
    "reactions",
    metadata,
    Column("target_id", UUID(as_uuid=True), primary_key=True),
    Column("target_kind", Text, primary_key=True),
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

reaction_counts = Table(
    "reaction_counts",
    metadata,
    Column("target_id", UUID(as_uuid=True), primary_key=True),
    Column("target_kind", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("count", BigInteger, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("recipient_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor_id", UUID(as_uuid=True), nullable=False),
    Column("target_kind", Text),
    Column("target_id", UUID(as_uuid=True)),
    Column("post_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
)
