"""The tables the moderation service owns (migrations/moderation creates them).

Users and content are referenced by plain UUID columns: their rows live in the users
and content services.
"""

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, SmallInteger, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, UUID

metadata = MetaData()

subjects = Table(
    "subjects",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("owner_id", UUID(as_uuid=True), nullable=False),
    Column("state", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("severity", SmallInteger, nullable=False),
    Column("reporter_count", Integer, nullable=False),
    Column("first_reported_at", DateTime(timezone=True), nullable=False),
    Column("last_reported_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", UUID(as_uuid=True)),
    Column("claim_expires_at", DateTime(timezone=True)),
    Column("decision_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("reporter_id", UUID(as_uuid=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("related_post_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("state", Text, nullable=False),
    Column("decision_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

notes = Table(
    "notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subject_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("owner_id", UUID(as_uuid=True), nullable=False),
    Column("moderator_id", UUID(as_uuid=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("policy", Text, nullable=False),
    Column("suspension_seconds", Integer),
    Column("suspended_until", DateTime(timezone=True)),
    Column("state", Text, nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
)

enforcements = Table(
    "enforcements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("decision_id", UUID(as_uuid=True), nullable=False),
    Column("step", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("target_kind", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("value", Text, nullable=False),
    Column("until", DateTime(timezone=True)),
    Column("reason", Text, nullable=False),
    Column("actor_id", UUID(as_uuid=True), nullable=False),
    Column("actor_role", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("decision_id", UUID(as_uuid=True), nullable=False),
    Column("appellant_id", UUID(as_uuid=True), nullable=False),
    Column("statement", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("resolver_id", UUID(as_uuid=True)),
    Column("resolution_reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("sequence", BIGINT, primary_key=True),
    Column("actor", Text, nullable=False),
    Column("actor_role", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target_kind", Text, nullable=False),
    Column("target_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("before_json", Text, nullable=False),
    Column("after_json", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("peer", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("previous_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

# A deleted account's pseudonym while its cascade runs (services/moderation/cascade.py).
erasures = Table(
    "erasures",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("pseudonym", UUID(as_uuid=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)
