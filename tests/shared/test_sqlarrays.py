"""Array parameters bound as one literal, and rows read as named tuples, against a real
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import StatementError

from shared.db import Database
from shared.records import records
from shared.sqlarrays import WordList, bigint_array, text_array, uuid_array


@pytest.fixture
async def database(pg_admin_url: str) -> AsyncIterator[Database]:
    db = Database(pg_admin_url, pool_size=1, max_overflow=0)
    yield db
    await db.dispose()


async def test_uuids_and_their_text_arrive_as_uuids_in_their_order(database: Database) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    statement = select(func.unnest(uuid_array("ids")))
    async with database.connection() as conn:
        found = (await conn.execute(statement, {"ids": [first, str(second)]})).scalars().all()
    assert found == [first, second]


async def test_words_and_numbers_arrive_as_their_array_types(database: Database) -> None:
    pairs = (
        func.unnest(text_array("kinds"), bigint_array("deltas"))
        .table_valued("kind", "delta")
        .render_derived()
    )
    statement = select(pairs.c.kind, pairs.c.delta)
    params = {"kinds": ["post", "comment"], "deltas": [1, -1]}
    async with database.connection() as conn:
        rows = (await conn.execute(statement, params)).all()
    assert [tuple(row) for row in rows] == [("post", 1), ("comment", -1)]


async def test_an_empty_list_is_an_empty_array(database: Database) -> None:
    statement = select(func.cardinality(uuid_array("ids")))
    async with database.connection() as conn:
        assert await conn.scalar(statement, {"ids": []}) == 0


async def test_a_text_statement_takes_a_word_list(database: Database) -> None:
    statement = text("SELECT cardinality(CAST(:ids AS uuid[]))").bindparams(
        bindparam("ids", type_=WordList())
    )
    async with database.connection() as conn:
        assert await conn.scalar(statement, {"ids": [uuid.uuid4(), uuid.uuid4()]}) == 2


@pytest.mark.parametrize("element", ["a,b", "a}", '"a"', "a b", ""])
async def test_an_element_that_array_syntax_would_split_is_refused(
    database: Database, element: str
) -> None:
    statement = select(func.cardinality(text_array("words")))
    async with database.connection() as conn:
        with pytest.raises(StatementError, match="plain words"):
            await conn.execute(statement, {"words": ["ok", element]})


async def test_records_read_by_attribute_index_and_unpacking(database: Database) -> None:
    statement = text("SELECT 1 AS n, 'x' AS word, 2 AS count")
    async with database.connection() as conn:
        (row,) = records(await conn.execute(statement))
    n, word, count = row
    assert (row.n, row.word, row.count, row[1]) == (1, "x", 2, "x")
    assert (n, word, count) == (1, "x", 2)
