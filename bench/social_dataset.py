"""The bench's social database: provisioned fresh, migrated, seeded set-based in SQL.

The graph is drawn on integers in temp tables and written once to each table with its
secondary indexes dropped (shared.bulkload), so millions of follows take a minute, not
the hours Follow would. Followee rank r (a random permutation of the seeded users) has
about top / r^s followers, a Zipf law whose exponent is solved for the wanted total:
the top user is followed by nearly everyone, most users by a few. A rank's followers
are distinct by construction: the users at a + k·step (mod n), step coprime with n.
Users outside the FAMOUS top ranks follow back one follower in three. Over
1,000,000 users: about 6,000,000 follows, the top user's 950,000 among them, in 80 s.

Everything the service keeps consistent is kept here: user_counts are striped over as
many slots as the count, up to the service's counter_slots, and friendships are written
in both directions, dated by the later follow (social_dataset_check verifies it all;
social_dataset_ids picks what the scenarios use).

The bench user (registered before seeding) follows the 200 most followed users and 300
of its 5,000 followers, who are thus its friends; each of those follows notified its
followee, and the newest 300 notifications of the bench user are unread. Reactions are
to the content dataset's listed posts and their comments (so content shows real
counts), by distinct users, about top / t^s of them on the t-th target.
"""

from __future__ import annotations

import math

import psycopg

from bench import dataset
from bench.dataset import libpq, uuid7
from services.social import SPEC
from services.social.settings import SocialSettings
from shared.bulkload import fill_without_indexes

DATABASE = "daira_social_bench"
FOLLOWS = 6_000_000
# Users ranked after the first FAMOUS follow back one in RECIPROCITY of their followers.
FAMOUS = 1000
RECIPROCITY = 0.3
TOP_SHARE = 0.95  # of all users follow the top one
REACTIONS = 1_500_000
TOP_REACTIONS = 100_000
# The bench user's edges (see the module docstring).
BENCH_FOLLOWS_TOP = 200
BENCH_FOLLOWERS = 5000
BENCH_FRIENDS = 300
BENCH_UNREAD = 300
SLOTS = SocialSettings.model_fields["counter_slots"].default
TABLES = (
    "follows", "friendships", "user_counts", "blocks", "mutes", "reactions", "reaction_counts",
    "notifications",
)  # fmt: skip

# Temp tables of integers (user n, target t), then one INSERT per table joining the ids.
# The bench user is user n + 1, outside the ranking. Volatile random() in a CTE keeps
# it from being inlined, so each row draws once.
SEED_SQL = [
    "SELECT setseed(%(seed)s)",
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL maintenance_work_mem = '1GB'",
    """
CREATE TEMP TABLE seed_users ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY random()))::int AS n, id
FROM unnest(%(users)s::uuid[]) AS u(id)
UNION ALL SELECT %(n)s + 1, %(bench)s
""",
    "ALTER TABLE seed_users ADD PRIMARY KEY (n)",
    """
CREATE TEMP TABLE seed_follows ON COMMIT DROP AS
WITH ranked AS (
    SELECT r, floor(random() * %(n)s)::bigint AS a,
           least(%(n)s - 1, floor(%(top)s * power(r, -%(exponent)s)))::bigint AS d
    FROM generate_series(1, %(n)s) AS r
), drawn AS (
    SELECT (1 + (a + k * %(step)s) %% %(n)s)::int AS follower, r AS followee,
           now() - interval '730 days' * power(random(), 2) AS created_at
    FROM ranked, generate_series(0::bigint, d - 1) AS k
)
SELECT * FROM drawn WHERE follower <> followee
""",
    "ALTER TABLE seed_follows ADD PRIMARY KEY (follower, followee)",
    """
INSERT INTO seed_follows
SELECT f.followee, f.follower, f.created_at + (now() - f.created_at) * random()
FROM seed_follows AS f
WHERE f.followee > %(famous)s AND random() < %(reciprocity)s
  AND NOT EXISTS (SELECT 1 FROM seed_follows AS g
                  WHERE g.follower = f.followee AND g.followee = f.follower)
""",
    # The bench user's followers, the first BENCH_FRIENDS of them followed back.
    """
CREATE TEMP TABLE seed_fans ON COMMIT DROP AS
SELECT n, row_number() OVER () AS k,
       now() - interval '365 days' * power(random(), 2) AS created_at
FROM (SELECT n FROM generate_series(%(famous)s + 1, %(n)s) AS n
      ORDER BY random() LIMIT %(bench_followers)s) AS drawn
""",
    """
INSERT INTO seed_follows
SELECT n, %(n)s + 1, created_at FROM seed_fans
UNION ALL
SELECT %(n)s + 1, n, created_at + (now() - created_at) * random() FROM seed_fans
WHERE k <= %(bench_friends)s
UNION ALL
SELECT %(n)s + 1, r, now() - interval '365 days' * random()
FROM generate_series(1, %(bench_follows_top)s) AS r
""",
    """
CREATE TEMP TABLE seed_friends ON COMMIT DROP AS
SELECT f.follower AS a, f.followee AS b, greatest(f.created_at, g.created_at) AS created_at
FROM seed_follows AS f
JOIN seed_follows AS g ON g.follower = f.followee AND g.followee = f.follower
""",
    """
INSERT INTO follows (follower_id, followee_id, state, created_at)
SELECT a.id, b.id, 'active', f.created_at
FROM seed_follows AS f JOIN seed_users AS a ON a.n = f.follower
JOIN seed_users AS b ON b.n = f.followee
ORDER BY 1, 2
""",
    """
INSERT INTO friendships (user_id, friend_id, created_at)
SELECT a.id, b.id, f.created_at
FROM seed_friends AS f JOIN seed_users AS a ON a.n = f.a JOIN seed_users AS b ON b.n = f.b
ORDER BY 1, 2
""",
    # Each count spread over k slots as (t + s) / k for s < k, which sum to t exactly.
    """
WITH tallies AS (
    SELECT n, sum(followers) AS followers, sum(following) AS following,
           sum(friends) AS friends
    FROM (SELECT followee AS n, 1 AS followers, 0 AS following, 0 AS friends FROM seed_follows
          UNION ALL SELECT follower, 0, 1, 0 FROM seed_follows
          UNION ALL SELECT a, 0, 0, 1 FROM seed_friends) AS edges
    GROUP BY n
), striped AS (
    SELECT *, least(%(slots)s, greatest(followers, following, friends))::int AS k FROM tallies
)
INSERT INTO user_counts (user_id, slot, followers, following, friends)
SELECT u.id, s, (t.followers + s) / t.k, (t.following + s) / t.k, (t.friends + s) / t.k
FROM striped AS t JOIN seed_users AS u USING (n), generate_series(0, t.k - 1) AS s
ORDER BY 1, 2
""",
    # Blocks and mutes between users with no follow either way (a block ends them).
    """
CREATE TEMP TABLE seed_pairs ON COMMIT DROP AS
WITH drawn AS (
    SELECT DISTINCT 1 + floor(random() * %(n)s)::int AS a, 1 + floor(random() * %(n)s)::int AS b
    FROM generate_series(1, 2 * %(blocks)s)
)
SELECT a, b, row_number() OVER (ORDER BY random()) AS k,
       now() - interval '365 days' * random() AS created_at
FROM drawn AS d
WHERE a <> b
  AND NOT EXISTS (SELECT 1 FROM seed_follows AS f WHERE f.follower = d.a AND f.followee = d.b)
  AND NOT EXISTS (SELECT 1 FROM seed_follows AS f WHERE f.follower = d.b AND f.followee = d.a)
""",
    """
INSERT INTO blocks (blocker_id, blocked_id, created_at)
SELECT a.id, b.id, p.created_at
FROM seed_pairs AS p JOIN seed_users AS a ON a.n = p.a JOIN seed_users AS b ON b.n = p.b
WHERE p.k %% 2 = 0
""",
    """
INSERT INTO mutes (muter_id, muted_id, notifications, expires_at, created_at)
SELECT a.id, b.id, p.k %% 3 = 1,
       CASE WHEN p.k %% 5 = 1 THEN now() + interval '30 days' END, p.created_at
FROM seed_pairs AS p JOIN seed_users AS a ON a.n = p.a JOIN seed_users AS b ON b.n = p.b
WHERE p.k %% 2 = 1
""",
    # Reactions: the t-th target (in random order) has about top_reactions / t^s of them.
    """
CREATE TEMP TABLE seed_targets ON COMMIT DROP AS
WITH shuffled AS (
    SELECT kind, id, row_number() OVER (ORDER BY random()) AS t
    FROM unnest(%(target_kinds)s::text[], %(target_ids)s::uuid[]) AS g(kind, id)
)
SELECT t, kind, id, now() - interval '30 days' * power(random(), 2) AS ts,
       floor(random() * %(n)s)::bigint AS a,
       greatest(1, least(%(n)s, floor(%(top_reactions)s * power(t, -%(reaction_exponent)s))))
           ::bigint AS d
FROM shuffled
""",
    """
CREATE TEMP TABLE seed_reactions ON COMMIT DROP AS
WITH drawn AS (
    SELECT g.t, 1 + (g.a + k * %(step)s) %% %(n)s AS n,
           (ARRAY['like', 'like', 'like', 'like', 'like', 'like', 'love', 'love', 'laugh',
                  'sad', 'angry'])[1 + floor(random() * 11)::int] AS kind,
           g.ts + (now() - g.ts) * random() AS created_at
    FROM seed_targets AS g, generate_series(0::bigint, g.d - 1) AS k
)
SELECT * FROM drawn
""",
    """
INSERT INTO reactions (target_id, target_kind, user_id, kind, created_at, updated_at)
SELECT g.id, g.kind, u.id, r.kind, r.created_at, r.created_at
FROM seed_reactions AS r JOIN seed_targets AS g USING (t) JOIN seed_users AS u USING (n)
ORDER BY 1, 3
""",
    """
WITH tallies AS (
    SELECT t, kind, count(*) AS c, least(%(slots)s, count(*))::int AS k
    FROM seed_reactions GROUP BY t, kind
)
INSERT INTO reaction_counts (target_id, target_kind, kind, slot, count)
SELECT g.id, g.kind, r.kind, s, (r.c + s) / r.k
FROM tallies AS r JOIN seed_targets AS g USING (t), generate_series(0, r.k - 1) AS s
ORDER BY 1, 2, 3, 4
""",
    # A follow notification for each follow of or by the bench user, as Follow makes.
    """
WITH edges AS (
    SELECT f.followee AS recipient, f.follower AS actor, f.created_at,
           row_number() OVER (PARTITION BY f.followee ORDER BY f.created_at DESC) AS newest
    FROM seed_follows AS f
    WHERE f.followee = %(n)s + 1 OR f.follower = %(n)s + 1
)
INSERT INTO notifications (id, recipient_id, kind, actor_id, created_at, read_at)
SELECT """
    + uuid7("e.created_at")
    + """, r.id, 'follow', a.id, e.created_at,
       CASE WHEN e.recipient <> %(n)s + 1 OR e.newest > %(unread)s
            THEN e.created_at + interval '1 hour' END
FROM edges AS e JOIN seed_users AS r ON r.n = e.recipient JOIN seed_users AS a ON a.n = e.actor
""",
]


def provision(admin_url: str) -> str:
    return dataset.provision(admin_url, SPEC, DATABASE)


def zipf_exponent(count: int, top: float, total: float) -> float:
    """The s for which the sum over ranks 1…count of top / r^s is about `total`."""

    def total_at(s: float) -> float:
        head = 1000
        exact = sum(r**-s for r in range(1, min(head, count) + 1))
        a, b = head + 0.5, count + 0.5  # the rest, as an integral
        rest = math.log(b / a) if abs(s - 1) < 1e-9 else (b ** (1 - s) - a ** (1 - s)) / (1 - s)
        return top * (exact + max(0.0, rest))

    low, high = 0.0, 4.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if total_at(middle) > total else (low, middle)
    return (low + high) / 2


def coprime_step(n: int) -> int:
    """A stride that visits every residue mod n, near n / golden ratio (well spread)."""
    step = max(1, int(n * 0.618))
    while math.gcd(step, n) != 1:
        step += 1
    return step


def seed(
    url: str,
    user_ids: list[str],
    bench_id: str,
    targets: list[tuple[str, str]],
    seed: float,
) -> None:
    """The graph over `user_ids` and the bench user, reactions to `targets` (kind, id),
    and notifications."""
    n = len(user_ids)
    top = TOP_SHARE * n
    top_reactions = min(TOP_REACTIONS, n)
    params = {
        "seed": seed,
        "users": user_ids,
        "bench": bench_id,
        "n": n,
        "top": top,
        "exponent": zipf_exponent(n, top, FOLLOWS),
        "step": coprime_step(n),
        "famous": FAMOUS,
        "reciprocity": RECIPROCITY,
        "bench_followers": BENCH_FOLLOWERS,
        "bench_friends": BENCH_FRIENDS,
        "bench_follows_top": BENCH_FOLLOWS_TOP,
        "slots": SLOTS,
        "blocks": n // 20,
        "target_kinds": [kind for kind, _ in targets],
        "target_ids": [target_id for _, target_id in targets],
        "top_reactions": top_reactions,
        "reaction_exponent": zipf_exponent(len(targets), top_reactions, REACTIONS - len(targets)),
        "unread": BENCH_UNREAD,
    }
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        fill_without_indexes(conn, TABLES, SEED_SQL, params)
        conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")  # type: ignore[arg-type]
