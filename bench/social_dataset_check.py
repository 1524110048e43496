"""The bench's social database checked after seeding: no row breaks what the service keeps.

Every user_counts slot sum equals the user's active follows each way and friendship rows,
a friendship is a mutual active follow stored in both directions and no older than its
follows, a block has no follow either way, and reaction_counts slot sums equal the
reactions by kind. One statement counts the rows breaking each.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from bench.dataset import libpq

# Rows breaking an invariant the service keeps (each count must be 0).
CHECK_SQL = """
WITH counted AS (
    SELECT user_id, sum(followers) AS followers, sum(following) AS following,
           sum(friends) AS friends
    FROM user_counts GROUP BY user_id
), followers AS (
    SELECT followee_id AS user_id, count(*) AS n FROM follows WHERE state = 'active' GROUP BY 1
), following AS (
    SELECT follower_id AS user_id, count(*) AS n FROM follows WHERE state = 'active' GROUP BY 1
), friends AS (
    SELECT user_id, count(*) AS n FROM friendships GROUP BY 1
), reacted AS (
    SELECT target_id, target_kind, kind, count(*) AS n FROM reactions GROUP BY 1, 2, 3
), tallied AS (
    SELECT target_id, target_kind, kind, sum(count) AS n FROM reaction_counts GROUP BY 1, 2, 3
)
SELECT
    (SELECT count(*) FROM counted AS c
     FULL JOIN followers AS a USING (user_id) FULL JOIN following AS b USING (user_id)
     FULL JOIN friends AS f USING (user_id)
     WHERE coalesce(c.followers, 0) <> coalesce(a.n, 0)
        OR coalesce(c.following, 0) <> coalesce(b.n, 0)
        OR coalesce(c.friends, 0) <> coalesce(f.n, 0)),
    (SELECT count(*) FROM friendships AS f
     WHERE NOT EXISTS (SELECT 1 FROM follows AS g WHERE g.follower_id = f.user_id
                       AND g.followee_id = f.friend_id AND g.state = 'active'
                       AND g.created_at <= f.created_at)
        OR NOT EXISTS (SELECT 1 FROM follows AS g WHERE g.follower_id = f.friend_id
                       AND g.followee_id = f.user_id AND g.state = 'active'
                       AND g.created_at <= f.created_at)),
    (SELECT count(*) FROM follows AS f
     JOIN follows AS g ON g.follower_id = f.followee_id AND g.followee_id = f.follower_id
     WHERE f.state = 'active' AND g.state = 'active')
        - (SELECT count(*) FROM friendships),
    (SELECT count(*) FROM blocks AS b
     WHERE EXISTS (SELECT 1 FROM follows AS f
                   WHERE f.follower_id = b.blocker_id AND f.followee_id = b.blocked_id)
        OR EXISTS (SELECT 1 FROM follows AS f
                   WHERE f.follower_id = b.blocked_id AND f.followee_id = b.blocker_id)),
    (SELECT count(*) FROM reacted AS r FULL JOIN tallied AS t
       USING (target_id, target_kind, kind)
     WHERE coalesce(r.n, 0) <> coalesce(t.n, 0))
"""
INVARIANTS = (
    "user_counts slot sums equal the follows and friendships",
    "each friendship row has both follows, active, and is no older than them",
    "each mutual active follow has its friendship rows (as many of them as of those)",
    "no follow between users where one blocks the other",
    "reaction_counts slot sums equal the reactions by kind",
)


@dataclass(frozen=True)
class Seeded:
    users: int
    follows: int
    friendships: int
    reactions: int
    top_followers: int


def check(url: str) -> Seeded:
    """Raise if any seeded row breaks an invariant the service keeps; what was seeded."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET work_mem = '256MB'")
        broken = conn.execute(CHECK_SQL).fetchone()
        assert broken is not None
        failures = [
            f"{n} rows break: {what}" for n, what in zip(broken, INVARIANTS, strict=True) if n
        ]
        if failures:
            raise RuntimeError("social seed is inconsistent: " + "; ".join(failures))
        row = conn.execute(
            "SELECT (SELECT count(DISTINCT user_id) FROM user_counts), "
            "(SELECT count(*) FROM follows), (SELECT count(*) FROM friendships), "
            "(SELECT count(*) FROM reactions), "
            "(SELECT max(n) FROM (SELECT sum(followers) AS n FROM user_counts GROUP BY user_id))"
        ).fetchone()
    assert row is not None
    return Seeded(*(int(value) for value in row))
