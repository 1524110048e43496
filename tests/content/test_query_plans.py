"""Every hot query of the content service is answered from an index on a big table.

The statements are the repository's own builders (services/content/repository.py and
repository_comments.py), EXPLAINed with real parameters in a database of their own
seeded with 1,000,000 posts (10,000 authors, 5,000 hashtags, one tag per post, about
11 days of history), 500,000 comments and media on one post in seven, so the planner has
a reason to care. Every post read also loads the post's media (a subquery per row), so
post_media must not be scanned either.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from services.content import SPEC, repository, repository_comments, repository_lists
from shared.bulkload import fill_without_indexes
from tests.harness import plan, seeded_database

from .conftest import DB_PASSWORD

SEED_POSTS = 1_000_000
SEED_COMMENTED_POSTS = 50_000
SEED_COMMENTS_PER_POST = 10
AUTHORS = 10_000
TAGS = 5_000

AUTHOR = "('00000000-0000-4000-8000-' || lpad(to_hex({} %% %(authors)s), 12, '0'))::uuid"
SEED = [
    """
    INSERT INTO hashtags (tag, created_at)
    SELECT 'tag' || g, now() FROM generate_series(0, %(tags)s - 1) AS g
    """,
    f"""
    INSERT INTO posts (id, author_id, text, visibility, hashtags, mentions, comments_count,
                       engagement, trending_score, moderation_state, moderation_reason,
                       version, created_at, updated_at)
    SELECT uuidv7(-make_interval(secs => i)), {AUTHOR.format("i")}, 'seeded post ' || i,
           (ARRAY['private', 'followers', 'public', 'public', 'public'])[1 + i %% 5],
           ARRAY['tag' || (i %% %(tags)s)], '[]', i %% 7, i %% 7,
           ln(1 + i %% 7) + extract(epoch FROM now() - make_interval(secs => i)) / 45000,
           CASE WHEN i %% 100 = 0 THEN 'hidden' ELSE 'visible' END, '', 1,
           now() - make_interval(secs => i), now() - make_interval(secs => i)
    FROM generate_series(%(posts)s, 1, -1) AS i
    """,
    """
    INSERT INTO post_hashtags (post_id, tag, created_at)
    SELECT id, hashtags[1], created_at FROM posts
    """,
    """
    INSERT INTO post_media (id, post_id, author_id, url, mime_type, size_bytes, width, height,
                            state, reservation_key, created_at, updated_at)
    SELECT uuidv7(), id, author_id, 'https://cdn.example.com/' || id || '.jpg', 'image/jpeg',
           1000, 640, 480, 'active', 'content-media:' || id, created_at, created_at
    FROM posts WHERE comments_count = 0
    """,
    f"""
    INSERT INTO comments (id, post_id, author_id, parent_id, text, replies_count,
                          moderation_state, moderation_reason, created_at)
    SELECT uuidv7(), p.id, {AUTHOR.format("n")}, NULL, 'seeded comment', 0,
           'visible', '', p.created_at + make_interval(secs => n)
    FROM (SELECT id, created_at FROM posts ORDER BY id LIMIT %(commented)s) AS p
    CROSS JOIN generate_series(1, %(per_post)s) AS n
    """,
]
SEED_PARAMS = {
    "authors": AUTHORS,
    "tags": TAGS,
    "posts": SEED_POSTS,
    "commented": SEED_COMMENTED_POSTS,
    "per_post": SEED_COMMENTS_PER_POST,
}
PLANS_DATABASE = "daira_content_plans"
BIG_TABLES = ("posts", "comments", "post_hashtags", "post_media")
SEEDED_TABLES = (*BIG_TABLES, "post_mentions", "hashtags")


@pytest.fixture(scope="module")
def plans_db(pg_admin_url: str) -> Iterator[psycopg.Connection]:
    with seeded_database(
        pg_admin_url,
        SPEC,
        PLANS_DATABASE,
        DB_PASSWORD,
        filled=f"SELECT count(*) >= {SEED_POSTS} FROM posts",
        fill=lambda conn: fill_without_indexes(conn, SEEDED_TABLES, SEED, SEED_PARAMS),
    ) as conn:
        yield conn


@pytest.fixture(scope="module")
def sample(plans_db: psycopg.Connection) -> dict[str, object]:
    """An author, a tag and a commented post of the seed, with real keyset positions."""
    author, newest, newest_id = plans_db.execute(
        "SELECT author_id, created_at, id FROM posts WHERE author_id = "
        "'00000000-0000-4000-8000-000000000abc' ORDER BY created_at DESC, id DESC LIMIT 1"
    ).fetchone()
    post_id, first_comment, first_comment_id = plans_db.execute(
        "SELECT post_id, created_at, id FROM comments ORDER BY post_id, created_at, id LIMIT 1"
    ).fetchone()
    ids = [row[0] for row in plans_db.execute("SELECT id FROM posts LIMIT 100").fetchall()]
    score, score_id = plans_db.execute(
        "SELECT trending_score, id FROM posts WHERE created_at > now() - interval '1 hour' "
        "ORDER BY trending_score DESC, id DESC OFFSET 40 LIMIT 1"
    ).fetchone()
    return {
        "author": author,
        "after_post": (newest, newest_id),
        "post": post_id,
        "after_comment": (first_comment, first_comment_id),
        "ids": ids,
        "after_score": (score, score_id),
    }


def assert_uses_an_index(text: str) -> None:
    for table in BIG_TABLES:
        assert f"Seq Scan on {table}" not in text, text
    assert "Index" in text, text


def test_seeded_tables_are_big_enough_for_the_planner_to_care(plans_db):
    rows = dict(
        plans_db.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(BIG_TABLES)]
        ).fetchall()
    )

    assert rows["posts"] >= SEED_POSTS
    assert rows["post_hashtags"] >= SEED_POSTS
    assert rows["comments"] >= SEED_COMMENTED_POSTS * SEED_COMMENTS_PER_POST
    assert rows["post_media"] >= SEED_POSTS // 7


@pytest.mark.parametrize("page", ["first", "next"])
@pytest.mark.parametrize(
    "visibilities", [["public"], ["public", "followers", "private"]], ids=["others", "author"]
)
def test_list_user_posts_uses_an_index(plans_db, sample, page, visibilities):
    after = sample["after_post"] if page == "next" else None

    statement, params = repository_lists.user_posts_query(
        sample["author"], visibilities, False, after, 21
    )

    assert_uses_an_index(plan(plans_db, statement, **params))


@pytest.mark.parametrize("page", ["first", "next"])
def test_search_by_hashtag_uses_an_index(plans_db, sample, page):
    after = (datetime.now(UTC) - timedelta(hours=3), uuid.uuid4()) if page == "next" else None

    statement, params = repository_lists.hashtag_query("tag42", after, 21)

    assert_uses_an_index(plan(plans_db, statement, **params))


@pytest.mark.parametrize("page", ["first", "next"])
def test_list_comments_uses_an_index(plans_db, sample, page):
    after = sample["after_comment"] if page == "next" else None

    statement, params = repository_comments.comments_query(sample["post"], None, False, after, 21)

    assert_uses_an_index(plan(plans_db, statement, **params))


def test_list_replies_uses_an_index(plans_db, sample):
    statement, params = repository_comments.comments_query(
        sample["post"], uuid.uuid4(), False, None, 21
    )

    assert_uses_an_index(plan(plans_db, statement, **params))


@pytest.mark.parametrize("count", [1, 100])
def test_batch_get_posts_uses_an_index(plans_db, sample, count):
    text = plan(plans_db, repository.BATCH_GET_POSTS, ids=sample["ids"][:count])

    assert_uses_an_index(text)


@pytest.mark.parametrize("window", [timedelta(hours=1), timedelta(days=1), timedelta(weeks=1)])
@pytest.mark.parametrize("page", ["first", "next"])
def test_list_trending_uses_an_index(plans_db, sample, window, page):
    after = sample["after_score"] if page == "next" else None

    statement, params = repository_lists.trending_query(datetime.now(UTC) - window, after, 21)

    assert_uses_an_index(plan(plans_db, statement, **params))


def test_reconciling_unpublished_posts_uses_an_index(plans_db):
    statement = repository.stale_unpublished_statement(
        datetime.now(UTC) - timedelta(minutes=1), 500
    )

    assert_uses_an_index(plan(plans_db, statement))
