"""AddPostMedia and DeletePostMedia: media and the author's storage quota move together."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2
from daira.users.v1 import users_pb2

from .conftest import create_post, get_post, new_request_id, storage_used

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


def add_media(stub, account, post_id: str, size: int = 1000, request_id: str = "", **overrides):
    fields = {
        "url": f"https://cdn.example.com/{uuid.uuid4().hex}.jpg",
        "mime_type": "image/jpeg",
        "size_bytes": size,
        "width": 800,
        "height": 600,
        **overrides,
    }
    request = content_pb2.AddPostMediaRequest(
        post_id=post_id, request_id=request_id or new_request_id(), **fields
    )
    return stub.AddPostMedia(request, metadata=account.auth)


def delete_media(stub, account, media_id: str):
    request = content_pb2.DeletePostMediaRequest(id=media_id)
    return stub.DeletePostMedia(request, metadata=account.auth)


async def free_quota(users_stub) -> int:
    reply = await users_stub.ListSubscriptionTiers(users_pb2.ListSubscriptionTiersRequest())
    return next(t.storage_quota_bytes for t in reply.tiers if t.name == "free")


async def media_rows(content_db, post_id: str) -> list[tuple[str, int]]:
    return await content_db.sql(
        "SELECT state, size_bytes FROM post_media WHERE post_id = %s ORDER BY created_at",
        post_id,
    )


async def test_add_post_media_attaches_it_to_the_post(alice, stub):
    post = await create_post(stub, alice)

    url = "https://cdn.example.com/a.png"

    reply = await add_media(
        stub, alice, post.id, 2048, url=url, mime_type="image/png", width=640, height=480
    )

    media = reply.media
    assert media.id
    assert (media.post_id, media.url, media.mime_type) == (post.id, url, "image/png")
    assert (media.size_bytes, media.width, media.height) == (2048, 640, 480)
    assert list((await get_post(stub, alice, post.id)).media) == [media]


async def test_add_post_media_counts_the_bytes_against_the_authors_quota(alice, stub, users_stub):
    post = await create_post(stub, alice)
    before = await storage_used(users_stub, alice)

    await add_media(stub, alice, post.id, 5000)
    await add_media(stub, alice, post.id, 7000)

    assert await storage_used(users_stub, alice) == before + 12_000


async def test_add_post_media_is_idempotent_on_request_id(alice, stub, users_stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()
    url = "https://cdn.example.com/once.jpg"

    first = (await add_media(stub, alice, post.id, 3000, request_id, url=url)).media
    again = (await add_media(stub, alice, post.id, 3000, request_id, url=url)).media

    assert again.id == first.id
    assert len((await get_post(stub, alice, post.id)).media) == 1
    assert await storage_used(users_stub, alice) == 3000


async def test_add_post_media_parallel_retries_count_once(alice, stub, users_stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()
    url = "https://cdn.example.com/retried.jpg"

    outcomes = await asyncio.gather(
        *(add_media(stub, alice, post.id, 4000, request_id, url=url) for _ in range(10))
    )

    assert len({o.media.id for o in outcomes}) == 1
    assert len((await get_post(stub, alice, post.id)).media) == 1
    assert await storage_used(users_stub, alice) == 4000


async def test_add_post_media_reusing_a_request_id_for_other_media_is_already_exists(
    alice, stub, users_stub, rejected
):
    post = await create_post(stub, alice)
    request_id = new_request_id()
    await add_media(stub, alice, post.id, 3000, request_id)

    failure = await rejected(add_media(stub, alice, post.id, 3001, request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert await storage_used(users_stub, alice) == 3000


async def test_add_post_media_over_the_quota_is_failed_precondition_and_stores_nothing(
    alice, stub, users_stub, content_db, rejected
):
    post = await create_post(stub, alice)
    quota = await free_quota(users_stub)

    failure = await rejected(add_media(stub, alice, post.id, quota + 1))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, alice) == 0
    assert await media_rows(content_db, post.id) == []


async def test_add_post_media_up_to_exactly_the_quota_is_stored(alice, stub, users_stub):
    post = await create_post(stub, alice)
    quota = await free_quota(users_stub)
    await add_media(stub, alice, post.id, quota - 100)

    await add_media(stub, alice, post.id, 100)

    assert await storage_used(users_stub, alice) == quota


async def test_add_post_media_past_the_remaining_quota_keeps_what_was_stored(
    alice, stub, users_stub, rejected
):
    post = await create_post(stub, alice)
    quota = await free_quota(users_stub)
    kept = (await add_media(stub, alice, post.id, quota - 100)).media

    failure = await rejected(add_media(stub, alice, post.id, 101))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert list((await get_post(stub, alice, post.id)).media) == [kept]
    assert await storage_used(users_stub, alice) == quota - 100


async def test_add_post_media_in_parallel_never_passes_the_quota(
    alice, stub, users_stub, content_db
):
    post = await create_post(stub, alice)
    size = await free_quota(users_stub) // 4

    outcomes = await asyncio.gather(
        *(add_media(stub, alice, post.id, size) for _ in range(8)), return_exceptions=True
    )

    stored = [o for o in outcomes if isinstance(o, content_pb2.AddPostMediaResponse)]
    refused = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(stored) == 4
    assert refused == [grpc.StatusCode.FAILED_PRECONDITION] * 4
    assert await storage_used(users_stub, alice) == 4 * size
    assert await media_rows(content_db, post.id) == [("active", size)] * 4


async def test_add_post_media_by_someone_else_is_permission_denied(
    alice, bob, stub, users_stub, rejected
):
    post = await create_post(stub, alice)

    failure = await rejected(add_media(stub, bob, post.id))

    assert failure.code == DENIED
    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, bob) == 0
    assert await storage_used(users_stub, alice) == 0


async def test_add_post_media_to_an_unknown_post_is_not_found(alice, stub, rejected):
    failure = await rejected(add_media(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_add_post_media_to_a_deleted_post_is_not_found(alice, stub, users_stub, rejected):
    post = await create_post(stub, alice)
    await stub.DeletePost(content_pb2.DeletePostRequest(id=post.id), metadata=alice.auth)

    failure = await rejected(add_media(stub, alice, post.id))

    assert failure.code == NOT_FOUND
    assert await storage_used(users_stub, alice) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("post_id", "not-a-uuid"),
        ("url", ""),
        ("url", "ftp://cdn.example.com/a.jpg"),
        ("url", "https://cdn.example.com/\x00.jpg"),
        ("mime_type", ""),
        ("mime_type", "application/pdf"),
        ("size_bytes", 0),
        ("size_bytes", -1),
        ("width", -1),
        ("height", -1),
    ],
)
async def test_add_post_media_refuses_bad_input_and_stores_nothing(
    alice, stub, users_stub, content_db, rejected, field, value
):
    post = await create_post(stub, alice)
    fields = {"post_id": post.id, field: value}
    post_id = fields.pop("post_id")

    failure = await rejected(add_media(stub, alice, post_id, **fields))

    assert failure.code == INVALID
    assert failure.fields == [field]
    assert await media_rows(content_db, post.id) == []
    assert await storage_used(users_stub, alice) == 0


async def test_delete_post_media_releases_its_bytes(alice, stub, users_stub, content_db):
    post = await create_post(stub, alice)
    kept = (await add_media(stub, alice, post.id, 1000)).media
    removed = (await add_media(stub, alice, post.id, 9000)).media

    await delete_media(stub, alice, removed.id)

    assert list((await get_post(stub, alice, post.id)).media) == [kept]
    assert await storage_used(users_stub, alice) == 1000
    assert await media_rows(content_db, post.id) == [("active", 1000)]


async def test_delete_post_media_twice_releases_once(alice, stub, users_stub, rejected):
    post = await create_post(stub, alice)
    await add_media(stub, alice, post.id, 1000)
    removed = (await add_media(stub, alice, post.id, 9000)).media
    await delete_media(stub, alice, removed.id)

    failure = await rejected(delete_media(stub, alice, removed.id))

    assert failure.code == NOT_FOUND
    assert await storage_used(users_stub, alice) == 1000


async def test_delete_post_media_by_someone_else_is_permission_denied(
    alice, bob, stub, users_stub, rejected
):
    post = await create_post(stub, alice)
    media = (await add_media(stub, alice, post.id, 1000)).media

    failure = await rejected(delete_media(stub, bob, media.id))

    assert failure.code == DENIED
    assert list((await get_post(stub, alice, post.id)).media) == [media]
    assert await storage_used(users_stub, alice) == 1000


async def test_delete_post_media_by_a_moderator_releases_the_authors_bytes(
    alice, moderator, stub, users_stub
):
    post = await create_post(stub, alice)
    media = (await add_media(stub, alice, post.id, 1000)).media

    await delete_media(stub, moderator, media.id)

    assert list((await get_post(stub, alice, post.id)).media) == []
    assert await storage_used(users_stub, alice) == 0


async def test_delete_post_media_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(delete_media(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_delete_post_media_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(delete_media(stub, alice, "nope"))

    assert failure.code == INVALID
    assert failure.fields == ["id"]


async def test_delete_post_releases_the_bytes_of_its_media(alice, stub, users_stub, content_db):
    post = await create_post(stub, alice)
    other = await create_post(stub, alice)
    for size in (1000, 2000):
        await add_media(stub, alice, post.id, size)
    await add_media(stub, alice, other.id, 500)

    await stub.DeletePost(content_pb2.DeletePostRequest(id=post.id), metadata=alice.auth)

    assert await storage_used(users_stub, alice) == 500
    assert await media_rows(content_db, post.id) == []


async def test_delete_post_by_a_moderator_releases_the_authors_bytes(
    alice, moderator, stub, users_stub
):
    post = await create_post(stub, alice)
    await add_media(stub, alice, post.id, 4321)

    await stub.DeletePost(content_pb2.DeletePostRequest(id=post.id), metadata=moderator.auth)

    assert await storage_used(users_stub, alice) == 0


async def test_added_media_shows_on_a_post_read_before(alice, bob, stub):
    post = await create_post(stub, alice)
    await get_post(stub, bob, post.id)

    media = (await add_media(stub, alice, post.id)).media

    assert list((await get_post(stub, bob, post.id)).media) == [media]


async def test_deleted_media_leaves_a_post_read_before(alice, bob, stub):
    post = await create_post(stub, alice)
    media = (await add_media(stub, alice, post.id)).media
    assert list((await get_post(stub, bob, post.id)).media) == [media]

    await delete_media(stub, alice, media.id)

    assert list((await get_post(stub, bob, post.id)).media) == []
