"""Comments: threads, exact counters, who may delete, keyset pages oldest first."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from daira.content.v1 import content_pb2

from .conftest import create_comment, create_post, every_page, get_post, new_request_id

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED


def delete(stub, account, comment_id: str):
    request = content_pb2.DeleteCommentRequest(id=comment_id)
    return stub.DeleteComment(request, metadata=account.auth)


async def listed(stub, account, post_id: str, parent_id: str = "", page_size: int = 100):
    request = content_pb2.ListCommentsRequest(
        post_id=post_id, parent_id=parent_id, page_size=page_size
    )
    pages = await every_page(stub.ListComments, request, account.auth, "comments")
    return [comment.id for page in pages for comment in page]


async def test_create_comment_returns_the_comment(alice, bob, stub):
    post = await create_post(stub, alice)

    comment = await create_comment(stub, bob, post.id, "nice post")

    assert comment.id
    assert (comment.post_id, comment.author_id, comment.text) == (post.id, bob.id, "nice post")
    assert comment.parent_id == ""
    assert comment.replies_count == 0
    assert comment.moderation_state == content_pb2.MODERATION_STATE_VISIBLE
    assert comment.create_time.seconds > 0


async def test_create_comment_counts_on_the_post(alice, bob, stub):
    post = await create_post(stub, alice)

    await create_comment(stub, bob, post.id)
    await create_comment(stub, alice, post.id)

    assert (await get_post(stub, alice, post.id)).comments_count == 2


async def test_create_reply_counts_on_its_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, bob, post.id)

    reply = await create_comment(stub, alice, post.id, "a reply", parent_id=parent.id)

    assert reply.parent_id == parent.id
    replies = await stub.ListComments(
        content_pb2.ListCommentsRequest(post_id=post.id), metadata=alice.auth
    )
    assert [(c.id, c.replies_count) for c in replies.comments] == [(parent.id, 1)]


async def test_create_comment_200_in_parallel_counts_exactly_200(alice, bob, stub):
    post = await create_post(stub, alice)

    comments = await asyncio.gather(*(create_comment(stub, bob, post.id) for _ in range(200)))

    assert len({c.id for c in comments}) == 200
    assert (await get_post(stub, alice, post.id)).comments_count == 200


async def test_comments_count_stays_exact_under_parallel_creates_and_deletes(alice, bob, stub):
    post = await create_post(stub, alice)
    doomed = [await create_comment(stub, bob, post.id) for _ in range(25)]

    await asyncio.gather(
        *(delete(stub, bob, c.id) for c in doomed),
        *(create_comment(stub, bob, post.id) for _ in range(40)),
    )

    assert (await get_post(stub, alice, post.id)).comments_count == 40
    assert len(await listed(stub, alice, post.id)) == 40


async def test_create_comment_parallel_retries_of_one_request_count_once(alice, bob, stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()

    made = await asyncio.gather(
        *(create_comment(stub, bob, post.id, "retried", request_id=request_id) for _ in range(10))
    )

    assert len({c.id for c in made}) == 1
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_is_idempotent_on_request_id(alice, bob, stub):
    post = await create_post(stub, alice)
    request_id = new_request_id()

    first = await create_comment(stub, bob, post.id, "once", request_id=request_id)
    again = await create_comment(stub, bob, post.id, "once", request_id=request_id)

    assert again.id == first.id
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_reusing_a_request_id_with_other_text_is_already_exists(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice)
    request_id = new_request_id()
    await create_comment(stub, bob, post.id, "first", request_id=request_id)

    failure = await rejected(create_comment(stub, bob, post.id, "second", request_id=request_id))

    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_create_comment_accepts_2000_characters(alice, stub):
    post = await create_post(stub, alice)

    comment = await create_comment(stub, alice, post.id, "ü" * 2000)

    assert len(comment.text) == 2000


@pytest.mark.parametrize("text", [" ", "x" * 2001, "nul\x00"])
async def test_create_comment_refuses_bad_text_and_writes_nothing(alice, stub, rejected, text):
    post = await create_post(stub, alice)
    request = content_pb2.CreateCommentRequest(
        post_id=post.id, text=text, request_id=new_request_id()
    )

    failure = await rejected(stub.CreateComment(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["text"]
    assert (await get_post(stub, alice, post.id)).comments_count == 0
    assert await listed(stub, alice, post.id) == []


async def test_create_comment_on_an_unknown_post_is_not_found(alice, stub, rejected):
    failure = await rejected(create_comment(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_create_comment_with_a_malformed_post_id_is_invalid(alice, stub, rejected):
    failure = await rejected(create_comment(stub, alice, "not-a-uuid"))

    assert failure.code == INVALID
    assert failure.fields == ["post_id"]


async def test_create_comment_on_a_post_the_caller_may_not_see_is_refused(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)

    failure = await rejected(create_comment(stub, bob, post.id))

    assert failure.code in (NOT_FOUND, DENIED)
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_create_reply_to_an_unknown_parent_is_refused(alice, stub, rejected):
    post = await create_post(stub, alice)

    failure = await rejected(create_comment(stub, alice, post.id, parent_id=str(uuid.uuid4())))

    assert failure.code in (NOT_FOUND, INVALID)
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_create_reply_to_a_comment_of_another_post_is_refused(alice, stub, rejected):
    post, other = await create_post(stub, alice), await create_post(stub, alice)
    elsewhere = await create_comment(stub, alice, other.id)

    failure = await rejected(create_comment(stub, alice, post.id, parent_id=elsewhere.id))

    assert failure.code in (NOT_FOUND, INVALID)
    assert (await get_post(stub, alice, post.id)).comments_count == 0


@pytest.mark.parametrize("who", ["comment author", "post author", "moderator"])
async def test_delete_comment_is_allowed_to(alice, bob, moderator, stub, who):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    deleter = {"comment author": bob, "post author": alice, "moderator": moderator}[who]

    await delete(stub, deleter, comment.id)

    assert await listed(stub, alice, post.id) == []
    assert (await get_post(stub, alice, post.id)).comments_count == 0


async def test_delete_comment_by_anyone_else_is_permission_denied(
    alice, bob, carol, stub, rejected
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)

    failure = await rejected(delete(stub, carol, comment.id))

    assert failure.code == DENIED
    assert await listed(stub, alice, post.id) == [comment.id]
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_delete_comment_uncounts_it_on_its_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, alice, post.id)
    reply = await create_comment(stub, bob, post.id, parent_id=parent.id)

    await delete(stub, bob, reply.id)

    request = content_pb2.ListCommentsRequest(post_id=post.id)
    top = (await stub.ListComments(request, metadata=alice.auth)).comments
    assert [(c.id, c.replies_count) for c in top] == [(parent.id, 0)]
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_delete_comment_of_an_unknown_id_is_not_found(alice, stub, rejected):
    failure = await rejected(delete(stub, alice, str(uuid.uuid4())))

    assert failure.code == NOT_FOUND


async def test_delete_comment_twice_is_not_found_and_counts_once(alice, bob, stub, rejected):
    post = await create_post(stub, alice)
    kept = await create_comment(stub, bob, post.id)
    comment = await create_comment(stub, bob, post.id)
    await delete(stub, bob, comment.id)

    failure = await rejected(delete(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert (await get_post(stub, alice, post.id)).comments_count == 1
    assert await listed(stub, alice, post.id) == [kept.id]


async def test_list_comments_lists_top_level_comments_oldest_first(alice, bob, stub):
    post = await create_post(stub, alice)
    first = await create_comment(stub, bob, post.id)
    second = await create_comment(stub, alice, post.id)
    await create_comment(stub, alice, post.id, parent_id=first.id)

    assert await listed(stub, alice, post.id) == [first.id, second.id]


async def test_list_comments_lists_replies_under_their_parent(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, bob, post.id)
    other = await create_comment(stub, bob, post.id)
    replies = [await create_comment(stub, alice, post.id, parent_id=parent.id) for _ in range(3)]
    await create_comment(stub, alice, post.id, parent_id=other.id)

    assert await listed(stub, alice, post.id, parent.id) == [r.id for r in replies]


async def test_list_comments_pages_have_no_repeats_or_gaps(alice, bob, stub):
    post = await create_post(stub, alice)
    created = [(await create_comment(stub, bob, post.id)).id for _ in range(7)]
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=3)

    pages = await every_page(stub.ListComments, request, alice.auth, "comments")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [c.id for page in pages for c in page] == created


async def test_list_comments_keeps_its_place_when_comments_arrive_between_pages(alice, bob, stub):
    post = await create_post(stub, alice)
    created = [(await create_comment(stub, bob, post.id)).id for _ in range(4)]
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=2)
    first = await stub.ListComments(request, metadata=alice.auth)
    late = await create_comment(stub, bob, post.id)

    request.page_token = first.next_page_token
    rest = await every_page(stub.ListComments, request, alice.auth, "comments")

    seen = [c.id for c in first.comments] + [c.id for page in rest for c in page]
    assert seen == [*created, late.id]


async def test_list_comments_on_an_unknown_post_is_not_found(alice, stub, rejected):
    request = content_pb2.ListCommentsRequest(post_id=str(uuid.uuid4()))

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND


async def test_list_comments_with_a_negative_page_size_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=-1)

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_size"]


async def test_list_comments_with_a_garbage_page_token_is_invalid(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_token="garbage!")

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_list_comments_refuses_a_page_token_of_another_post(alice, bob, stub, rejected):
    post, other = await create_post(stub, alice), await create_post(stub, alice)
    for _ in range(2):
        await create_comment(stub, bob, post.id)
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=1)
    token = (await stub.ListComments(request, metadata=alice.auth)).next_page_token

    failure = await rejected(
        stub.ListComments(
            content_pb2.ListCommentsRequest(post_id=other.id, page_size=1, page_token=token),
            metadata=alice.auth,
        )
    )

    assert failure.code == INVALID
    assert failure.fields == ["page_token"]


async def test_create_comment_shows_in_the_count_of_a_post_read_before(alice, bob, stub):
    post = await create_post(stub, alice)
    assert (await get_post(stub, bob, post.id)).comments_count == 0

    await create_comment(stub, bob, post.id)

    assert (await get_post(stub, bob, post.id)).comments_count == 1


async def test_delete_comment_takes_its_replies_with_it(alice, bob, stub):
    post = await create_post(stub, alice)
    kept = await create_comment(stub, alice, post.id)
    parent = await create_comment(stub, bob, post.id)
    reply = await create_comment(stub, alice, post.id, parent_id=parent.id)
    await create_comment(stub, bob, post.id, parent_id=reply.id)

    await delete(stub, bob, parent.id)

    assert await listed(stub, alice, post.id) == [kept.id]
    assert (await get_post(stub, alice, post.id)).comments_count == 1


async def test_list_comments_pages_comments_made_at_once_without_repeats_or_gaps(alice, bob, stub):
    post = await create_post(stub, alice)
    made = await asyncio.gather(*(create_comment(stub, bob, post.id) for _ in range(50)))
    request = content_pb2.ListCommentsRequest(post_id=post.id, page_size=7)

    pages = await every_page(stub.ListComments, request, alice.auth, "comments")

    paged = [c for page in pages for c in page]
    assert sorted(c.id for c in paged) == sorted(c.id for c in made)
    keys = [(c.create_time.ToNanoseconds(), c.id) for c in paged]
    assert keys == sorted(keys)


async def test_list_comments_of_a_post_the_caller_may_not_see_is_not_found(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    await create_comment(stub, alice, post.id)
    request = content_pb2.ListCommentsRequest(post_id=post.id)

    failure = await rejected(stub.ListComments(request, metadata=bob.auth))

    assert failure.code == NOT_FOUND


async def test_list_replies_of_an_unknown_comment_is_not_found(alice, stub, rejected):
    post = await create_post(stub, alice)
    request = content_pb2.ListCommentsRequest(post_id=post.id, parent_id=str(uuid.uuid4()))

    failure = await rejected(stub.ListComments(request, metadata=alice.auth))

    assert failure.code == NOT_FOUND


def get_comment(stub, account, comment_id: str):
    request = content_pb2.GetCommentRequest(id=comment_id)
    return stub.GetComment(request, metadata=account.auth)


async def hide(stub, service_auth, comment_id: str, state: int) -> None:
    request = content_pb2.SetContentVisibilityRequest(
        target_kind=content_pb2.TARGET_KIND_COMMENT, target_id=comment_id, state=state
    )
    await stub.SetContentVisibility(request, metadata=service_auth)


async def test_get_comment_returns_the_comment(alice, bob, stub):
    post = await create_post(stub, alice)
    parent = await create_comment(stub, alice, post.id)
    reply = await create_comment(stub, bob, post.id, "a reply", parent_id=parent.id)

    found = (await get_comment(stub, alice, reply.id)).comment

    assert found == reply


@pytest.mark.parametrize(
    "state", [content_pb2.MODERATION_STATE_HIDDEN, content_pb2.MODERATION_STATE_REMOVED]
)
async def test_get_comment_of_a_moderated_comment_is_not_found(
    alice, bob, stub, rejected, service_auth, state
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await hide(stub, service_auth, comment.id, state)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert failure.reasons == ["COMMENT_NOT_FOUND"]


async def test_get_comment_shows_a_hidden_comment_to_moderators(
    alice, bob, moderator, stub, service_auth
):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await hide(stub, service_auth, comment.id, content_pb2.MODERATION_STATE_HIDDEN)

    found = (await get_comment(stub, moderator, comment.id)).comment

    assert found.moderation_state == content_pb2.MODERATION_STATE_HIDDEN


async def test_get_comment_on_a_post_the_caller_may_not_see_is_not_found(
    alice, bob, stub, rejected
):
    post = await create_post(stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    comment = await create_comment(stub, alice, post.id)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND
    assert failure.reasons == ["COMMENT_NOT_FOUND"]


async def test_get_comment_of_a_deleted_comment_is_not_found(alice, bob, stub, rejected):
    post = await create_post(stub, alice)
    comment = await create_comment(stub, bob, post.id)
    await delete(stub, bob, comment.id)

    failure = await rejected(get_comment(stub, bob, comment.id))

    assert failure.code == NOT_FOUND


async def test_get_comment_with_a_malformed_id_is_invalid(alice, stub, rejected):
    failure = await rejected(get_comment(stub, alice, "not-a-uuid"))

    assert failure.code == INVALID
    assert failure.fields == ["id"]
