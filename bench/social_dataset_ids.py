"""What the social scenarios use, picked from the seeded database as the bench user sees it.

Follow's strangers and React's posts are single-use (each write must insert a row), so a
pool of each is drawn, shuffled; the users and targets the reads sample are drawn once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import psycopg

from bench.dataset import libpq


@dataclass(frozen=True)
class SocialIds:
    """What the social scenarios read and write, as the bench user."""

    strangers: list[str]  # users the bench user does not follow, shuffled: Follow's targets
    others: list[str]  # followed, followers and strangers, for GetRelationships
    hottest: list[str]  # the most followed users, whom the bench user follows
    posts: list[str]  # reacted-to posts, shuffled: React's targets
    targets: list[tuple[str, str]]  # (kind, id) of reacted-to targets, for GetReactionCounts


def pick(url: str, user_ids: list[str], bench_id: str, pool: int, rng: random.Random) -> SocialIds:
    """`pool` of each single-use kind (Follow's strangers, React's posts)."""
    with psycopg.connect(libpq(url)) as conn:

        def column(query: str, *args: object) -> list[str]:
            return [str(row[0]) for row in conn.execute(query, args)]  # type: ignore[call-overload]

        followed = set(column("SELECT followee_id FROM follows WHERE follower_id = %s", bench_id))
        fans = column("SELECT follower_id FROM follows WHERE followee_id = %s", bench_id)
        hottest = column(
            "SELECT user_id FROM user_counts GROUP BY user_id ORDER BY sum(followers) DESC LIMIT 20"
        )
        posts = column("SELECT DISTINCT target_id FROM reaction_counts WHERE target_kind = 'post'")
        hot_targets = conn.execute(
            "SELECT target_kind, target_id FROM reaction_counts "
            "GROUP BY 1, 2 ORDER BY sum(count) DESC LIMIT 100"
        ).fetchall()
        any_targets = conn.execute(
            "SELECT target_kind, target_id FROM reaction_counts GROUP BY 1, 2 "
            "ORDER BY random() LIMIT 4900"
        ).fetchall()
    strangers = [user for user in user_ids if user not in followed]
    rng.shuffle(strangers)
    rng.shuffle(posts)
    others = rng.sample(sorted(followed), min(len(followed), 1000))
    others += rng.sample(fans, min(len(fans), 2000)) + strangers[-2000:]
    targets = [(kind, str(target)) for kind, target in hot_targets + any_targets]
    return SocialIds(strangers[:pool], others, hottest, posts[:pool], targets)
