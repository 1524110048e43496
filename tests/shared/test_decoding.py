"""Requests that do not parse are named by their offending field."""

from __future__ import annotations

from daira.content.v1 import content_pb2
from shared.decoding import Undecodable, offending_field, tolerant

# A UTF-16 surrogate encoded as if it were a character: never valid UTF-8.
SURROGATE = b"\xed\xa0\x80"


def string_field(number: int, value: bytes) -> bytes:
    return bytes([number << 3 | 2, len(value)]) + value


def test_a_valid_request_decodes_as_usual() -> None:
    request = content_pb2.CreatePostRequest(text="hello", request_id="r1")
    decode = tolerant(content_pb2.CreatePostRequest.FromString)
    assert decode(request.SerializeToString()) == request


def test_a_string_that_is_not_utf8_names_its_field() -> None:
    data = string_field(3, b"r1") + string_field(1, b"hi " + SURROGATE)
    decoded = tolerant(content_pb2.CreatePostRequest.FromString)(data)
    assert decoded == Undecodable("text", "is not valid UTF-8")


def test_a_bad_string_inside_a_nested_message_names_the_path() -> None:
    media = string_field(3, b"https://x/" + SURROGATE)
    data = string_field(1, b"ok") + string_field(4, media)
    assert offending_field(content_pb2.CreatePostRequest, data) == "media.url"


def test_bytes_cut_short_are_the_whole_request() -> None:
    data = string_field(1, b"hello")[:-2]
    decoded = tolerant(content_pb2.CreatePostRequest.FromString)(data)
    assert decoded == Undecodable("request", "could not be parsed")
