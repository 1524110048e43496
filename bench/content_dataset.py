"""The bench's content database: provisioned fresh, migrated, seeded set-based in SQL.

Posts, their hashtags and mentions, and threads of comments are written with
INSERT … SELECT generate_series in one transaction (seconds for 100,000 posts, where
CreatePost would take minutes), keeping every invariant the service keeps itself:
`posts.hashtags` is what parsing finds in the text, with a `post_hashtags` row per tag
(dated like its post) and a `hashtags` row per tag; `mentions` name seeded users, with
their `post_mentions` rows; `comments_count` and `engagement` count the post's comments
(replies included), `replies_count` a comment's replies, and `trending_score` is the
service's formula of both. `check` verifies that after seeding.

The shape is a social network's: authors' activity is skewed (a few post hundreds of
times, most a few), tags follow a power law, posts lean recent over 30 days, most get
0 to 7 comments, one in a thousand gets hundreds. No media: their bytes are counted in
the users service's storage quota, which the bench leaves alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import psycopg

from bench import dataset
from bench.dataset import libpq, uuid7
from services.content import SPEC, parsing
from services.content.repository import TRENDING_DECAY_SECONDS

DATABASE = "daira_content_bench"
DAYS = 30

# Most popular first: a tag's rank decides how often it is drawn.
TAGS = [
    "photography", "travel", "food", "music", "football", "fitness", "art", "nature",
    "coffee", "books", "gaming", "fashion", "tech", "cats", "dogs", "running", "cooking",
    "movies", "design", "python", "science", "cycling", "hiking", "jazz", "yoga", "beach",
    "sunset", "startup", "vegan", "wine", "architecture", "history", "chess", "climbing",
    "surfing", "poetry", "anime", "basketball", "gardening", "diy", "skiing", "astronomy",
    "baking", "streetart", "podcast", "opensource", "rustlang", "linux", "vinyl", "tea",
    "marathon", "birdwatching", "origami", "kayaking", "ceramics", "sourdough", "knitting",
    "calligraphy", "bonsai", "woodworking",
]  # fmt: skip
PHRASES = [
    "First light over the harbour this morning", "Finally finished the book everyone talks about",
    "Sunday ride with friends, one flat tyre", "Trying a new recipe tonight, wish me luck",
    "The view from the top was worth every step", "New record on the morning run",
    "Rainy afternoon, good music and a warm drink", "Back from the market with far too much",
    "Can anyone recommend a good place around here", "Weekend project is almost done",
    "Caught the last light on the way home", "This little cafe never disappoints",
    "Three hours of practice and it finally clicked", "Small wins count too",
    "Throwback to last summer", "Working on something new, more soon",
    "Who else is up this early", "Best concert I have been to in years",
    "Quick sketch before dinner", "Packing for the trip tomorrow",
]  # fmt: skip
REMARKS = [
    "Love this!", "Stunning colours.", "Where is this?", "So true.", "Congrats!",
    "Need to try this.", "Great shot!", "Thanks for sharing.", "Haha, same here.",
    "Count me in next time.", "Which lens did you use?", "This made my day.",
    "Looks delicious.", "Well deserved!", "Totally agree with you.", "Any tips for beginners?",
]  # fmt: skip

# Temp tables with every row drawn, then one INSERT per table from them. Volatile
# random() in a CTE keeps it from being inlined, so each row draws once. Users are joined
# by number (subscripting a big text[] would walk it on every access).
SEED_SQL = [
    "SELECT setseed(%(seed)s)",
    """
CREATE TEMP TABLE seed_users ON COMMIT DROP AS
SELECT n::int, id, name
FROM unnest(%(authors)s::uuid[], %(names)s::text[]) WITH ORDINALITY AS u(id, name, n)
""",
    "ALTER TABLE seed_users ADD PRIMARY KEY (n)",
    """
CREATE TEMP TABLE seed_posts ON COMMIT DROP AS
WITH drawn AS (
    SELECT g,
           now() - interval '1 day' * %(days)s * power(random(), 1.5) AS ts,
           1 + floor(%(users)s * power(random(), 2))::int AS author,
           (%(phrases)s::text[])[1 + floor(random() * cardinality(%(phrases)s::text[]))::int]
               AS phrase,
           (ARRAY[0, 0, 1, 1, 1, 1, 2, 2, 2, 3])[1 + floor(random() * 10)::int] AS tag_count,
           ARRAY[1 + floor(cardinality(%(tags)s::text[]) * power(random(), 2.5))::int,
                 1 + floor(cardinality(%(tags)s::text[]) * power(random(), 2.5))::int,
                 1 + floor(cardinality(%(tags)s::text[]) * power(random(), 2.5))::int] AS ranks,
           CASE WHEN random() < 0.2 THEN 1 + floor(random() * %(users)s)::int END AS mention,
           CASE WHEN random() < 0.001 THEN 300 + floor(random() * 1200)
                ELSE floor(power(random(), 4) * 8) END::int AS comments,
           random() AS shown,
           random() < 0.005 AS flagged
    FROM generate_series(1, %(posts)s) AS g
), tagged AS (
    SELECT d.*,
           ARRAY(SELECT (%(tags)s::text[])[rank]
                 FROM unnest(d.ranks[1:d.tag_count]) WITH ORDINALITY AS r(rank, pos)
                 GROUP BY 1 ORDER BY min(pos)) AS tags
    FROM drawn AS d
)
SELECT """
    + uuid7("t.ts")
    + """ AS id,
       t.ts AS created_at, a.id AS author_id, t.tags,
       t.phrase
           || coalesce(' ' || nullif(array_to_string(
                  ARRAY(SELECT '#' || tag FROM unnest(t.tags) AS tag), ' '), ''), '')
           || coalesce(' cc @' || m.name, '') AS text,
       CASE WHEN m.id IS NULL THEN '[]'::jsonb
            ELSE jsonb_build_array(jsonb_build_object('user_id', m.id, 'username', m.name))
       END AS mentions,
       m.id AS mentioned,
       CASE WHEN t.comments >= 300 OR t.shown < 0.9 THEN 'public'
            WHEN t.shown < 0.97 THEN 'followers' ELSE 'private' END AS visibility,
       CASE WHEN t.flagged AND t.comments < 300 THEN 'hidden' ELSE 'visible' END AS moderation,
       t.comments,
       t.comments / 5 AS replies
FROM tagged AS t
JOIN seed_users AS a ON a.n = t.author
LEFT JOIN seed_users AS m ON m.n = t.mention
""",
    """
INSERT INTO posts (id, author_id, text, visibility, hashtags, mentions, comments_count,
                   engagement, trending_score, moderation_state, moderation_reason, version,
                   created_at, updated_at)
SELECT id, author_id, text, visibility, tags, mentions, comments, comments,
       ln(1 + comments::bigint) + extract(epoch FROM created_at) / %(decay)s::float8,
       moderation, CASE moderation WHEN 'hidden' THEN 'spam' ELSE '' END, 1,
       created_at, created_at
FROM seed_posts
""",
    """
INSERT INTO hashtags (tag, created_at)
SELECT tag, min(created_at) FROM seed_posts, unnest(tags) AS tag GROUP BY tag
""",
    """
INSERT INTO post_hashtags (post_id, tag, created_at)
SELECT id, tag, created_at FROM seed_posts, unnest(tags) AS tag
""",
    """
INSERT INTO post_mentions (post_id, user_id)
SELECT id, mentioned FROM seed_posts WHERE mentioned IS NOT NULL
""",
    # Top-level comments, k = 1 … comments - replies of each post, soon after the post.
    """
CREATE TEMP TABLE seed_top ON COMMIT DROP AS
WITH drawn AS (
    SELECT p.id AS post_id, k,
           p.created_at + (now() - p.created_at) * power(random(), 3) AS ts,
           1 + floor(random() * %(users)s)::int AS author
    FROM seed_posts AS p, generate_series(1, p.comments - p.replies) AS k
)
SELECT post_id, k, ts, author, """
    + uuid7("ts")
    + """ AS id FROM drawn
""",
    "CREATE INDEX ON seed_top (post_id, k)",
    # Replies, each under one of its post's top-level comments and after it.
    """
CREATE TEMP TABLE seed_replies ON COMMIT DROP AS
WITH drawn AS (
    SELECT p.id AS post_id,
           1 + floor(random() * (p.comments - p.replies))::int AS parent_k,
           1 + floor(random() * %(users)s)::int AS author,
           random() AS lag
    FROM seed_posts AS p, generate_series(1, p.replies) AS k
), placed AS (
    SELECT d.post_id, t.id AS parent_id, t.ts + (now() - t.ts) * power(d.lag, 2) AS ts, d.author
    FROM drawn AS d JOIN seed_top AS t ON t.post_id = d.post_id AND t.k = d.parent_k
)
SELECT post_id, parent_id, ts, author, """
    + uuid7("ts")
    + """ AS id FROM placed
""",
    # Top-level comments with their replies counted, then the replies.
    """
INSERT INTO comments (id, post_id, author_id, parent_id, text, replies_count,
                      moderation_state, moderation_reason, created_at)
SELECT c.id, c.post_id, u.id, c.parent_id,
       (%(remarks)s::text[])[1 + floor(random() * cardinality(%(remarks)s::text[]))::int],
       coalesce(r.n, 0), 'visible', '', c.ts
FROM (SELECT id, post_id, NULL::uuid AS parent_id, ts, author FROM seed_top
      UNION ALL
      SELECT id, post_id, parent_id, ts, author FROM seed_replies) AS c
JOIN seed_users AS u ON u.n = c.author
LEFT JOIN (SELECT parent_id, count(*) AS n FROM seed_replies GROUP BY parent_id) AS r
       ON r.parent_id = c.id
""",
]

# Rows breaking an invariant the service keeps (each count must be 0).
CHECK_SQL = f"""
WITH counted AS (
    SELECT post_id, count(*) AS n FROM comments WHERE deleted_at IS NULL GROUP BY post_id
), replies AS (
    SELECT parent_id, count(*) AS n FROM comments
    WHERE deleted_at IS NULL AND parent_id IS NOT NULL GROUP BY parent_id
), tagged AS (
    SELECT post_id, array_agg(tag ORDER BY tag) AS tags FROM post_hashtags GROUP BY post_id
)
SELECT
    (SELECT count(*) FROM posts AS p LEFT JOIN counted AS c ON c.post_id = p.id
     WHERE p.comments_count <> coalesce(c.n, 0) OR p.engagement <> p.comments_count
        OR abs(p.trending_score - (ln(1 + p.engagement)
               + extract(epoch FROM p.created_at) / {TRENDING_DECAY_SECONDS})) > 1e-6),
    (SELECT count(*) FROM comments AS m LEFT JOIN replies AS r ON r.parent_id = m.id
     WHERE m.replies_count <> coalesce(r.n, 0)),
    (SELECT count(*) FROM comments AS m JOIN comments AS parent ON parent.id = m.parent_id
     WHERE parent.post_id <> m.post_id OR m.created_at < parent.created_at),
    (SELECT count(*) FROM comments AS m JOIN posts AS p ON p.id = m.post_id
     WHERE m.created_at < p.created_at OR m.created_at > now()),
    (SELECT count(*) FROM posts AS p LEFT JOIN tagged AS t ON t.post_id = p.id
     WHERE coalesce(t.tags, '{{}}') <> ARRAY(SELECT unnest(p.hashtags) ORDER BY 1)),
    (SELECT count(*) FROM post_hashtags AS h JOIN posts AS p ON p.id = h.post_id
     WHERE h.created_at <> p.created_at),
    (SELECT count(*) FROM posts
     WHERE jsonb_array_length(mentions)
           <> (SELECT count(*) FROM post_mentions AS m WHERE m.post_id = posts.id))
"""
INVARIANTS = (
    "comments_count, engagement and trending_score match the comments",
    "replies_count matches the replies",
    "a reply is on its parent's post and after it",
    "a comment is after its post and not in the future",
    "post_hashtags match posts.hashtags",
    "post_hashtags are dated like their post",
    "post_mentions match posts.mentions",
)
LISTED = "visibility = 'public' AND moderation_state = 'visible' AND deleted_at IS NULL"


@dataclass(frozen=True)
class ContentIds:
    """What the content scenarios read, all of it public posts any signed-in user sees."""

    cached: list[str]  # GetPost, warmed first
    batch_pool: list[str]  # BatchGetPosts samples, warmed first
    authors: list[str]  # the most prolific authors
    threads: list[str]  # the most commented posts
    tags: list[str]  # the most used hashtags
    names: list[str]  # usernames of seeded users, to mention


def provision(admin_url: str) -> str:
    return dataset.provision(admin_url, SPEC, DATABASE)


def seed(url: str, posts: int, accounts: list[tuple[str, str]], seed: float) -> None:
    """`posts` posts by the seeded `accounts` (id, username), with their comments."""
    params = {
        "seed": seed,
        "days": DAYS,
        "posts": posts,
        "users": len(accounts),
        "authors": [user_id for user_id, _ in accounts],
        "names": [name for _, name in accounts],
        "tags": TAGS,
        "phrases": PHRASES,
        "remarks": REMARKS,
        "decay": TRENDING_DECAY_SECONDS,
    }
    with psycopg.connect(libpq(url)) as conn:
        with conn.transaction():
            for statement in SEED_SQL:
                conn.execute(statement, params)  # type: ignore[arg-type]
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) posts, hashtags, post_hashtags, post_mentions, comments")


def check(url: str) -> tuple[int, int]:
    """Raise if any seeded row breaks an invariant, the service's own parsing of every
    text included; (posts, comments) seeded."""
    with psycopg.connect(libpq(url)) as conn:
        broken = conn.execute(CHECK_SQL).fetchone()
        assert broken is not None
        failures = [
            f"{n} rows break: {what}" for n, what in zip(broken, INVARIANTS, strict=True) if n
        ]
        rows = conn.execute("SELECT text, hashtags, mentions FROM posts").fetchall()
        for text, tags, mentions in rows:
            names = [m["username"] for m in mentions]
            if parsing.hashtags(text) != tags or parsing.mentions(text) != names:
                failures.append(f"text and parsed columns disagree: {text!r}")
                break
        comments = conn.execute("SELECT count(*) FROM comments").fetchone()
    if failures:
        raise RuntimeError("content seed is inconsistent: " + "; ".join(failures))
    return len(rows), comments[0] if comments else 0


def pick(
    url: str, accounts: list[tuple[str, str]], cached: int, batch_pool: int, rng: random.Random
) -> ContentIds:
    top = 20
    with psycopg.connect(libpq(url)) as conn:

        def column(query: str) -> list[str]:
            return [str(row[0]) for row in conn.execute(query)]  # type: ignore[call-overload]

        listed = column(f"SELECT id FROM posts WHERE {LISTED} ORDER BY id")
        authors = column(
            f"SELECT author_id FROM posts WHERE {LISTED} "
            f"GROUP BY author_id ORDER BY count(*) DESC, author_id LIMIT {top}"
        )
        threads = column(
            f"SELECT id FROM posts WHERE {LISTED} ORDER BY comments_count DESC, id LIMIT {top}"
        )
        tags = column("SELECT tag FROM post_hashtags GROUP BY tag ORDER BY count(*) DESC LIMIT 5")
    sample = rng.sample(listed, cached + batch_pool)
    names = [name for _, name in rng.sample(accounts, min(len(accounts), 1000))]
    return ContentIds(sample[:cached], sample[cached:], authors, threads, tags, names)


def reaction_targets(url: str) -> list[tuple[str, str]]:
    """(kind, id) of every listed post and of every comment on one: what anyone may react to."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            f"SELECT 'post', id FROM posts WHERE {LISTED} UNION ALL "
            "SELECT 'comment', id FROM comments WHERE deleted_at IS NULL "
            f"AND moderation_state = 'visible' AND post_id IN (SELECT id FROM posts WHERE {LISTED})"
        ).fetchall()
    return [(kind, str(target_id)) for kind, target_id in rows]


def created(url: str, prefix: str) -> tuple[int, int]:
    """(posts made by the bench's CreatePost calls, of which with no resolved mention)."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE mentions = '[]') FROM posts "
            "WHERE request_id LIKE %s",
            (prefix + "%",),
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)
