"""CreatePost: defaults, hashtags and mentions parsed from the text, idempotency, bad input."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import create_post, get_post, new_request_id

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PUBLIC = content_pb2.VISIBILITY_PUBLIC


async def own_posts(stub, account) -> list[content_pb2.Post]:
    request = content_pb2.ListUserPostsRequest(user_id=account.id, page_size=100)
    return list((await stub.ListUserPosts(request, metadata=account.auth)).posts)


async def test_create_post_returns_the_post_as_stored(alice, stub):
    post = await create_post(stub, alice, "Hello, world")

    assert post.id
    assert post.author_id == alice.id
    assert post.text == "Hello, world"
    assert post.visibility == PUBLIC
    assert post.comments_count == 0
    assert post.moderation_state == content_pb2.MODERATION_STATE_VISIBLE
    assert post.create_time.seconds > 0
    assert post.etag
    assert not post.HasField("edit_time")
    assert await get_post(stub, alice, post.id) == post


async def test_create_post_without_visibility_is_public(alice, stub):
    request = content_pb2.CreatePostRequest(text="no visibility given", request_id=new_request_id())

    post = (await stub.CreatePost(request, metadata=alice.auth)).post

    assert post.visibility == PUBLIC


@pytest.mark.parametrize(
    "visibility",
    [
        content_pb2.VISIBILITY_PUBLIC,
        content_pb2.VISIBILITY_FOLLOWERS,
        content_pb2.VISIBILITY_PRIVATE,
    ],
)
async def test_create_post_keeps_the_visibility_asked_for(alice, stub, visibility):
    post = await create_post(stub, alice, visibility=visibility)

    assert (await get_post(stub, alice, post.id)).visibility == visibility


async def test_create_post_ids_are_uuidv7(alice, stub):
    post = await create_post(stub, alice)

    assert post.id[14] == "7"


async def test_create_post_stores_hashtags_lowercased_without_the_hash(alice, stub):
    post = await create_post(stub, alice, "Loving #Python and #RUST_lang today")

    assert list(post.hashtags) == ["python", "rust_lang"]
    assert list((await get_post(stub, alice, post.id)).hashtags) == ["python", "rust_lang"]


async def test_create_post_stores_each_hashtag_once(alice, stub):
    post = await create_post(stub, alice, "#cats #Cats #CATS and #dogs")

    assert list(post.hashtags) == ["cats", "dogs"]


async def test_create_post_without_hashtags_has_none(alice, stub):
    post = await create_post(stub, alice, "no tags here, not even a#glued one")

    assert list(post.hashtags) == []


async def test_create_post_resolves_a_mention_to_the_user(alice, bob, stub):
    post = await create_post(stub, alice, f"hello @{bob.username}!")

    assert [(m.user_id, m.username) for m in post.mentions] == [(bob.id, bob.username)]
    assert list((await get_post(stub, alice, post.id)).mentions) == list(post.mentions)


async def test_create_post_resolves_a_mention_ignoring_case(alice, bob, stub):
    post = await create_post(stub, alice, f"hello @{bob.username.upper()}")

    assert [m.user_id for m in post.mentions] == [bob.id]


async def test_create_post_leaves_an_unknown_mention_as_text(alice, bob, stub):
    text = f"hi @nobody_{bob.username[2:]} and @{bob.username}"

    post = await create_post(stub, alice, text)

    assert post.text == text
    assert [m.user_id for m in post.mentions] == [bob.id]


async def test_create_post_does_not_take_an_email_address_for_a_mention(alice, bob, stub):
    post = await create_post(stub, alice, f"write to x@{bob.username}")

    assert list(post.mentions) == []


async def test_create_post_is_idempotent_on_request_id(alice, stub):
    request_id = new_request_id()

    first = await create_post(stub, alice, "only once", request_id=request_id)
    again = await create_post(stub, alice, "only once", request_id=request_id)

    assert again.id == first.id
    assert [p.id for p in await own_posts(stub, alice)] == [first.id]


async def test_create_post_parallel_retries_of_one_request_make_one_post(alice, stub):
    request_id = new_request_id()

    posts = await asyncio.gather(
        *(create_post(stub, alice, "retried", request_id=request_id) for _ in range(10))
    )

    assert len({p.id for p in posts}) == 1
    assert len(await own_posts(stub, alice)) == 1


async def test_create_post_reusing_a_request_id_with_other_text_is_already_exists(
    alice, stub, rejected
):
    request_id = new_request_id()
    first = await create_post(stub, alice, "the first text", request_id=request_id)

    failure = await rejected(create_post(stub, alice, "another text", request_id=request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert [p.text for p in await own_posts(stub, alice)] == [first.text]


async def test_create_post_accepts_5000_characters(alice, stub):
    text = "é" * 4999 + "😀"

    post = await create_post(stub, alice, text)

    assert (await get_post(stub, alice, post.id)).text == text


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "empty"), ("   \n\t ", "blank"), ("x" * 5001, "too long"), ("a\x00b", "NUL")],
)
async def test_create_post_refuses_bad_text_and_writes_nothing(alice, stub, rejected, text, why):
    request = content_pb2.CreatePostRequest(text=text, request_id=new_request_id())

    failure = await rejected(stub.CreatePost(request, metadata=alice.auth))

    assert failure.code == INVALID, why
    assert failure.fields == ["text"]
    assert await own_posts(stub, alice) == []


async def test_create_post_refuses_an_unknown_visibility(alice, stub, rejected):
    request = content_pb2.CreatePostRequest(text="hi", visibility=42, request_id=new_request_id())

    failure = await rejected(stub.CreatePost(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["visibility"]
    assert await own_posts(stub, alice) == []


async def test_create_post_refuses_a_request_id_with_a_nul(alice, stub, rejected):
    request = content_pb2.CreatePostRequest(text="hi", request_id="r\x00")

    failure = await rejected(stub.CreatePost(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["request_id"]
    assert await own_posts(stub, alice) == []
