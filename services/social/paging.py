"""One keyset page of a newest-first list, as every list of the service is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select

from services.social import repository
from services.social.repository import After, Record
from shared import pagination
from shared.db import Database


async def newest_first(
    db: Database,
    statement: Callable[[After, int], Select[Any]],
    other: str,
    query: Any,
    size: int,
    token: str,
) -> tuple[list[Record], str]:
    """The page of rows ordered by (created_at, `other`) descending that `token` resumes
    (bound to `query`), and the next page's token; `statement` builds the read."""
    limit = pagination.page_size(size)
    after = pagination.time_position(token, query)
    async with db.connection() as conn:
        rows = await repository.rows(conn, statement(after, limit + 1))
    return pagination.cut(
        rows, limit, lambda row: pagination.time_key(row.created_at, getattr(row, other)), query
    )
