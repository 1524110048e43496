"""Opaque keyset page tokens (AIP-158): the last row's sort key, bound to the query it came from.

A token carries the position after which the next page starts and a fingerprint of
the request's other parameters, so a token reused with a different query is refused
rather than silently answering the wrong thing. No OFFSET anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from shared.errors import InvalidArgument

RowT = TypeVar("RowT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(
    requested: int, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(requested or default, maximum)


def _fingerprint(query: Any) -> str:
    blob = json.dumps(query, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def encode(position: list[Any], query: Any) -> str:
    payload = {"p": position, "q": _fingerprint(query)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, query: Any) -> list[Any] | None:
    """The position a token resumes after, or None for the first page."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        position = payload["p"]
        fingerprint = payload["q"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None
    if not isinstance(position, list) or fingerprint != _fingerprint(query):
        raise InvalidArgument("page_token", "does not belong to this query")
    return position


def time_position(token: str, query: Any) -> tuple[datetime, uuid.UUID] | None:
    """Where a page ordered by (time, id) resumes; None on the first page."""
    found = decode(token, query)
    if found is None:
        return None
    try:
        moment, last_id = found
        when = datetime.fromisoformat(str(moment))
        if when.tzinfo is None:
            raise ValueError("naive time")
        return when, uuid.UUID(str(last_id))
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None


def time_key(moment: datetime, row_id: uuid.UUID) -> list[Any]:
    """The position `time_position` reads back."""
    return [moment.isoformat(), str(row_id)]


def cut(
    rows: Sequence[RowT], limit: int, key: Callable[[RowT], list[Any]], query: Any
) -> tuple[list[RowT], str]:
    """The first `limit` rows of a query that asked for one more, and the next page's token
    (empty on the last page)."""
    if len(rows) <= limit:
        return list(rows), ""
    kept = list(rows[:limit])
    return kept, encode(key(kept[-1]), query)
