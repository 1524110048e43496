"""UpdatePost: the author edits text or visibility, guarded by the etag."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import create_post, get_post, hashtag_post_ids, unique_tag, user_post_ids

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def update(stub, account, post_id: str, etag: str, paths: list[str], **fields):
    post = content_pb2.Post(id=post_id, etag=etag, **fields)
    request = content_pb2.UpdatePostRequest(post=post)
    request.update_mask.paths.extend(paths)
    return stub.UpdatePost(request, metadata=account.auth)


async def search(stub, account, tag: str) -> list[str]:
    request = content_pb2.SearchByHashtagRequest(tag=tag, page_size=100)
    return [p.id for p in (await stub.SearchByHashtag(request, metadata=account.auth)).posts]


async def test_update_post_changes_the_text_and_sets_edit_time(alice, stub):
    post = await create_post(stub, alice, "first draft")

    updated = (await update(stub, alice, post.id, post.etag, ["text"], text="second draft")).post

    assert updated.text == "second draft"
    assert updated.HasField("edit_time")
    assert updated.edit_time.ToDatetime() >= post.create_time.ToDatetime()
    assert updated.etag != post.etag
    assert await get_post(stub, alice, post.id) == updated


async def test_update_post_changes_only_the_masked_fields(alice, stub):
    post = await create_post(stub, alice, "keep this text")

    updated = (
        await update(
            stub,
            alice,
            post.id,
            post.etag,
            ["visibility"],
            text="ignored, not in the mask",
            visibility=content_pb2.VISIBILITY_PRIVATE,
        )
    ).post

    assert updated.visibility == content_pb2.VISIBILITY_PRIVATE
    assert updated.text == "keep this text"


async def test_update_post_parses_hashtags_and_mentions_of_the_new_text(alice, bob, stub):
    old_tag, new_tag = f"old{uuid.uuid4().hex[:8]}", f"new{uuid.uuid4().hex[:8]}"
    post = await create_post(stub, alice, f"#{old_tag}")

    text = f"#{new_tag} with @{bob.username}"
    updated = (await update(stub, alice, post.id, post.etag, ["text"], text=text)).post

    assert list(updated.hashtags) == [new_tag]
    assert [m.user_id for m in updated.mentions] == [bob.id]
    assert await search(stub, alice, new_tag) == [post.id]
    assert await search(stub, alice, old_tag) == []


async def test_update_post_by_someone_else_is_permission_denied_and_changes_nothing(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, "mine")

    failure = await rejected(update(stub, bob, post.id, post.etag, ["text"], text="hijacked"))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert await get_post(stub, alice, post.id) == post


async def test_update_post_by_a_moderator_is_permission_denied(alice, moderator, stub, rejected):
    post = await create_post(stub, alice, "mine")

    failure = await rejected(update(stub, moderator, post.id, post.etag, ["text"], text="edited"))

    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert (await get_post(stub, alice, post.id)).text == "mine"


async def test_update_post_with_a_stale_etag_is_aborted_and_changes_nothing(alice, stub, rejected):
    post = await create_post(stub, alice, "v1")
    current = (await update(stub, alice, post.id, post.etag, ["text"], text="v2")).post

    failure = await rejected(update(stub, alice, post.id, post.etag, ["text"], text="v3"))

    assert failure.code == grpc.StatusCode.ABORTED
    assert await get_post(stub, alice, post.id) == current


async def test_update_post_parallel_edits_from_one_etag_let_exactly_one_win(alice, stub):
    post = await create_post(stub, alice, "v0")

    outcomes = await asyncio.gather(
        *(update(stub, alice, post.id, post.etag, ["text"], text=f"v{i}") for i in range(1, 6)),
        return_exceptions=True,
    )

    won = [o.post for o in outcomes if isinstance(o, content_pb2.UpdatePostResponse)]
    lost = [o.code() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1
    assert lost == [grpc.StatusCode.ABORTED] * 4
    assert await get_post(stub, alice, post.id) == won[0]


@pytest.mark.parametrize("paths", [[], ["author_id"], ["text", "comments_count"]])
async def test_update_post_rejects_an_empty_or_unknown_update_mask(alice, stub, rejected, paths):
    post = await create_post(stub, alice, "unchanged")

    failure = await rejected(update(stub, alice, post.id, post.etag, paths, text="changed"))

    assert failure.code == INVALID
    assert failure.fields == ["update_mask"]
    assert await get_post(stub, alice, post.id) == post


@pytest.mark.parametrize("text", ["", "x" * 5001, "nul\x00"])
async def test_update_post_rejects_bad_text_and_changes_nothing(alice, stub, rejected, text):
    post = await create_post(stub, alice, "unchanged")

    failure = await rejected(update(stub, alice, post.id, post.etag, ["text"], text=text))

    assert failure.code == INVALID
    assert failure.fields == ["post.text"]
    assert await get_post(stub, alice, post.id) == post


async def test_update_post_rejects_an_unknown_visibility(alice, stub, rejected):
    post = await create_post(stub, alice)

    failure = await rejected(update(stub, alice, post.id, post.etag, ["visibility"], visibility=9))

    assert failure.code == INVALID
    assert failure.fields == ["post.visibility"]


async def test_update_post_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(update(stub, alice, str(uuid.uuid4()), "", ["text"], text="x"))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_update_post_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(update(stub, alice, "nope", "", ["text"], text="x"))

    assert failure.code == INVALID
    assert failure.fields == ["post.id"]


async def test_update_post_shows_at_once_to_a_reader_who_read_it_before(alice, bob, stub):
    post = await create_post(stub, alice, "before")
    await get_post(stub, bob, post.id)

    await update(stub, alice, post.id, post.etag, ["text"], text="after")

    assert (await get_post(stub, bob, post.id)).text == "after"


async def test_update_post_to_private_hides_it_from_others_everywhere(alice, bob, stub, rejected):
    tag = unique_tag()
    post = await create_post(stub, alice, f"#{tag}")
    await get_post(stub, bob, post.id)

    await update(
        stub, alice, post.id, post.etag, ["visibility"], visibility=content_pb2.VISIBILITY_PRIVATE
    )

    assert (await rejected(get_post(stub, bob, post.id))).code == grpc.StatusCode.NOT_FOUND
    assert await user_post_ids(stub, bob, alice.id) == []
    assert await hashtag_post_ids(stub, bob, tag) == []
    assert await user_post_ids(stub, alice, alice.id) == [post.id]
