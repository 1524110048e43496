"""Input rules shared by every service: each refusal names the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.errors import InvalidArgument
from shared.messages import etag, version_from_etag
from shared.validation import digest, request_id, required_text, web_url


def refused_field(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidArgument) as refused:
        call(*args, **kwargs)
    return refused.value.violations[0][0]


@pytest.mark.parametrize("value", ["", "   \n"])
def test_required_text_refuses_empty_or_blank(value: str) -> None:
    assert refused_field(required_text, "text", value, 10) == "text"


def test_required_text_refuses_more_than_the_maximum() -> None:
    assert refused_field(required_text, "text", "x" * 11, 10) == "text"


def test_required_text_refuses_nul() -> None:
    assert refused_field(required_text, "text", "a\x00b", 10) == "text"


@pytest.mark.parametrize(
    "value", ["ftp://a.example/x", "//a.example", "http://[::1/x", "https://", "a b"]
)
def test_web_url_refuses_anything_but_an_absolute_http_url(value: str) -> None:
    assert refused_field(web_url, "url", value, required=False) == "url"


def test_web_url_may_be_empty_only_when_optional() -> None:
    assert web_url("url", "", required=False) == ""
    assert refused_field(web_url, "url", "", required=True) == "url"


def test_request_id_is_optional_and_bounded() -> None:
    assert request_id("") is None
    assert request_id("abc") == "abc"
    assert refused_field(request_id, "x" * 201) == "request_id"


def test_digest_tells_different_parameters_apart() -> None:
    assert digest("a", 1) == digest("a", 1)
    assert digest("a", 1) != digest("a", 2)
    assert digest("ab", "c") != digest("a", "bc")


def test_etag_round_trips_to_its_version() -> None:
    assert version_from_etag("post.etag", etag(42)) == 42
    assert version_from_etag("post.etag", "") is None


def test_an_etag_this_service_did_not_issue_is_refused_on_its_field() -> None:
    assert refused_field(version_from_etag, "post.etag", 'W/"abc"') == "post.etag"
