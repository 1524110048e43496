import uuid
from datetime import UTC, datetime

import pytest

from shared import pagination
from shared.errors import InvalidArgument


def test_token_round_trips_the_position_for_the_same_query() -> None:
    token = pagination.encode([0.5, "abc"], {"q": "alice"})
    assert pagination.decode(token, {"q": "alice"}) == [0.5, "abc"]


def test_empty_token_means_first_page() -> None:
    assert pagination.decode("", {"q": "alice"}) is None


def test_token_from_another_query_is_refused() -> None:
    token = pagination.encode([1], {"q": "alice"})
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode(token, {"q": "bob"})
    assert caught.value.violations[0][0] == "page_token"


def test_garbage_token_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        pagination.decode("not-a-token!!", {})


def test_page_size_defaults_and_caps() -> None:
    assert pagination.page_size(0) == pagination.DEFAULT_PAGE_SIZE
    assert pagination.page_size(1000) == pagination.MAX_PAGE_SIZE


def test_negative_page_size_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        pagination.page_size(-1)


def test_a_time_position_comes_back_as_it_went() -> None:
    moment, row_id = datetime(2026, 5, 1, 12, 30, tzinfo=UTC), uuid.uuid4()

    token = pagination.encode(pagination.time_key(moment, row_id), {"q": 1})

    assert pagination.time_position(token, {"q": 1}) == (moment, row_id)
    assert pagination.time_position("", {"q": 1}) is None


@pytest.mark.parametrize(
    "position",
    [["2026-05-01T12:30:00", str(uuid.uuid4())], ["not a time", str(uuid.uuid4())], ["x"], [1, 2]],
    ids=["naive-time", "bad-time", "short", "numbers"],
)
def test_a_time_position_that_is_not_one_is_refused(position: list[object]) -> None:
    token = pagination.encode(position, {"q": 1})

    with pytest.raises(InvalidArgument) as refused:
        pagination.time_position(token, {"q": 1})

    assert refused.value.violations[0][0] == "page_token"


def test_cut_keeps_a_page_and_tokens_the_rest() -> None:
    rows = list(range(5))

    kept, token = pagination.cut(rows, 4, lambda row: [row], {"q": 1})
    last, none = pagination.cut(rows[:3], 4, lambda row: [row], {"q": 1})

    assert kept == [0, 1, 2, 3]
    assert pagination.decode(token, {"q": 1}) == [3]
    assert (last, none) == ([0, 1, 2], "")
