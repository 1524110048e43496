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
