"""Time-ordered UUIDv7 identifiers, made by the service that owns the row."""

from __future__ import annotations

import uuid

import uuid6

from shared.errors import InvalidArgument


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def parse_id(field: str, value: str) -> uuid.UUID:
    """A UUID from a request field, or INVALID_ARGUMENT naming that field."""
    if not value:
        raise InvalidArgument(field, "is required")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(field, "must be a UUID") from None
