"""Conversions every service's convert.py needs: timestamps and etags."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from shared.errors import InvalidArgument


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def etag(version: int) -> str:
    """A weak etag over a row's version, which every write bumps."""
    return f'W/"{version}"'


def version_from_etag(field: str, value: str) -> int | None:
    """The version an etag names; None for an empty etag (an unconditional write)."""
    if not value:
        return None
    digits = value.removeprefix("W/").strip('"')
    if not digits.isdigit():
        raise InvalidArgument(field, "is not an etag this service issued")
    return int(digits)
