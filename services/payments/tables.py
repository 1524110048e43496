"""The tables the payments service owns (the migrations in migrations/payments create them).

Users are referenced by plain UUID columns: their rows live in the users service.
"""

from sqlalchemy import BigInteger, Boolean, Column, DateTime, MetaData, SmallInteger, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("user_id", UUID(as_uuid=True)),
    Column("provider", Text, nullable=False),
    Column("slot", SmallInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("posted", BigInteger, nullable=False),
    Column("pending_debits", BigInteger, nullable=False),
    Column("pending_credits", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("type", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("pending", Boolean, nullable=False),
    Column("payer_id", UUID(as_uuid=True)),
    Column("payee_id", UUID(as_uuid=True)),
    Column("pending_id", UUID(as_uuid=True)),
    Column("refund_of", UUID(as_uuid=True)),
    Column("payment_id", UUID(as_uuid=True)),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("transfer_id", UUID(as_uuid=True), nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("user_id", UUID(as_uuid=True)),
    Column("type", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("effect", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_before", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("pending_before", BigInteger, nullable=False),
    Column("pending_after", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("destination", Text, nullable=False),
    Column("failure_reason", Text, nullable=False),
    Column("transfer_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A pending deposit's providers.Action (its fields as JSON), or NULL.
    Column("next_action", JSONB(none_as_null=True)),
)

provider_events = Table(
    "provider_events",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("digest", Text, nullable=False),
    Column("payment_id", UUID(as_uuid=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", Text, primary_key=True),
    Column("request_id", Text, primary_key=True),
    Column("operation", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("result_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
