"""Keyset pages in SQL, built once per shape: a list's statement carries its page's
position and size as bind parameters (`after_key`, `after_id`, `limit`), so the one
statement serves every page and only the values change. Building a statement per call
cost SQLAlchemy more CPU than the rest of a list read's SQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Integer, Select, bindparam, tuple_

# A statement and the values of its bind parameters.
Query = tuple[Select[Any], dict[str, Any]]
# Where a next page resumes: the last row's (sort key, id); None for a first page.
After = tuple[Any, uuid.UUID] | None
# A page's size, bound.
LIMIT = bindparam("limit", type_=Integer)


def past(columns: tuple[Any, Any], types: tuple[Any, Any], *, newest: bool) -> Any:
    """Rows strictly past the bound position in (key, id) order: descending when `newest`
    first."""
    position = tuple_(bindparam("after_key", type_=types[0]), bindparam("after_id", type_=types[1]))
    return tuple_(*columns) < position if newest else tuple_(*columns) > position


def values(after: After, limit: int, bound: dict[str, Any]) -> dict[str, Any]:
    """A page's parameters: `bound` (the list's own), its size and, on a next page, its
    position."""
    if after is None:
        return bound | {"limit": limit}
    return bound | {"limit": limit, "after_key": after[0], "after_id": after[1]}
