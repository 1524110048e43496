"""One keyset page of a newest-first list, as every list of the service is read."""

from __future__ import annotations

from typing import Any

from services.social import repository
from services.social.repository import Record
from services.social.repository_lists import Pages
from shared import pagination
from shared.db import Database


async def newest_first(
    db: Database,
    pages: Pages,
    values: dict[str, Any],
    other: str,
    query: Any,
    size: int,
    token: str,
    default: int = pagination.DEFAULT_PAGE_SIZE,
    maximum: int = pagination.MAX_PAGE_SIZE,
) -> tuple[list[Record], str]:
    """The page of `pages` (its conditions bound by `values`), ordered by (created_at,
    `other`) descending, that `token` resumes (bound to `query`), and the next page's
    token. A page holds `size` rows (`default` for 0), up to `maximum`."""
    limit = pagination.page_size(size, default, maximum)
    after = pagination.time_position(token, query)
    async with db.connection() as conn:
        rows = await repository.rows(conn, *pages.page(values, after, limit + 1))
    return pagination.cut(
        rows, limit, lambda row: pagination.time_key(row.created_at, getattr(row, other)), query
    )
