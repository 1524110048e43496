"""Keyset pages on (created_at, id) or (score, id), with shared.pagination's opaque tokens."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from shared import pagination
from shared.errors import InvalidArgument

RowT = TypeVar("RowT")


def by_time(row: Any) -> list[Any]:
    return [row.created_at.isoformat(), str(row.id)]


def by_score(row: Any) -> list[Any]:
    return [row.trending_score, str(row.id)]


def position(token: str, query: Any, *, scored: bool = False) -> tuple[Any, uuid.UUID] | None:
    """Where the page of `token` resumes: (created_at or score, id); None on the first page."""
    found = pagination.decode(token, query)
    if found is None:
        return None
    try:
        key, last_id = found
        if scored:
            if not isinstance(key, float | int):
                raise TypeError("score")
            return float(key), uuid.UUID(str(last_id))
        moment = datetime.fromisoformat(str(key))
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment, uuid.UUID(str(last_id))
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "is not a valid page token") from None


def page(
    rows: Sequence[RowT], limit: int, key: Callable[[RowT], list[Any]], query: Any
) -> tuple[list[RowT], str]:
    """The first `limit` rows (the query asked for one more) and the next page's token."""
    if len(rows) <= limit:
        return list(rows), ""
    kept = list(rows[:limit])
    return kept, pagination.encode(key(kept[-1]), query)
