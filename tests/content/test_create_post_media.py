"""CreatePost with media: the post, its media and the author's storage quota move together.

A post created with media is published only once the bytes of every item are reserved
with the users service, each under its own key; a refusal stores nothing at all.
(test_media_crash.py breaks the same flow midway.)
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import get_post, new_request_id, storage_used
from .test_media import free_quota

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def media_item(size: int = 1000, **overrides) -> content_pb2.PostMedia:
    fields = {
        "url": f"https://cdn.example.com/{uuid.uuid4().hex}.jpg",
        "mime_type": "image/jpeg",
        "size_bytes": size,
        "width": 800,
        "height": 600,
        **overrides,
    }
    return content_pb2.PostMedia(**fields)


def create_request(media, text: str = "", request_id: str = "") -> content_pb2.CreatePostRequest:
    return content_pb2.CreatePostRequest(
        text=text or f"post {uuid.uuid4().hex}",
        visibility=content_pb2.VISIBILITY_PUBLIC,
        media=media,
        request_id=request_id or new_request_id(),
    )


async def create_with_media(stub, account, media) -> content_pb2.Post:
    request = create_request(media)
    return (await stub.CreatePost(request, metadata=account.auth)).post


async def posts_of(content_db, account) -> list[tuple[str, bool]]:
    return await content_db.sql(
        "SELECT id::text, published FROM posts WHERE author_id = %s", account.id
    )


async def media_of(content_db, account) -> list[tuple[str, int]]:
    return await content_db.sql(
        "SELECT state, size_bytes FROM post_media WHERE author_id = %s ORDER BY created_at, id",
        account.id,
    )


async def test_create_post_with_media_stores_the_media_in_the_order_given(alice, stub):
    items = [
        media_item(2048, url="https://cdn.example.com/a.png", mime_type="image/png"),
        media_item(4096, url="https://cdn.example.com/b.mp4", mime_type="video/mp4"),
    ]

    post = await create_with_media(stub, alice, items)

    assert [(m.url, m.mime_type, m.size_bytes) for m in post.media] == [
        ("https://cdn.example.com/a.png", "image/png", 2048),
        ("https://cdn.example.com/b.mp4", "video/mp4", 4096),
    ]
    assert all(m.id and m.post_id == post.id for m in post.media)
    assert (await get_post(stub, alice, post.id)) == post


async def test_create_post_with_media_counts_the_bytes_against_the_authors_quota(
    alice, stub, users_stub
):
    await create_with_media(stub, alice, [media_item(5000), media_item(7000)])

    assert await storage_used(users_stub, alice) == 12_000


async def test_create_post_with_media_reserves_each_media_under_its_own_key(
    alice, stub, users_stub, accounts
):
    post = await create_with_media(stub, alice, [media_item(5000), media_item(7000)])

    reserved = await accounts.sql(
        "SELECT request_id, bytes FROM storage_reservations WHERE user_id = %s "
        "AND released_at IS NULL ORDER BY bytes",
        alice.id,
    )
    assert reserved == [(f"content-media:{m.id}", m.size_bytes) for m in post.media]


async def test_deleting_one_media_of_a_created_post_releases_exactly_its_bytes(
    alice, stub, users_stub
):
    post = await create_with_media(stub, alice, [media_item(5000), media_item(7000)])

    request = content_pb2.DeletePostMediaRequest(id=post.media[0].id)
    await stub.DeletePostMedia(request, metadata=alice.auth)

    assert await storage_used(users_stub, alice) == 7000
    assert list((await get_post(stub, alice, post.id)).media) == [post.media[1]]


async def test_deleting_a_post_created_with_media_releases_its_bytes(
    alice, stub, users_stub, content_db
):
    post = await create_with_media(stub, alice, [media_item(5000), media_item(7000)])

    await stub.DeletePost(content_pb2.DeletePostRequest(id=post.id), metadata=alice.auth)

    assert await storage_used(users_stub, alice) == 0
    assert await media_of(content_db, alice) == []


async def test_create_post_ignores_the_output_only_fields_of_its_media(alice, stub):
    given = media_item(1000, id=str(uuid.uuid4()), post_id=str(uuid.uuid4()))
    given.create_time.FromSeconds(1)

    post = await create_with_media(stub, alice, [given])

    (media,) = post.media
    assert media.id != given.id
    assert media.post_id == post.id
    assert media.create_time == post.create_time


async def test_create_post_with_the_most_media_allowed_stores_them_all(alice, stub, users_stub):
    post = await create_with_media(stub, alice, [media_item(100) for _ in range(10)])

    assert len(post.media) == 10
    assert await storage_used(users_stub, alice) == 1000


async def test_create_post_over_the_quota_is_failed_precondition_and_stores_nothing(
    alice, stub, users_stub, content_db, rejected
):
    quota = await free_quota(users_stub)

    failure = await rejected(create_with_media(stub, alice, [media_item(quota + 1)]))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await posts_of(content_db, alice) == []
    assert await media_of(content_db, alice) == []
    assert await storage_used(users_stub, alice) == 0


async def test_create_post_over_the_quota_gives_back_the_bytes_of_its_earlier_media(
    alice, stub, users_stub, accounts, content_db, rejected
):
    quota = await free_quota(users_stub)
    items = [media_item(1000), media_item(2000), media_item(quota - 2999)]

    failure = await rejected(create_with_media(stub, alice, items))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await storage_used(users_stub, alice) == 0
    live = await accounts.sql(
        "SELECT request_id FROM storage_reservations WHERE user_id = %s AND released_at IS NULL",
        alice.id,
    )
    assert live == []
    assert await posts_of(content_db, alice) == []
    assert await media_of(content_db, alice) == []


async def test_create_post_over_the_quota_keeps_what_the_author_stored_before(
    alice, stub, users_stub, rejected
):
    quota = await free_quota(users_stub)
    kept = await create_with_media(stub, alice, [media_item(quota - 100)])

    failure = await rejected(create_with_media(stub, alice, [media_item(50), media_item(51)]))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await storage_used(users_stub, alice) == quota - 100
    assert (await get_post(stub, alice, kept.id)) == kept


async def test_create_post_with_media_is_idempotent_on_request_id(
    alice, stub, users_stub, content_db
):
    request = create_request([media_item(3000), media_item(4000)])

    first = (await stub.CreatePost(request, metadata=alice.auth)).post
    again = (await stub.CreatePost(request, metadata=alice.auth)).post

    assert again == first
    assert len(await posts_of(content_db, alice)) == 1
    assert await storage_used(users_stub, alice) == 7000


async def test_create_post_with_media_parallel_retries_make_one_post_counted_once(
    alice, stub, users_stub, content_db
):
    request = create_request([media_item(3000), media_item(4000)])

    replies = await asyncio.gather(
        *(stub.CreatePost(request, metadata=alice.auth) for _ in range(8))
    )

    assert len({reply.post.id for reply in replies}) == 1
    assert len(await posts_of(content_db, alice)) == 1
    assert await media_of(content_db, alice) == [("active", 3000), ("active", 4000)]
    assert await storage_used(users_stub, alice) == 7000


async def test_create_post_reusing_a_request_id_with_other_media_is_already_exists(
    alice, stub, users_stub, content_db, rejected
):
    request = create_request([media_item(3000)])
    first = (await stub.CreatePost(request, metadata=alice.auth)).post
    request.media[0].url = "https://cdn.example.com/another.jpg"

    failure = await rejected(stub.CreatePost(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert failure.reasons == ["REQUEST_ID_REUSED"]
    assert await posts_of(content_db, alice) == [(first.id, True)]
    assert await storage_used(users_stub, alice) == 3000


async def test_create_post_reusing_a_request_id_without_its_media_is_already_exists(
    alice, stub, users_stub, rejected
):
    request = create_request([media_item(3000)])
    await stub.CreatePost(request, metadata=alice.auth)
    del request.media[:]

    failure = await rejected(stub.CreatePost(request, metadata=alice.auth))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert await storage_used(users_stub, alice) == 3000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", ""),
        ("url", "ftp://cdn.example.com/a.jpg"),
        ("url", "https://cdn.example.com/\x00.jpg"),
        ("mime_type", ""),
        ("mime_type", "application/pdf"),
        ("size_bytes", 0),
        ("size_bytes", -1),
        ("width", -1),
        ("height", 100_001),
    ],
)
async def test_create_post_refuses_bad_media_naming_the_field_and_writes_nothing(
    alice, stub, users_stub, content_db, rejected, field, value
):
    items = [media_item(1000), media_item(1000, **{field: value})]

    failure = await rejected(create_with_media(stub, alice, items))

    assert failure.code == INVALID
    assert failure.fields == [f"media[1].{field}"]
    assert await posts_of(content_db, alice) == []
    assert await media_of(content_db, alice) == []
    assert await storage_used(users_stub, alice) == 0


async def test_create_post_refuses_more_than_10_media_and_writes_nothing(
    alice, stub, users_stub, content_db, rejected
):
    failure = await rejected(create_with_media(stub, alice, [media_item() for _ in range(11)]))

    assert failure.code == INVALID
    assert failure.fields == ["media"]
    assert await posts_of(content_db, alice) == []
    assert await storage_used(users_stub, alice) == 0
