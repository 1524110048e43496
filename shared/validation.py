"""Input rules every service applies the same way; each failure names the offending field."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from shared.errors import InvalidArgument

REQUEST_ID_MAX = 200
URL_MAX = 2048


def no_nul(field: str, value: str) -> str:
    """PostgreSQL text cannot hold U+0000, so it is refused as input rather than failing later."""
    if "\x00" in value:
        raise InvalidArgument(field, "must not contain NUL characters")
    return value


def bounded_text(field: str, value: str, maximum: int) -> str:
    no_nul(field, value)
    if len(value) > maximum:
        raise InvalidArgument(field, f"must be at most {maximum} characters")
    return value


def required_text(field: str, value: str, maximum: int) -> str:
    """1 to `maximum` characters, not only whitespace."""
    if not value.strip():
        raise InvalidArgument(field, "is required")
    return bounded_text(field, value, maximum)


def web_url(field: str, value: str, *, required: bool) -> str:
    """An absolute http(s) URL; empty is allowed unless `required`."""
    if not value:
        if required:
            raise InvalidArgument(field, "is required")
        return value
    no_nul(field, value)
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        raise InvalidArgument(field, "must be an http or https URL") from None
    if len(value) > URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(field, "must be an http or https URL")
    return value


def request_id(value: str) -> str | None:
    """An idempotency key, or None when the caller sent none (then every call acts anew)."""
    if not value:
        return None
    if len(value) > REQUEST_ID_MAX:
        raise InvalidArgument("request_id", f"must be at most {REQUEST_ID_MAX} characters")
    return no_nul("request_id", value)


def digest(*params: object) -> str:
    """What a retry must repeat exactly to count as the same request."""
    blob = json.dumps(params, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
