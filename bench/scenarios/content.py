"""The content service's scenarios, the home feed's included.

Content: GetPost reads 1,000 warmed posts and BatchGetPosts samples 100 of 5,000 warmed
ones (the posts cache, as users'); the lists always query PostgreSQL: first pages of 20
of the 20 most prolific authors (ListUserPosts), of the 20 most commented posts
(ListComments), of the day's trending posts, and of the 5 most used hashtags.
CreatePost sends each request once (a fresh request_id per call) as the bench user,
with a hashtag and an @mention of a seeded user, which content resolves by asking users.
It runs last by default, so the lists read only the seed.

Home feed: GetHomeFeed(20) warm is the bench user's feed read again and again (built by
its first read): the users it follows that have more than 20,000 followers are
celebrities, whose newest posts are kept once in Redis for all their followers and
merged in at read time (read from PostgreSQL only when they are not kept). The mixed
run's readers have read their feeds once before it (as users active lately have), so it
measures steady traffic; rebuilding feeds is the cold scenario's.
"""

from __future__ import annotations

import math
import random

from bench import feed
from bench.content_dataset import PHRASES, TAGS, ContentIds
from bench.scenarios.common import (
    HEALTH,
    PAGE_SIZE,
    WRITES_PER_SECOND,
    Data,
    Scenario,
    _batches,
    _each,
    _health,
    _no_build,
    _one,
)
from daira.content.v1 import content_pb2 as cpb
from services.content import SPEC as CONTENT

CONTENT_API = f"/{CONTENT.grpc_service}"
# The users of the mixed run (the last of the never-read ones; the cold feeds take the rest).
MIX_READERS = 1000
# Every CreatePost request id starts so (content_dataset.created finds them by it).
CREATED_PREFIX = "bench-post-"


def _content(data: Data) -> ContentIds:
    assert data.content is not None, "content scenarios need the content dataset"
    return data.content


def _new_posts(data: Data, rng: random.Random) -> list[bytes]:
    """Enough distinct posts for the run, each with its own request_id."""
    names = _content(data).names
    run = f"{CREATED_PREFIX}{rng.getrandbits(32):08x}-"
    return [
        cpb.CreatePostRequest(
            text=f"{rng.choice(PHRASES)} #{rng.choice(TAGS[:20])} cc @{rng.choice(names)}",
            request_id=f"{run}{n}",
        ).SerializeToString()
        for n in range(math.ceil(data.seconds * WRITES_PER_SECOND))
    ]


SCENARIOS = [
    Scenario(
        "content-floor",
        "Health/Check (content floor)",
        HEALTH,
        _health(CONTENT.grpc_service),
        service="content",
    ),
    Scenario(
        "get-post",
        "GetPost cached",
        f"{CONTENT_API}/GetPost",
        _each(lambda d: _content(d).cached, lambda i: cpb.GetPostRequest(id=i)),
        service="content",
        warm=lambda d: _content(d).cached,
    ),
    Scenario(
        "batch-posts",
        "BatchGetPosts(100)",
        f"{CONTENT_API}/BatchGetPosts",
        _batches(lambda d: _content(d).batch_pool, lambda ids: cpb.BatchGetPostsRequest(ids=ids)),
        service="content",
        warm=lambda d: _content(d).batch_pool,
    ),
    Scenario(
        "user-posts",
        "ListUserPosts(20)",
        f"{CONTENT_API}/ListUserPosts",
        _each(
            lambda d: _content(d).authors,
            lambda a: cpb.ListUserPostsRequest(user_id=a, page_size=PAGE_SIZE),
        ),
        service="content",
    ),
    Scenario(
        "comments",
        "ListComments(20)",
        f"{CONTENT_API}/ListComments",
        _each(
            lambda d: _content(d).threads,
            lambda p: cpb.ListCommentsRequest(post_id=p, page_size=PAGE_SIZE),
        ),
        service="content",
    ),
    Scenario(
        "trending",
        "ListTrending(24h, 20)",
        f"{CONTENT_API}/ListTrending",
        _one(cpb.ListTrendingRequest(window=cpb.TRENDING_WINDOW_DAY, page_size=PAGE_SIZE)),
        service="content",
    ),
    Scenario(
        "hashtag",
        "SearchByHashtag(20)",
        f"{CONTENT_API}/SearchByHashtag",
        _each(
            lambda d: _content(d).tags,
            lambda t: cpb.SearchByHashtagRequest(tag=t, page_size=PAGE_SIZE),
        ),
        service="content",
    ),
    Scenario(
        "create-post",
        "CreatePost",
        f"{CONTENT_API}/CreatePost",
        _new_posts,
        service="content",
        once=True,
    ),
    Scenario(
        "home-feed",
        "GetHomeFeed(20) warm",
        f"{CONTENT_API}/GetHomeFeed",
        _one(cpb.GetHomeFeedRequest(page_size=PAGE_SIZE)),
        service="content",
        needs=("social",),  # whom the bench user follows
    ),
    Scenario(
        "home-feed-cold",
        "GetHomeFeed(20) cold",
        f"{CONTENT_API}/GetHomeFeed",
        _no_build,
        service="content",
        needs=("social",),
        once=True,
        calls=lambda d, _rng: feed.cold_reads(d.users.cold[:-MIX_READERS]),
    ),
    Scenario(
        "feed-post",
        "CreatePost with fan-out",
        f"{CONTENT_API}/CreatePost",
        _new_posts,
        service="content",
        needs=("social",),
        once=True,
    ),
    Scenario(
        "feed-mix",
        "mix 60% feed/30% timeline/10% post",
        f"{CONTENT_API}/GetHomeFeed",
        _no_build,
        service="content",
        needs=("social",),
        calls=lambda d, rng: feed.mixed(d.users.cold[-MIX_READERS:], _content(d).authors, rng),
        open_feeds=lambda d: d.users.cold[-MIX_READERS:],
    ),
]
