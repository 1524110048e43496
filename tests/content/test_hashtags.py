"""SearchByHashtag: a tag's public posts, newest first, with or without '#', ignoring case."""

from __future__ import annotations

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import create_post, every_page, hashtag_post_ids, unique_tag

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_search_by_hashtag_finds_posts_newest_first(alice, bob, stub):
    tag = unique_tag()
    older = await create_post(stub, alice, f"#{tag} first")
    newer = await create_post(stub, bob, f"second #{tag}")
    await create_post(stub, alice, f"#{unique_tag()} unrelated")

    assert await hashtag_post_ids(stub, bob, tag) == [newer.id, older.id]


@pytest.mark.parametrize("form", ["bare", "with hash", "upper case", "mixed with hash"])
async def test_search_by_hashtag_ignores_the_hash_and_case(alice, stub, form):
    tag = unique_tag()
    post = await create_post(stub, alice, f"about #{tag.capitalize()}")
    query = {
        "bare": tag,
        "with hash": f"#{tag}",
        "upper case": tag.upper(),
        "mixed with hash": f"#{tag[:4].upper()}{tag[4:]}",
    }[form]

    assert await hashtag_post_ids(stub, alice, query) == [post.id]


@pytest.mark.parametrize(
    "visibility", [content_pb2.VISIBILITY_FOLLOWERS, content_pb2.VISIBILITY_PRIVATE]
)
async def test_search_by_hashtag_lists_only_public_posts(alice, bob, stub, visibility):
    tag = unique_tag()
    public = await create_post(stub, alice, f"#{tag}")
    await create_post(stub, alice, f"#{tag}", visibility=visibility)

    assert await hashtag_post_ids(stub, bob, tag) == [public.id]


async def test_search_by_hashtag_does_not_match_a_longer_tag(alice, stub):
    tag = unique_tag()
    exact = await create_post(stub, alice, f"#{tag}")
    await create_post(stub, alice, f"#{tag}extra")

    assert await hashtag_post_ids(stub, alice, tag) == [exact.id]


async def test_search_by_hashtag_pages_have_no_repeats_or_gaps(alice, stub):
    tag = unique_tag()
    created = [(await create_post(stub, alice, f"#{tag} {i}")).id for i in range(5)]
    request = content_pb2.SearchByHashtagRequest(tag=tag, page_size=2)

    pages = await every_page(stub.SearchByHashtag, request, alice.auth, "posts")

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [p.id for page in pages for p in page] == created[::-1]


async def test_search_by_hashtag_of_an_unused_tag_is_empty(alice, stub):
    assert await hashtag_post_ids(stub, alice, unique_tag()) == []


@pytest.mark.parametrize("tag", ["", "#", "two words", "semi;colon", "nul\x00"])
async def test_search_by_hashtag_refuses_what_is_not_a_tag(alice, stub, rejected, tag):
    request = content_pb2.SearchByHashtagRequest(tag=tag)

    failure = await rejected(stub.SearchByHashtag(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["tag"]


async def test_search_by_hashtag_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    request = content_pb2.SearchByHashtagRequest(tag=unique_tag(), page_size=-5)

    failure = await rejected(stub.SearchByHashtag(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_search_by_hashtag_refuses_a_page_token_of_another_tag(alice, stub, rejected):
    tag = unique_tag()
    for _ in range(2):
        await create_post(stub, alice, f"#{tag}")
    request = content_pb2.SearchByHashtagRequest(tag=tag, page_size=1)
    token = (await stub.SearchByHashtag(request, metadata=alice.auth)).next_page_token

    other = content_pb2.SearchByHashtagRequest(tag=unique_tag(), page_size=1, page_token=token)
    failure = await rejected(stub.SearchByHashtag(other, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_search_by_hashtag_finds_non_ascii_tags_ignoring_case(alice, stub):
    word = "Été" + unique_tag()
    post = await create_post(stub, alice, f"summer #{word}")

    assert list(post.hashtags) == [word.lower()]
    assert await hashtag_post_ids(stub, alice, f"#{word.upper()}") == [post.id]
