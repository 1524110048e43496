"""Reactions told as social.reaction.changed, and what content makes of them: a post's
reactions count towards its engagement, so they rank it in trending."""

from __future__ import annotations

import pytest

from daira.social.v1 import social_events_pb2
from daira.social.v1 import social_pb2 as pb
from shared.eventing import payload
from shared.outbox import envelope
from shared.streams import SOCIAL_REACTIONS, USERS_ACCOUNTS
from tests import harness
from tests.content.conftest import trending_ids
from tests.users.conftest import user_deleted

from .conftest import Database, create_comment, create_post, post_target, react

NONE, LIKE, LOVE = pb.REACTION_KIND_UNSPECIFIED, pb.REACTION_KIND_LIKE, pb.REACTION_KIND_LOVE


@pytest.fixture(scope="session")
def content_db(content_db_url: str) -> Database:
    return Database(content_db_url)


async def told(redis_url: str, target_id: str) -> list[tuple[str, int, int]]:
    """(user, previous, current) of the target's reaction events published so far (once
    there is one)."""
    events = await harness.published(redis_url, SOCIAL_REACTIONS, target_id)
    found = (payload(event, social_events_pb2.ReactionChanged) for event in events)
    return [(changed.user_id, changed.previous, changed.current) for changed in found]


async def assert_told(redis_url: str, target_id: str, *expected: tuple[str, int, int]) -> None:
    """That the target's reaction events are `expected`, once they are published."""
    wanted = list(expected)
    assert await harness.settled(lambda: told(redis_url, target_id), wanted) == wanted


async def engagement(content_db: Database, post_id: str) -> int:
    [(value,)] = await content_db.sql("SELECT engagement FROM posts WHERE id = %s", post_id)
    return value


async def engagement_once(content_db: Database, post_id: str, expected: int) -> int:
    return await harness.settled(lambda: engagement(content_db, post_id), expected)


async def handled_so_far(stub, content_stub, content_db, author, reader) -> None:
    """Until content has handled every reaction event published before: a reaction to a
    post of its own, published after them, is counted (events are handled in order)."""
    marker = await create_post(content_stub, author)
    await react(stub, reader, post_target(marker.id), LIKE)
    assert await engagement_once(content_db, marker.id, 1) == 1


# --- what social tells -------------------------------------------------------------------


async def test_a_first_reaction_is_told_as_changed_from_none(
    stub, content_stub, redis_url, alice, bob
):
    post = await create_post(content_stub, alice)

    await react(stub, bob, post_target(post.id), LIKE)

    await assert_told(redis_url, post.id, (bob.id, NONE, LIKE))


async def test_a_changed_reaction_is_told_with_both_kinds(
    stub, content_stub, redis_url, alice, bob
):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), LIKE)

    await react(stub, bob, post_target(post.id), LOVE)

    await assert_told(redis_url, post.id, (bob.id, NONE, LIKE), (bob.id, LIKE, LOVE))


async def test_reacting_again_with_the_same_kind_tells_nothing(
    stub, content_stub, redis_url, alice, bob
):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), LIKE)
    await react(stub, bob, post_target(post.id), LIKE)

    await react(stub, bob, post_target(post.id), LOVE)

    await assert_told(redis_url, post.id, (bob.id, NONE, LIKE), (bob.id, LIKE, LOVE))


async def test_a_withdrawn_reaction_is_told_as_changed_to_none(
    stub, content_stub, redis_url, alice, bob
):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), LOVE)

    await stub.Unreact(pb.UnreactRequest(target=post_target(post.id)), metadata=bob.auth)

    await assert_told(redis_url, post.id, (bob.id, NONE, LOVE), (bob.id, LOVE, NONE))


# --- what content makes of it ------------------------------------------------------------


async def test_a_reaction_adds_one_to_the_posts_engagement(
    stub, content_stub, content_db, alice, bob
):
    post = await create_post(content_stub, alice)

    await react(stub, bob, post_target(post.id), LIKE)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1


async def test_a_withdrawn_reaction_takes_its_one_back(stub, content_stub, content_db, alice, bob):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), LIKE)
    await engagement_once(content_db, post.id, 1)

    await stub.Unreact(pb.UnreactRequest(target=post_target(post.id)), metadata=bob.auth)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 0


async def test_a_changed_kind_adds_nothing(stub, content_stub, content_db, alice, bob):
    post = await create_post(content_stub, alice)
    await react(stub, bob, post_target(post.id), LIKE)

    await react(stub, bob, post_target(post.id), LOVE)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1


async def test_reactions_and_comments_add_up(stub, content_stub, content_db, alice, bob, carol):
    post = await create_post(content_stub, alice)
    await create_comment(content_stub, carol, post.id)

    await react(stub, bob, post_target(post.id), LIKE)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 2


async def test_an_event_delivered_twice_counts_once(
    stub, content_stub, content_db, redis_url, alice, bob
):
    post = await create_post(content_stub, alice)
    changed = social_events_pb2.ReactionChanged(
        target=post_target(post.id), user_id=bob.id, previous=NONE, current=LIKE
    )
    event = envelope("social.reaction.changed", post.id, changed, request_id="test")
    await harness.publish(redis_url, SOCIAL_REACTIONS, event)

    await harness.publish(redis_url, SOCIAL_REACTIONS, event)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1


async def test_a_reaction_to_a_comment_adds_nothing_to_its_post(
    stub, content_stub, content_db, alice, bob
):
    post = await create_post(content_stub, alice)
    comment = await create_comment(content_stub, alice, post.id)

    await react(stub, bob, pb.Target(kind=pb.TARGET_KIND_COMMENT, id=comment.id), LIKE)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1


async def test_a_reaction_lifts_a_post_above_a_newer_one_in_trending(
    stub, content_stub, content_db, alice, bob
):
    liked = await create_post(content_stub, alice)
    newer = await create_post(content_stub, alice)
    ranked = await trending_ids(content_stub, bob)
    assert ranked.index(newer.id) < ranked.index(liked.id)

    await react(stub, bob, post_target(liked.id), LIKE)
    await handled_so_far(stub, content_stub, content_db, alice, bob)

    ranked = await trending_ids(content_stub, bob)
    assert ranked.index(liked.id) < ranked.index(newer.id)


async def test_a_deleted_users_reactions_are_told_as_withdrawn_and_uncounted(
    stub, content_stub, content_db, redis_url, accounts, alice, bob
):
    gone = await accounts.create()
    post = await create_post(content_stub, alice)
    await react(stub, gone, post_target(post.id), LOVE)
    await react(stub, bob, post_target(post.id), LIKE)

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(gone.id))

    await assert_told(
        redis_url, post.id, (gone.id, NONE, LOVE), (bob.id, NONE, LIKE), (gone.id, LOVE, NONE)
    )
    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1


async def test_reactions_told_together_move_engagement_by_their_sum(
    stub, content_stub, content_db, redis_url, alice, bob, carol
):
    post = await create_post(content_stub, alice)
    told = [(bob.id, NONE, LIKE), (carol.id, NONE, LOVE), (bob.id, LIKE, NONE)]
    for user, previous, current in told:
        changed = social_events_pb2.ReactionChanged(
            target=post_target(post.id), user_id=user, previous=previous, current=current
        )
        event = envelope("social.reaction.changed", post.id, changed, request_id="test")
        await harness.publish(redis_url, SOCIAL_REACTIONS, event)

    await handled_so_far(stub, content_stub, content_db, alice, bob)
    assert await engagement(content_db, post.id) == 1
