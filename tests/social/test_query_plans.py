"""Every hot query of the social service is answered from an index on big tables.

The statements are the repository's own (services/social/repository*.py), EXPLAINed with
real parameters in a database of their own seeded by set-based SQL: a hot user with
1,000,000 followers and 50,000 of each other list (requests, following, friends, blocks,
mutes) among 1,350,000 follows, a hot post with 200,000 of 300,000 reactions, the hot
user again with 20,000 of 400,000 notifications, and a few hundred thousand
friendships, blocks, mutes and counter slots of 20,000 typical users. The hot user's
lists must come straight from an index in order; a typical user's few rows may be
fetched by index and sorted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from services.social import (
    SPEC,
    repository,
    repository_lists,
    repository_notifications,
    repository_reactions,
)
from shared.bulkload import fill_without_indexes
from tests.harness import plan, seeded_database

from .conftest import DB_PASSWORD

HOT_FOLLOWERS = 1_000_000
# The hot user's pending requests, follows, friends, blocks and mutes, each.
HOT_SHARE = 50_000
USERS = 20_000
POSTS = 10_000


def user(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


HOT_USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
HOT_POST = uuid.UUID("22222222-2222-4222-8222-222222222222")

# Ids and times from integers: u(n) a user, p(n) a post, ago(n) n seconds before now.
SEED = [
    """
    CREATE FUNCTION pg_temp.u(n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
        AS $$ SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid $$
    """,
    """
    CREATE FUNCTION pg_temp.p(n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql
        AS $$ SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid $$
    """,
    """
    CREATE FUNCTION pg_temp.ago(n bigint) RETURNS timestamptz STABLE LANGUAGE sql
        AS $$ SELECT now() - make_interval(secs => n) $$
    """,
    # The hot user: a million followers, and a big share of every other list.
    """
    INSERT INTO follows
    SELECT pg_temp.u(i), %(hot)s, 'active', pg_temp.ago(i)
    FROM generate_series(1, %(hot_followers)s) AS i
    UNION ALL
    SELECT pg_temp.u(i), %(hot)s, 'pending', pg_temp.ago(i)
    FROM generate_series(%(hot_followers)s + 1, %(hot_followers)s + %(share)s) AS i
    UNION ALL
    SELECT %(hot)s, pg_temp.u(i), 'active', pg_temp.ago(i) FROM generate_series(1, %(share)s) AS i
    """,
    """
    INSERT INTO friendships
    SELECT %(hot)s, pg_temp.u(i), pg_temp.ago(i) FROM generate_series(1, %(share)s) AS i
    """,
    """
    INSERT INTO blocks
    SELECT %(hot)s, pg_temp.u(2 * %(hot_followers)s + i), pg_temp.ago(i)
    FROM generate_series(1, %(share)s) AS i
    """,
    """
    INSERT INTO mutes
    SELECT %(hot)s, pg_temp.u(3 * %(hot_followers)s + i), true, NULL, pg_temp.ago(i)
    FROM generate_series(1, %(share)s) AS i
    """,
    # Everyone else: each user follows, befriends, blocks and mutes a few of the next ones
    # (user n's k-th is n + k, n + 10 + k, n + 20 + k); one follow in ten is pending.
    """
    INSERT INTO follows
    SELECT pg_temp.u(i %% %(users)s), pg_temp.u((i %% %(users)s + 1 + i / %(users)s) %% %(users)s),
           CASE WHEN i %% 10 = 0 THEN 'pending' ELSE 'active' END, pg_temp.ago(i)
    FROM generate_series(0, 10 * %(users)s - 1) AS i
    """,
    """
    INSERT INTO friendships
    SELECT pg_temp.u(i %% %(users)s), pg_temp.u((i %% %(users)s + 1 + i / %(users)s) %% %(users)s),
           pg_temp.ago(i)
    FROM generate_series(0, 10 * %(users)s - 1) AS i
    """,
    """
    INSERT INTO blocks
    SELECT pg_temp.u(i %% %(users)s), pg_temp.u((i %% %(users)s + 11 + i / %(users)s) %% %(users)s),
           pg_temp.ago(i)
    FROM generate_series(0, 5 * %(users)s - 1) AS i
    """,
    """
    INSERT INTO mutes
    SELECT pg_temp.u(i %% %(users)s), pg_temp.u((i %% %(users)s + 21 + i / %(users)s) %% %(users)s),
           i %% 2 = 0, CASE WHEN i %% 3 = 0 THEN now() + interval '1 day' END, pg_temp.ago(i)
    FROM generate_series(0, 5 * %(users)s - 1) AS i
    """,
    """
    INSERT INTO user_counts
    SELECT pg_temp.u(u), s, 10, 10, 1
    FROM generate_series(0, %(users)s - 1) AS u, generate_series(0, 7) AS s
    """,
    """
    INSERT INTO reactions
    SELECT %(hot_post)s, 'post', pg_temp.u(i), (%(kinds)s::text[])[1 + i %% 5],
           pg_temp.ago(i), pg_temp.ago(i)
    FROM generate_series(1, 200000) AS i
    UNION ALL
    SELECT pg_temp.p(i %% %(posts)s), 'post', pg_temp.u(i), 'like', pg_temp.ago(i), pg_temp.ago(i)
    FROM generate_series(1, 100000) AS i
    """,
    """
    INSERT INTO reaction_counts
    SELECT pg_temp.p(p), 'post', k, s, 3
    FROM generate_series(0, %(posts)s - 1) AS p, unnest(%(kinds)s::text[]) AS k,
         generate_series(0, 7) AS s
    """,
    # One in twenty to the hot user, one in three unread.
    """
    INSERT INTO notifications (id, recipient_id, kind, actor_id, created_at, read_at)
    SELECT uuidv7(-make_interval(secs => i)),
           CASE WHEN i %% 20 = 0 THEN %(hot)s ELSE pg_temp.u(i %% %(users)s) END,
           'follow', pg_temp.u(%(users)s + i), pg_temp.ago(i),
           CASE WHEN i %% 3 <> 0 THEN pg_temp.ago(i) END
    FROM generate_series(1, 400000) AS i
    """,
]
TABLES = (
    "follows",
    "friendships",
    "user_counts",
    "blocks",
    "mutes",
    "reactions",
    "reaction_counts",
    "notifications",
)
PARAMS = {
    "hot": HOT_USER,
    "hot_post": HOT_POST,
    "hot_followers": HOT_FOLLOWERS,
    "share": HOT_SHARE,
    "users": USERS,
    "posts": POSTS,
    "kinds": ["like", "love", "laugh", "sad", "angry"],
}


@pytest.fixture(scope="module")
def plans_db(pg_admin_url: str) -> Iterator[psycopg.Connection]:
    with seeded_database(
        pg_admin_url,
        SPEC,
        "daira_social_plans",
        DB_PASSWORD,
        filled=f"SELECT count(*) >= {HOT_FOLLOWERS} FROM follows",
        fill=lambda conn: fill_without_indexes(conn, TABLES, SEED, PARAMS),
    ) as conn:
        yield conn


@pytest.fixture(scope="module")
def hot_position(plans_db: psycopg.Connection) -> tuple[datetime, uuid.UUID]:
    """A keyset position half way down the hot user's followers."""
    return plans_db.execute(
        "SELECT created_at, follower_id FROM follows WHERE followee_id = %s AND state = 'active' "
        "ORDER BY created_at DESC, follower_id DESC OFFSET 500000 LIMIT 1",
        [HOT_USER],
    ).fetchone()


def assert_uses_an_index(text: str) -> None:
    for table in TABLES:
        assert f"Seq Scan on {table}" not in text, text
    assert "Index" in text, text


def assert_walks_an_index(text: str) -> None:
    """An index answers in the order asked: no table scan, no sort of what it found.
    (For a handful of rows the planner may rightly fetch and sort them instead.)"""
    assert_uses_an_index(text)
    assert "Sort" not in text, text


def test_the_seeded_tables_are_big_enough_for_the_planner_to_care(plans_db):
    rows = dict(
        plans_db.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(TABLES)]
        ).fetchall()
    )

    assert rows["follows"] >= HOT_FOLLOWERS + 10 * USERS
    assert min(rows.values()) >= 100_000


@pytest.mark.parametrize(
    "listing",
    [
        repository_lists.FOLLOWERS,
        repository_lists.FOLLOWING,
        repository_lists.REQUESTS,
        repository_lists.FRIENDS,
        repository_lists.BLOCKS,
        repository_lists.MUTES,
    ],
)
@pytest.mark.parametrize("who", ["hot", "typical"])
@pytest.mark.parametrize("page", ["first", "next"])
def test_a_users_lists_walk_an_index(plans_db, listing, who, page):
    owner = HOT_USER if who == "hot" else user(42)
    after = (datetime.now(UTC) - timedelta(hours=2), user(7)) if page == "next" else None

    statement, values = listing.page({"owner": owner}, after, 21)
    text = plan(plans_db, statement, **values)

    (assert_walks_an_index if who == "hot" else assert_uses_an_index)(text)


def test_the_hot_users_next_page_reads_one_page(plans_db, hot_position):
    statement, values = repository_lists.FOLLOWERS.page({"owner": HOT_USER}, hot_position, 21)

    text = plan(plans_db, statement, **values)

    assert_walks_an_index(text)
    analysed = plans_db.execute(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT follower_id FROM follows "
        "WHERE followee_id = %s AND state = 'active' AND (created_at, follower_id) < (%s, %s) "
        "ORDER BY created_at DESC, follower_id DESC LIMIT 21",
        [HOT_USER, *hot_position],
    ).fetchone()[0][0]
    assert analysed["Plan"]["Actual Rows"] == 21
    assert analysed["Execution Time"] < 50  # ms, far from scanning a million rows


@pytest.mark.parametrize("page", ["first", "next"])
def test_the_fan_outs_follower_ids_read_the_index_alone(plans_db, hot_position, page):
    after = hot_position if page == "next" else None

    statement, values = repository_lists.FOLLOWER_IDS.page({"owner": HOT_USER}, after, 10_001)
    text = plan(plans_db, statement, **values)

    assert_walks_an_index(text)
    assert "Index Only Scan using follows_by_followee" in text


def test_a_rebuilds_following_ids_read_the_index_alone(plans_db):
    statement, values = repository_lists.FOLLOWING_IDS.page({"owner": user(5)}, None, 10_001)
    text = plan(plans_db, statement, **values)

    assert "Index Only Scan using follows_by_follower" in text


@pytest.mark.parametrize("count", [1, 100])
@pytest.mark.parametrize("viewer", [user(5), HOT_USER], ids=["typical", "hot"])
def test_relationships_probe_indexes(plans_db, count, viewer):
    """Primary-key probes per user; for a batch the planner may instead read the viewer's
    own blocks and mutes once, from their index, and hash them."""
    others = [str(user(n)) for n in range(count)]

    text = plan(plans_db, repository.RELATIONSHIPS, viewer=viewer, user_ids=others)

    assert_walks_an_index(text)
    assert "follows_pkey" in text


def test_user_stats_sum_the_slots_from_the_primary_key(plans_db):
    users = [str(u) for u in [HOT_USER, *(user(n) for n in range(99))]]

    assert_walks_an_index(plan(plans_db, repository.USER_STATS, user_ids=users))


def test_reaction_counts_sum_the_slots_from_the_primary_key(plans_db):
    targets = [str(HOT_POST), *(f"00000000-0000-4000-9000-{n:012x}" for n in range(99))]

    statement = repository_reactions.REACTION_COUNTS
    text = plan(plans_db, statement, target_kinds=["post"] * len(targets), target_ids=targets)

    assert_walks_an_index(text)


@pytest.mark.parametrize("page", ["first", "next"])
def test_a_targets_reactions_walk_an_index(plans_db, page):
    after = (datetime.now(UTC) - timedelta(hours=5), user(9)) if page == "next" else None

    target = {"target_kind": "post", "target_id": HOT_POST}
    statement, values = repository_reactions.REACTIONS.page(target, after, 21)

    assert_walks_an_index(plan(plans_db, statement, **values))


@pytest.mark.parametrize("unread_only", [False, True], ids=["all", "unread"])
@pytest.mark.parametrize("page", ["first", "next"])
def test_notifications_walk_an_index(plans_db, unread_only, page):
    after = (datetime.now(UTC) - timedelta(hours=5), uuid.uuid4()) if page == "next" else None

    pages = (
        repository_notifications.UNREAD_NOTIFICATIONS
        if unread_only
        else repository_notifications.NOTIFICATIONS
    )
    statement, values = pages.page({"owner": HOT_USER}, after, 21)

    assert_walks_an_index(plan(plans_db, statement, **values))


def test_the_unread_count_reads_the_partial_index_only(plans_db):
    text = plan(plans_db, repository_notifications.COUNT_UNREAD, recipient=HOT_USER, cap=1001)

    assert_walks_an_index(text)
    assert "Index Only Scan using notifications_unread" in text


@pytest.mark.parametrize("up_to", [False, True], ids=["all", "up-to-one"])
def test_marking_read_finds_the_unread_by_index(plans_db, up_to):
    bound = (datetime.now(UTC) - timedelta(hours=1), uuid.uuid4()) if up_to else None

    statement = repository_notifications.mark_read_statement(HOT_USER, bound, datetime.now(UTC))

    assert_walks_an_index(plan(plans_db, statement))


def test_making_a_notification_checks_blocks_and_mutes_by_key(plans_db):
    text = plan(
        plans_db,
        repository_notifications.INSERT_NOTIFICATIONS,
        ids=[uuid.uuid4()],
        recipients=[user(3)],
        kind="follow",
        actor=user(4),
        target_kind=None,
        target_id=None,
        post_id=None,
        now=datetime.now(UTC),
    )

    assert_walks_an_index(text)


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (repository.FOLLOW_STATE, {"follower": user(1), "followee": HOT_USER}),
        (
            repository_reactions.UPSERT_REACTION,
            {
                "target_kind": "post",
                "target_id": uuid.uuid4(),
                "user_id": user(1),
                "author_id": HOT_USER,
                "kind": "like",
                "now": datetime.now(UTC),
            },
        ),
        (
            repository.INSERT_FOLLOW,
            {
                "follower": user(1),
                "followee": HOT_USER,
                "state": "active",
                "now": datetime.now(UTC),
            },
        ),
    ],
    ids=["follow-state", "reaction", "follow"],
)
def test_pair_lookups_probe_primary_keys(plans_db, statement, params):
    assert_walks_an_index(plan(plans_db, statement, **params))
