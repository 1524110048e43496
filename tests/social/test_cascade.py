"""A deleted account's users.user.deleted event removes everything social holds of it:
follows and requests both ways with the other users' counts and friendships exact, blocks
and mutes both ways, its reactions with their targets' counts, and the notifications to
and from it; once per event, whatever else the family carries."""

from __future__ import annotations

from daira.social.v1 import social_pb2 as pb
from services.social import cascade
from shared.streams import USERS_ACCOUNTS
from tests import harness
from tests.users.conftest import status_changed, user_deleted

from .conftest import (
    create_post,
    follow,
    listed,
    lock,
    notified,
    post_target,
    react,
    reaction_counts,
    relationship,
    stats,
)


async def followers(stub, caller, user) -> list[str]:
    request = pb.ListFollowersRequest(user_id=user.id, page_size=100)
    return await listed(stub.ListFollowers, request, caller, "followers")


async def test_a_deleted_users_graph_reactions_and_notifications_go(
    stub, content_stub, users_stub, redis_url, accounts, alice, bob, carol
):
    shy, blocked, muter = [await accounts.create() for _ in range(3)]
    await lock(users_stub, shy)
    for who, whom in ((alice, bob), (bob, alice), (carol, alice), (carol, bob), (alice, shy)):
        await follow(stub, who, whom)
    await stub.Block(pb.BlockRequest(user_id=blocked.id), metadata=alice.auth)
    await stub.Mute(pb.MuteRequest(user_id=alice.id, notifications=True), metadata=muter.auth)
    target = post_target((await create_post(content_stub, bob)).id)
    await react(stub, alice, target, pb.REACTION_KIND_LOVE)
    await react(stub, carol, target)

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(alice.id))

    assert await harness.settled(lambda: stats(stub, bob, bob), (1, 0, 0)) == (1, 0, 0)
    assert await stats(stub, bob, carol) == (0, 1, 0)
    assert await stats(stub, bob, alice) == (0, 0, 0)
    assert await followers(stub, bob, bob) == [carol.id]
    carols = {"LIKE": 1}
    assert await harness.settled(lambda: reaction_counts(stub, bob, target), carols) == carols
    listing = await stub.ListReactions(pb.ListReactionsRequest(target=target), metadata=bob.auth)
    assert [r.user_id for r in listing.reactions] == [carol.id]
    only_carols = [
        (pb.NOTIFICATION_KIND_REACTION, carol.id),
        (pb.NOTIFICATION_KIND_FOLLOW, carol.id),
    ]
    assert await harness.settled(lambda: notified(stub, bob), only_carols) == only_carols
    assert await notified(stub, alice) == []
    requests = pb.ListFollowRequestsRequest()
    assert await listed(stub.ListFollowRequests, requests, shy, "requests") == []
    assert (await relationship(stub, blocked, alice)).blocked_by is False
    assert (await stub.ListMutes(pb.ListMutesRequest(), metadata=muter.auth)).mutes == []
    for other in (bob, carol):
        seen = await relationship(stub, other, alice)
        assert (seen.following, seen.followed_by, seen.friends) == (False, False, False)


async def test_a_user_with_more_follows_than_a_batch_loses_them_all(
    stub, redis_url, accounts, mint, monkeypatch
):
    monkeypatch.setattr(cascade, "BATCH", 3)
    gone, kept, friend = [await accounts.create() for _ in range(3)]
    fans = [mint() for _ in range(8)]
    for fan in fans:
        await follow(stub, fan, gone)
        await follow(stub, fan, kept)
    await follow(stub, gone, friend)
    await follow(stub, friend, gone)

    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(gone.id))

    assert await harness.settled(lambda: stats(stub, kept, gone), (0, 0, 0)) == (0, 0, 0)
    assert {await stats(stub, kept, fan) for fan in fans} == {(0, 1, 0)}
    assert await stats(stub, kept, kept) == (8, 0, 0)
    assert await stats(stub, kept, friend) == (0, 0, 0)


async def test_a_duplicate_delivery_uncounts_once(stub, redis_url, accounts, mint):
    gone, stays, marker = [await accounts.create() for _ in range(3)]
    fans = [mint() for _ in range(2)]
    for fan in fans:
        await follow(stub, fan, stays)
    await follow(stub, stays, gone)
    await follow(stub, fans[0], marker)
    event = user_deleted(gone.id)

    await harness.publish(redis_url, USERS_ACCOUNTS, event)
    await harness.publish(redis_url, USERS_ACCOUNTS, event)
    # Handled after both copies: the group reads its stream in order.
    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(marker.id))

    assert await harness.settled(lambda: stats(stub, stays, marker), (0, 0, 0)) == (0, 0, 0)
    assert await stats(stub, stays, stays) == (2, 0, 0)
    assert await stats(stub, stays, fans[0]) == (0, 1, 0)


async def test_other_events_of_the_family_change_nothing(stub, redis_url, accounts, mint):
    kept, marker = [await accounts.create() for _ in range(2)]
    fan = mint()
    await follow(stub, fan, kept)
    await follow(stub, fan, marker)

    await harness.publish(redis_url, USERS_ACCOUNTS, status_changed(kept.id))
    await harness.publish(redis_url, USERS_ACCOUNTS, user_deleted(marker.id))

    assert await harness.settled(lambda: stats(stub, fan, fan), (0, 1, 0)) == (0, 1, 0)
    assert await stats(stub, fan, kept) == (1, 0, 0)


async def test_a_deletion_naming_no_user_ends_in_the_dead_letters(stub, redis_url):
    event = user_deleted("not-a-uuid")

    await harness.publish(redis_url, USERS_ACCOUNTS, event)

    letter = await harness.dead_letter(redis_url, USERS_ACCOUNTS, event.id, group=cascade.GROUP)
    assert letter is not None
