"""Reactions: one per user per target, changed by reacting again, counted by kind, listed,
and the author of a post, comment or video told of a first reaction."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import duration_pb2

from daira.content.v1 import content_pb2
from daira.social.v1 import social_pb2 as pb

from .conftest import (
    create_comment,
    create_post,
    create_video,
    follow,
    hide_post,
    notified,
    post_target,
    react,
    reaction_counts,
)

LIKE, LOVE, SAD = pb.REACTION_KIND_LIKE, pb.REACTION_KIND_LOVE, pb.REACTION_KIND_SAD


async def unreact(stub, who, target) -> None:
    await stub.Unreact(pb.UnreactRequest(target=target), metadata=who.auth)


@pytest.fixture
async def post(content_stub, alice) -> pb.Target:
    """A public post by alice."""
    return post_target((await create_post(content_stub, alice)).id)


async def test_a_reaction_is_counted_by_kind(stub, post, bob, carol):
    reaction = await react(stub, bob, post, LOVE)
    await react(stub, carol, post, LOVE)

    assert (reaction.target, reaction.user_id, reaction.kind) == (post, bob.id, LOVE)
    assert await reaction_counts(stub, bob, post) == {"LOVE": 2}


async def test_reacting_again_changes_the_reaction(stub, post, bob):
    first = await react(stub, bob, post, LIKE)

    changed = await react(stub, bob, post, SAD)

    assert changed.kind == SAD
    assert changed.create_time == first.create_time
    assert changed.update_time.ToDatetime() >= first.update_time.ToDatetime()
    assert await reaction_counts(stub, bob, post) == {"SAD": 1}


async def test_the_same_reaction_twice_changes_nothing(stub, post, bob):
    first = await react(stub, bob, post, LIKE)

    again = await react(stub, bob, post, LIKE)

    assert again == first
    assert await reaction_counts(stub, bob, post) == {"LIKE": 1}


async def test_unreact_takes_it_back_and_is_idempotent(stub, post, bob):
    await react(stub, bob, post)

    await unreact(stub, bob, post)
    await unreact(stub, bob, post)

    assert await reaction_counts(stub, bob, post) == {}


async def test_counts_of_many_targets_in_order_with_every_kind(
    stub, content_stub, post, alice, bob
):
    other = post_target((await create_post(content_stub, bob)).id)
    await react(stub, bob, post, LIKE)
    await react(stub, alice, post, SAD)
    await react(stub, alice, other, LOVE)
    unknown = post_target(str(uuid.uuid4()))
    request = pb.GetReactionCountsRequest(targets=[other, unknown, post, other])

    reply = await stub.GetReactionCounts(request, metadata=bob.auth)

    assert [c.target for c in reply.counts] == [other, unknown, post]
    assert [c.total for c in reply.counts] == [1, 0, 2]
    assert dict(reply.counts[2].counts) == {"LIKE": 1, "LOVE": 0, "LAUGH": 0, "SAD": 1, "ANGRY": 0}


async def test_counts_tell_target_kinds_apart(stub, post, bob):
    await react(stub, bob, post)
    as_video = pb.Target(kind=pb.TARGET_KIND_VIDEO, id=post.id)

    assert await reaction_counts(stub, bob, as_video) == {}


async def test_counts_of_a_hundred_targets_at_most(stub, rejected, bob):
    targets = [post_target(str(uuid.uuid4())) for _ in range(101)]

    failure = await rejected(
        stub.GetReactionCounts(pb.GetReactionCountsRequest(targets=targets), metadata=bob.auth)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["targets"]


async def test_a_first_reaction_notifies_the_author_once(stub, post, alice, bob):
    await react(stub, bob, post, LIKE)
    await react(stub, bob, post, LOVE)
    await unreact(stub, bob, post)
    await react(stub, bob, post, LIKE)

    assert await notified(stub, alice) == [(pb.NOTIFICATION_KIND_REACTION, bob.id)]
    [notification] = (
        await stub.ListNotifications(pb.ListNotificationsRequest(), metadata=alice.auth)
    ).notifications
    assert notification.target == post


async def test_reacting_to_ones_own_post_notifies_nobody(stub, post, alice):
    await react(stub, alice, post)

    assert await notified(stub, alice) == []
    assert await reaction_counts(stub, alice, post) == {"LIKE": 1}


async def test_reacting_to_the_post_of_a_user_one_blocks_is_refused(
    stub, rejected, post, alice, bob
):
    await stub.Block(pb.BlockRequest(user_id=alice.id), metadata=bob.auth)

    failure = await rejected(stub.React(pb.ReactRequest(target=post, kind=LIKE), metadata=bob.auth))

    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert await reaction_counts(stub, bob, post) == {}


async def test_reacting_to_the_post_of_an_author_who_blocks_one_is_not_found(
    stub, rejected, post, alice, bob
):
    await stub.Block(pb.BlockRequest(user_id=bob.id), metadata=alice.auth)

    failure = await rejected(stub.React(pb.ReactRequest(target=post, kind=LIKE), metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND  # content shows them nothing of hers
    assert await reaction_counts(stub, bob, post) == {}


async def test_reacting_to_a_post_that_does_not_exist_is_not_found(stub, rejected, bob):
    target = post_target(str(uuid.uuid4()))

    failure = await rejected(
        stub.React(pb.ReactRequest(target=target, kind=LIKE), metadata=bob.auth)
    )

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reasons == ["POST_NOT_FOUND"]


async def test_reacting_to_a_post_one_may_not_see_is_not_found(
    stub, content_stub, rejected, alice, bob
):
    private = await create_post(content_stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    request = pb.ReactRequest(target=post_target(private.id), kind=LIKE)

    failure = await rejected(stub.React(request, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_followers_post_takes_a_followers_reaction(stub, content_stub, alice, bob):
    await follow(stub, bob, alice)
    theirs = await create_post(content_stub, alice, visibility=content_pb2.VISIBILITY_FOLLOWERS)
    target = post_target(theirs.id)

    await react(stub, bob, target)

    assert await reaction_counts(stub, bob, target) == {"LIKE": 1}


async def test_a_followers_post_refuses_a_stranger_as_not_found(
    stub, content_stub, rejected, alice, bob
):
    theirs = await create_post(content_stub, alice, visibility=content_pb2.VISIBILITY_FOLLOWERS)
    target = post_target(theirs.id)

    failure = await rejected(
        stub.React(pb.ReactRequest(target=target, kind=LIKE), metadata=bob.auth)
    )

    assert (failure.code, failure.reasons) == (grpc.StatusCode.NOT_FOUND, ["POST_NOT_FOUND"])
    assert await reaction_counts(stub, alice, target) == {}


async def test_a_moderated_post_takes_no_reaction(
    stub, content_stub, service_auth, rejected, post, bob
):
    await hide_post(content_stub, service_auth, post.id)

    failure = await rejected(stub.React(pb.ReactRequest(target=post, kind=LIKE), metadata=bob.auth))

    assert (failure.code, failure.reasons) == (grpc.StatusCode.NOT_FOUND, ["POST_NOT_FOUND"])


async def test_a_published_video_takes_reactions(stub, content_stub, tokens, alice, bob):
    video = await create_video(content_stub, alice)
    pipeline = (("authorization", f"Bearer {tokens.issue_service('media')}"),)
    await content_stub.MarkVideoUploaded(
        content_pb2.MarkVideoUploadedRequest(id=video.id), metadata=pipeline
    )
    done = content_pb2.CompleteVideoProcessingRequest(
        id=video.id,
        hls_url="https://cdn.example.com/v.m3u8",
        thumbnail_url="https://cdn.example.com/v.jpg",
        duration=duration_pb2.Duration(seconds=10),
        resolution="1280x720",
    )
    await content_stub.CompleteVideoProcessing(done, metadata=pipeline)
    target = pb.Target(kind=pb.TARGET_KIND_VIDEO, id=video.id)

    await react(stub, bob, target, LOVE)

    assert await reaction_counts(stub, bob, target) == {"LOVE": 1}
    assert await notified(stub, alice) == [(pb.NOTIFICATION_KIND_REACTION, bob.id)]


async def test_an_unpublished_video_of_another_user_is_not_found(
    stub, content_stub, rejected, alice, bob
):
    video = await create_video(content_stub, alice)
    request = pb.ReactRequest(target=pb.Target(kind=pb.TARGET_KIND_VIDEO, id=video.id), kind=LIKE)

    failure = await rejected(stub.React(request, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_a_first_reaction_to_a_comment_notifies_its_author(
    stub, content_stub, post, alice, bob, carol
):
    comment = await create_comment(content_stub, carol, post.id)
    target = pb.Target(kind=pb.TARGET_KIND_COMMENT, id=comment.id)

    await react(stub, bob, target)

    assert await reaction_counts(stub, bob, target) == {"LIKE": 1}
    assert await notified(stub, carol) == [(pb.NOTIFICATION_KIND_REACTION, bob.id)]


async def test_reacting_to_a_comment_one_may_not_see_is_not_found(
    stub, content_stub, rejected, alice, bob
):
    private = await create_post(content_stub, alice, visibility=content_pb2.VISIBILITY_PRIVATE)
    comment = await create_comment(content_stub, alice, private.id)
    target = pb.Target(kind=pb.TARGET_KIND_COMMENT, id=comment.id)
    request = pb.ReactRequest(target=target, kind=LIKE)

    failure = await rejected(stub.React(request, metadata=bob.auth))

    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert failure.reasons == ["COMMENT_NOT_FOUND"]


async def test_reactions_are_listed_newest_first(stub, post, accounts):
    fans = [await accounts.create() for _ in range(3)]
    for fan in fans:
        await react(stub, fan, post, SAD)
    request = pb.ListReactionsRequest(target=post, page_size=2)

    first = await stub.ListReactions(request, metadata=fans[0].auth)
    request.page_token = first.next_page_token
    second = await stub.ListReactions(request, metadata=fans[0].auth)

    listed = [(r.user_id, r.kind) for r in [*first.reactions, *second.reactions]]
    assert listed == [(fan.id, SAD) for fan in reversed(fans)]
    assert not second.next_page_token


@pytest.mark.parametrize(
    ("target", "kind", "field"),
    [
        (pb.Target(id=str(uuid.uuid4())), LIKE, "target.kind"),
        (pb.Target(kind=pb.TARGET_KIND_POST, id="x"), LIKE, "target.id"),
        (pb.Target(kind=pb.TARGET_KIND_POST), LIKE, "target.id"),
        (pb.Target(kind=pb.TARGET_KIND_POST, id=str(uuid.uuid4())), 0, "kind"),
        (pb.Target(kind=pb.TARGET_KIND_POST, id=str(uuid.uuid4())), 99, "kind"),
    ],
)
async def test_react_names_the_bad_field(stub, rejected, bob, target, kind, field):
    failure = await rejected(
        stub.React(pb.ReactRequest(target=target, kind=kind), metadata=bob.auth)
    )

    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == [field]


async def test_unreact_and_lists_name_the_bad_target(stub, rejected, bob):
    bad = pb.Target(kind=pb.TARGET_KIND_POST, id="nope")

    for call in (
        stub.Unreact(pb.UnreactRequest(target=bad), metadata=bob.auth),
        stub.ListReactions(pb.ListReactionsRequest(target=bad), metadata=bob.auth),
        stub.GetReactionCounts(pb.GetReactionCountsRequest(targets=[bad]), metadata=bob.auth),
    ):
        failure = await rejected(call)
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
