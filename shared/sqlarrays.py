"""Array parameters sent as one array literal, for the batch reads and writes of ids.

psycopg dumps a Python list as text element by element in Python: about 3 µs an element,
0.3 ms for a batch of 100 ids, as much as the rest of a batch read's query. A list of
plain words (ids, numbers, enum names) joined into one `{a,b,c}` string costs a few
microseconds, and PostgreSQL casts it to the array type the statement names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Text, bindparam, cast
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

# What an element may be: nothing an array literal would read as syntax (commas, braces,
# quotes, spaces), so the joined string has exactly the elements given.
_PLAIN = re.compile(r"[0-9A-Za-z_-]+")


class WordList(TypeDecorator[Iterable[Any]]):
    """A list of plain words (uuids, integers, enum names), bound as one `{…}` literal."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        words = [str(item) for item in value]
        if not all(map(_PLAIN.fullmatch, words)):
            raise ValueError("an array parameter's elements must be plain words")
        return "{" + ",".join(words) + "}"


def array_param(name: str, of: TypeEngine[Any]) -> ColumnElement[Any]:
    """A bind parameter taking a list of plain words, as an array of `of`."""
    return cast(bindparam(name, type_=WordList()), ARRAY(of))


def uuid_array(name: str) -> ColumnElement[Any]:
    """A list of uuids (or their canonical text), as uuid[]."""
    return array_param(name, UUID(as_uuid=True))


def text_array(name: str) -> ColumnElement[Any]:
    """A list of enum names and the like, as text[]."""
    return array_param(name, Text())


def bigint_array(name: str) -> ColumnElement[Any]:
    return array_param(name, BigInteger())
