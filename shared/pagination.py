"""Opaque keyset page tokens (AIP-158): the last row's sort key, bound to the query it came from.

A token carries the position after which the next page starts and a fingerprint of
the request's other parameters, so a token reused with a different query is refused
rather than silently answering the wrong thing. No OFFSET anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from shared.errors import InvalidArgument

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
