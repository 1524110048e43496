"""Races: counts stay exact and the graph consistent whatever runs at the same time.

Every race runs as many calls at once as the in-process servers accept, through the
public API; the assertions compare the answers with the rows themselves.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import grpc

from daira.social.v1 import social_pb2 as pb

from .conftest import create_post, follow, post_target, reaction_counts, stats

KINDS = ["LIKE", "LOVE", "LAUGH", "SAD", "ANGRY"]
REACTORS = 500
FOLLOWERS = 300
PAIRS = 12


async def test_parallel_reactions_leave_counts_equal_to_the_rows(
    stub, content_stub, social_db, alice, mint
):
    post = post_target((await create_post(content_stub, alice)).id)
    rng = random.Random(500)
    # Each user reacts, may change their mind, may take it back: in order for one user,
    # all users at once.
    scripts = [
        (mint(), [rng.choice(KINDS) for _ in range(rng.randint(1, 2))], rng.random() < 0.3)
        for _ in range(REACTORS)
    ]

    async def run(user, kinds, takes_back):
        for kind in kinds:
            request = pb.ReactRequest(
                target=post, kind=pb.ReactionKind.Value(f"REACTION_KIND_{kind}")
            )
            await stub.React(request, metadata=user.auth)
        if takes_back:
            await stub.Unreact(pb.UnreactRequest(target=post), metadata=user.auth)

    await asyncio.gather(*(run(*script) for script in scripts))

    expected = Counter(kinds[-1] for _, kinds, takes_back in scripts if not takes_back)
    rows = await social_db.sql(
        "SELECT upper(kind), count(*) FROM reactions WHERE target_id = %s GROUP BY kind", post.id
    )
    counted = await social_db.sql(
        "SELECT upper(kind), sum(count) FROM reaction_counts WHERE target_id = %s "
        "GROUP BY kind HAVING sum(count) <> 0",
        post.id,
    )
    assert dict(rows) == dict(counted) == dict(expected)
    assert await reaction_counts(stub, alice, post) == dict(expected)
    reacted = sum(1 for _, _, takes_back in scripts if not takes_back)
    assert sum(dict(rows).values()) == reacted


async def test_two_users_following_each_other_at_once_become_friends_once(
    stub, social_db, accounts
):
    pairs = [(await accounts.create(), await accounts.create()) for _ in range(PAIRS)]

    await asyncio.gather(
        *(call for a, b in pairs for call in (follow(stub, a, b), follow(stub, b, a)))
    )

    for a, b in pairs:
        rows = await social_db.sql(
            "SELECT count(*) FROM friendships WHERE user_id IN (%s, %s) AND friend_id IN (%s, %s)",
            a.id, b.id, a.id, b.id,
        )  # fmt: skip
        assert rows == [(2,)]
        assert await stats(stub, a, a) == (1, 1, 1)
        assert await stats(stub, a, b) == (1, 1, 1)


async def test_a_block_racing_follows_never_leaves_a_follow(stub, social_db, accounts):
    pairs = [(await accounts.create(), await accounts.create()) for _ in range(PAIRS)]
    for a, b in pairs[::2]:  # half of them already follow each other
        await follow(stub, a, b)
        await follow(stub, b, a)

    async def attempt(call):
        try:
            await call
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return err.code()
        return grpc.StatusCode.OK

    outcomes = await asyncio.gather(
        *(
            attempt(call)
            for a, b in pairs
            for call in (
                follow(stub, a, b),
                stub.Block(pb.BlockRequest(user_id=a.id), metadata=b.auth),
                follow(stub, b, a),
            )
        )
    )

    assert set(outcomes) <= {grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION}
    for a, b in pairs:
        follows = await social_db.sql(
            "SELECT count(*) FROM follows WHERE (follower_id, followee_id) IN ((%s, %s), (%s, %s))",
            a.id, b.id, b.id, a.id,
        )  # fmt: skip
        assert follows == [(0,)]
        assert await stats(stub, a, a) == (0, 0, 0)
        assert await stats(stub, a, b) == (0, 0, 0)


async def test_a_hot_users_followers_are_counted_exactly_without_one_hot_row(
    stub, social_db, alice, mint
):
    fans = [mint() for _ in range(FOLLOWERS)]

    await asyncio.gather(*(follow(stub, fan, alice) for fan in fans))

    assert await stats(stub, alice, alice) == (FOLLOWERS, 0, 0)
    [(slots,)] = await social_db.sql(
        "SELECT count(*) FROM user_counts WHERE user_id = %s", alice.id
    )
    assert 1 < slots <= 8  # spread over the striped slots, not one row

    await asyncio.gather(
        *(stub.Unfollow(pb.UnfollowRequest(user_id=alice.id), metadata=f.auth) for f in fans)
    )

    assert await stats(stub, alice, alice) == (0, 0, 0)
