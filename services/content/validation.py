"""Input rules of the content service; each failure names the offending field."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from google.protobuf import duration_pb2

from shared.errors import InvalidArgument

POST_TEXT_MAX = 5000
COMMENT_TEXT_MAX = 2000
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
REASON_MAX = 1000
REQUEST_ID_MAX = 200
URL_MAX = 2048
MIME_TYPE = re.compile(r"^(image|video)/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
RESOLUTION = re.compile(r"^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$")
DIMENSION_MAX = 100_000
MAX_MEDIA_PER_POST = 10
DURATION_MAX = timedelta(days=7)


def no_nul(field: str, value: str) -> str:
    """PostgreSQL text cannot hold U+0000, so it is refused as input rather than failing later."""
    if "\x00" in value:
        raise InvalidArgument(field, "must not contain NUL characters")
    return value


def text(field: str, value: str, maximum: int) -> str:
    """Required text: 1 to `maximum` characters, not only whitespace."""
    no_nul(field, value)
    if not value.strip():
        raise InvalidArgument(field, "is required")
    if len(value) > maximum:
        raise InvalidArgument(field, f"must be at most {maximum} characters")
    return value


def bounded_text(field: str, value: str, maximum: int) -> str:
    no_nul(field, value)
    if len(value) > maximum:
        raise InvalidArgument(field, f"must be at most {maximum} characters")
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


def web_url(field: str, value: str) -> str:
    """A required absolute http(s) URL."""
    if not value:
        raise InvalidArgument(field, "is required")
    no_nul(field, value)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidArgument(field, "must be an http or https URL") from None
    if len(value) > URL_MAX or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument(field, "must be an http or https URL")
    return value


def mime_type(field: str, value: str) -> str:
    normalized = value.strip().lower()
    if not MIME_TYPE.match(normalized):
        raise InvalidArgument(field, "must be an image/* or video/* media type")
    return normalized


def dimension(field: str, value: int) -> int:
    if not 0 <= value <= DIMENSION_MAX:
        raise InvalidArgument(field, f"must be 0 to {DIMENSION_MAX}")
    return value


class MediaFields(Protocol):
    """One media item as a request gives it: an AddPostMediaRequest, or a PostMedia of a
    CreatePostRequest."""

    @property
    def url(self) -> str: ...
    @property
    def mime_type(self) -> str: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


class MediaItem(NamedTuple):
    url: str
    mime_type: str
    size_bytes: int
    width: int
    height: int


def media_item(given: MediaFields, prefix: str = "") -> MediaItem:
    """One media item, checked; each failure names its field under `prefix` ("media[2].")."""
    url = web_url(f"{prefix}url", given.url)
    normalized = mime_type(f"{prefix}mime_type", given.mime_type)
    if given.size_bytes <= 0:
        raise InvalidArgument(f"{prefix}size_bytes", "must be positive")
    width = dimension(f"{prefix}width", given.width)
    height = dimension(f"{prefix}height", given.height)
    return MediaItem(url, normalized, given.size_bytes, width, height)


def media_items(field: str, given: Sequence[MediaFields]) -> list[MediaItem]:
    """Up to MAX_MEDIA_PER_POST media items, each checked."""
    if len(given) > MAX_MEDIA_PER_POST:
        raise InvalidArgument(field, f"must be at most {MAX_MEDIA_PER_POST} items")
    return [media_item(item, f"{field}[{n}].") for n, item in enumerate(given)]


def resolution(field: str, value: str) -> str:
    if not RESOLUTION.match(value):
        raise InvalidArgument(field, 'must be "WIDTHxHEIGHT", for example "1920x1080"')
    return value


def duration_us(field: str, value: duration_pb2.Duration) -> int:
    """A positive duration of at most a week, in microseconds."""
    valid_nanos = -999_999_999 <= value.nanos <= 999_999_999
    same_sign = value.seconds * value.nanos >= 0
    if not (valid_nanos and same_sign):
        raise InvalidArgument(field, "is not a valid duration")
    total = value.seconds * 1_000_000 + value.nanos // 1000
    if total <= 0:
        raise InvalidArgument(field, "must be positive")
    if total > DURATION_MAX // timedelta(microseconds=1):
        raise InvalidArgument(field, "must be at most 7 days")
    return total
