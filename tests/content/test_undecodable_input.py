"""A request whose bytes are not a valid message is bad input, named by its field."""

from __future__ import annotations

import grpc

from daira.content.v1 import content_pb2
from tests.users.conftest import open_channel

from .conftest import new_request_id

# A UTF-16 surrogate encoded as if it were a character: never valid UTF-8.
SURROGATE = b"\xed\xa0\x80"


async def test_create_post_with_text_that_is_not_utf8_is_invalid_and_writes_nothing(
    alice, stub, content_server, rejected
):
    key = content_pb2.CreatePostRequest(request_id=new_request_id()).SerializeToString()
    text = b"\x0a\x05" + b"hi" + SURROGATE  # field 1 (text), 5 bytes
    channel = open_channel(content_server.port)
    try:
        create = channel.unary_unary(f"/{content_pb2.DESCRIPTOR.package}.ContentService/CreatePost")
        failure = await rejected(create(key + text, metadata=alice.auth))
    finally:
        await channel.close()

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["text"]
    listed = await stub.ListUserPosts(
        content_pb2.ListUserPostsRequest(user_id=alice.id, page_size=100), metadata=alice.auth
    )
    assert list(listed.posts) == []
