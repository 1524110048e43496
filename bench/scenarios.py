"""The scenarios: what each one calls, with which requests, and how its cache is prepared.

Requests are serialized here, once, so the load process only moves bytes. Every call
but Login carries the bench user's access token, the health checks included: a floor
then pays the same interceptor work (JWT verify included) and the ratio to it measures
the handler. Each service has its floor (Health/Check on its own server); `floor-anon`
(not run by default) is the users floor without a token.

Users caches: GetUser cached reads 100 warmed ids; GetUser uncached reads each never-read
id once; BatchGetUsers samples 100 of a 5,000-id pool warmed beforehand, so it measures
the all-hit batch path (its hit % column shows it).

Content: GetPost reads 1,000 warmed posts and BatchGetPosts samples 100 of 5,000 warmed
ones (the posts cache, as users'); the lists always query PostgreSQL: first pages of 20
of the 20 most prolific authors (ListUserPosts), of the 20 most commented posts
(ListComments), of the day's trending posts, and of the 5 most used hashtags.
CreatePost sends each request once (a fresh request_id per call) as the bench user,
with a hashtag and an @mention of a seeded user, which content resolves by asking users.
It runs last by default, so the lists read only the seed.

Home feed: GetHomeFeed(20) warm is the bench user's feed read again and again (built by
its first read): the users it follows that have more than 20,000 followers are
celebrities, whose newest posts are merged in from PostgreSQL on every read.

Social: every call is the bench user's, over a graph of about 7,000,000 follows
(social_dataset). GetRelationships(100) samples 100 of the users it follows, its
followers and strangers; ListFollowers reads the first page of each of the 20 most
followed users, whom the bench user follows (as nearly everyone does), so visibility is
one follow probe and users is not asked, and a page 10,000 rows down five of them (its
token got by paging there); GetReactionCounts(100) samples hot and random
reacted-to targets; the notification reads are the bench user's (300 unread of 5,000).
The writes run last and send each request once: Follow follows a user the bench user
does not follow yet (so each call inserts a follow, moves both users' counts and
notifies, and social asks users whether the target exists and is locked: that call is
part of every real follow); React reacts, with the five kinds in turn, to a seeded post
it has not reacted to (so each call inserts a reaction, adds to a count and notifies the
author). Social asks content who wrote any target it is given, as the reacting user
(to check blocks, and that the user may see it), so there is no target kind that only
social serves; a post's author is content's cheapest answer (a GetPost of one field,
cached after the first read), and the commonest reaction, so posts it is, with content's
part (and what content asks in turn) in the db µs column. Social therefore always runs
with content, and the reactions it is seeded with are to content's posts and comments.

Moderation: every call is a moderator's (a token signed with the services' secret), over
100,000 open subjects (moderation_dataset). ListQueue(20) reads the first page of the
open queue, unfiltered, of posts and of spam; ClaimNextSubject claims the most urgent
subject nobody holds, one more each call; FileReport reports each of content's posts
once (content is asked who wrote it, as the moderator); Decide warns each of the 40,000
least urgent subjects once (a warning changes nothing elsewhere, so it is moderation's
own transaction: the decision, its reports resolved, the subject closed, the audit entry).

Payments: every call is a funded user's own (payments_calls), over 10,000 wallets funded
through the sandbox (payments_dataset). Tip between random pairs sends each tip once;
Tip into one hot wallet sends each once too, from random senders; GetWallet and
ListTransactions(20) read random funded users' own (after the tips, so the pages are
full). Payments asks users whether each recipient may receive money (cached briefly).
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from bench import feed, payments_calls
from bench.content_dataset import PHRASES, TAGS, ContentIds
from bench.dataset import Ids
from bench.moderation_dataset import ModerationIds
from bench.payments_dataset import PaymentsIds
from bench.plan import Plan
from bench.social_dataset import SocialIds
from daira.content.v1 import content_pb2 as cpb
from daira.moderation.v1 import moderation_pb2 as mpb
from daira.social.v1 import social_pb2 as spb
from daira.social.v1 import social_pb2_grpc
from daira.users.v1 import users_pb2 as pb
from daira.users.v1 import users_pb2_grpc
from services.content import SPEC as CONTENT
from services.moderation import SPEC as MODERATION
from services.payments import SPEC as PAYMENTS
from services.social import SPEC as SOCIAL
from services.users import SPEC as USERS

T = TypeVar("T")
USERS_API = f"/{USERS.grpc_service}"
CONTENT_API = f"/{CONTENT.grpc_service}"
SOCIAL_API = f"/{SOCIAL.grpc_service}"
MODERATION_API = f"/{MODERATION.grpc_service}"
HEALTH = "/grpc.health.v1.Health/Check"
BATCH_SIZE = 100
# The users of the mixed run (the last of the never-read ones; the cold feeds take the rest).
MIX_READERS = 1000
BATCH_SAMPLES = 2000
PAGE_SIZE = 20
# Where ListFollowers' deep pages start, for this many of the hottest users.
DEEP_ROWS = 10_000
DEEP_USERS = 5
# Single-use writes made per second of run: more than a service can take on 2 cores.
WRITES_PER_SECOND = 4000
# Every CreatePost request id starts so (content_dataset.created finds them by it).
CREATED_PREFIX = "bench-post-"
# What people type into a user search box: first names, surnames, both, a typo, a prefix.
TARGET_KINDS = {"post": spb.TARGET_KIND_POST, "comment": spb.TARGET_KIND_COMMENT}
REACTION_KINDS = [
    spb.REACTION_KIND_LIKE, spb.REACTION_KIND_LOVE, spb.REACTION_KIND_LAUGH,
    spb.REACTION_KIND_SAD, spb.REACTION_KIND_ANGRY,
]  # fmt: skip
SEARCH_QUERIES = [
    "maria", "garcia", "maria garcia", "john smith", "jonh smth", "nguyen", "wei chen",
    "fatima khan", "alexand", "priya patel", "kowalski", "yuki tanaka", "sofia", "ivanov",
    "ahmed hassan", "olivia brown", "lee", "santos silva", "dmitri", "laura lopez",
]  # fmt: skip


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    password: str


@dataclass(frozen=True)
class Data:
    """What requests are made of: the seeded ids, the bench account, and how long the
    run lasts (warm-up included) for scenarios that send each request once."""

    users: Ids
    account: Account
    content: ContentIds | None = None
    social: SocialIds | None = None
    moderation: ModerationIds | None = None
    payments: PaymentsIds | None = None
    # The metadata of a call as any user (a minted access token), for calls as many users.
    mint: Callable[[str], tuple[tuple[str, str], ...]] | None = None
    # (user, page token) DEEP_ROWS down the followers of some of the hottest users.
    deep: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0


Build = Callable[[Data, random.Random], list[bytes]]


def _same(concurrency: int, duration: float) -> tuple[int, float]:
    return concurrency, duration


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    method: str
    build: Build
    # The service under test: "users", "content", "social", "moderation" or "payments".
    service: str = "users"
    # The scenario's (callers, seconds) given the command line's.
    shape: Callable[[int, float], tuple[int, float]] = _same
    once: bool = False
    authorized: bool = True
    # Whose token it calls with, when not the bench user's.
    token: Callable[[Data], str] | None = None
    # The ids to read through the service before the run, so they are cached.
    warm: Callable[[Data], list[str]] | None = None
    # Other services it needs running (and seeded) besides its own.
    needs: tuple[str, ...] = ()
    # Calls that differ in method or caller (instead of `method`, `build` and the bench
    # user): (method, request, user id) each.
    calls: Callable[[Data, random.Random], list[feed.Call]] | None = None

    @property
    def services(self) -> tuple[str, ...]:
        return (self.service, *self.needs)


def _login_shape(concurrency: int, duration: float) -> tuple[int, float]:
    """argon2id is CPU-bound by design: fewer callers, a shorter run."""
    return min(concurrency, 8), max(duration / 2, 2.0)


def _content(data: Data) -> ContentIds:
    assert data.content is not None, "content scenarios need the content dataset"
    return data.content


def _social(data: Data) -> SocialIds:
    assert data.social is not None, "social scenarios need the social dataset"
    return data.social


def _moderation(data: Data) -> ModerationIds:
    assert data.moderation is not None, "moderation scenarios need the moderation dataset"
    return data.moderation


def _payments(data: Data) -> PaymentsIds:
    assert data.payments is not None, "payments scenarios need the funded wallets"
    return data.payments


def _tips(key: str, *, hot: bool) -> Callable[[Data, random.Random], list[feed.Call]]:
    """As many tips as the run could send, each its own."""

    def calls(data: Data, rng: random.Random) -> list[feed.Call]:
        count = math.ceil(data.seconds * WRITES_PER_SECOND)
        return payments_calls.tips(_payments(data), key, count, rng, hot=hot)

    return calls


def _moderator(data: Data) -> str:
    return _moderation(data).moderator_token


def _one(message: Message) -> Build:
    """The same request on every call."""
    return lambda _data, _rng: [message.SerializeToString()]


def _each(items: Callable[[Data], list[T]], make: Callable[[T], Message]) -> Build:
    """One request per item; every call picks one at random (or sends each once)."""
    return lambda data, _rng: [make(item).SerializeToString() for item in items(data)]


def _single_use(items: Callable[[Data], list[T]], make: Callable[[T], Message]) -> Build:
    """As many requests as the run could send, one per item, for scenarios sent `once`."""

    def build(data: Data, _rng: random.Random) -> list[bytes]:
        wanted = math.ceil(data.seconds * WRITES_PER_SECOND)
        return [make(item).SerializeToString() for item in items(data)[:wanted]]

    return build


def _batches(pool: Callable[[Data], list[T]], make: Callable[[list[T]], Message]) -> Build:
    """Batch reads of BATCH_SIZE items sampled from a pool."""

    def build(data: Data, rng: random.Random) -> list[bytes]:
        ids = pool(data)
        return [make(rng.sample(ids, BATCH_SIZE)).SerializeToString() for _ in range(BATCH_SAMPLES)]

    return build


def _login(data: Data, _rng: random.Random) -> list[bytes]:
    account = data.account
    request = pb.LoginRequest(login=account.username, password=account.password, device="bench")
    return [request.SerializeToString()]


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


def _no_build(_data: Data, _rng: random.Random) -> list[bytes]:
    return []


def _health(service: str) -> Build:
    return _one(health_pb2.HealthCheckRequest(service=service))


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("floor", "Health/Check (floor)", HEALTH, _health(USERS.grpc_service)),
        Scenario(
            "get-cached",
            "GetUser cached",
            f"{USERS_API}/GetUser",
            _each(lambda d: d.users.cached, lambda i: pb.GetUserRequest(id=i)),
            warm=lambda d: d.users.cached,
        ),
        Scenario(
            "get-uncached",
            "GetUser uncached",
            f"{USERS_API}/GetUser",
            _each(lambda d: d.users.cold, lambda i: pb.GetUserRequest(id=i)),
            once=True,
        ),
        Scenario(
            "batch",
            "BatchGetUsers(100)",
            f"{USERS_API}/BatchGetUsers",
            _batches(lambda d: d.users.batch_pool, lambda ids: pb.BatchGetUsersRequest(ids=ids)),
            warm=lambda d: d.users.batch_pool,
        ),
        Scenario(
            "login",
            "Login (argon2id)",
            f"{USERS_API}/Login",
            _login,
            shape=_login_shape,
            authorized=False,
        ),
        Scenario(
            "search",
            "SearchUsers",
            f"{USERS_API}/SearchUsers",
            _each(
                lambda _d: SEARCH_QUERIES, lambda q: pb.SearchUsersRequest(query=q, page_size=20)
            ),
        ),
        Scenario(
            "floor-anon",
            "Health/Check, no token",
            HEALTH,
            _health(USERS.grpc_service),
            authorized=False,
        ),
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
            _batches(
                lambda d: _content(d).batch_pool, lambda ids: cpb.BatchGetPostsRequest(ids=ids)
            ),
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
        ),
        Scenario(
            "social-floor",
            "Health/Check (social floor)",
            HEALTH,
            _health(SOCIAL.grpc_service),
            service="social",
        ),
        Scenario(
            "relationships",
            "GetRelationships(100)",
            f"{SOCIAL_API}/GetRelationships",
            _batches(
                lambda d: _social(d).others, lambda ids: spb.GetRelationshipsRequest(user_ids=ids)
            ),
            service="social",
        ),
        Scenario(
            "followers",
            "ListFollowers(20), hottest",
            f"{SOCIAL_API}/ListFollowers",
            _each(
                lambda d: _social(d).hottest,
                lambda u: spb.ListFollowersRequest(user_id=u, page_size=PAGE_SIZE),
            ),
            service="social",
        ),
        Scenario(
            "followers-deep",
            f"ListFollowers(20) @{DEEP_ROWS:,}",
            f"{SOCIAL_API}/ListFollowers",
            _each(
                lambda d: list(d.deep),
                lambda deep: spb.ListFollowersRequest(
                    user_id=deep[0], page_size=PAGE_SIZE, page_token=deep[1]
                ),
            ),
            service="social",
        ),
        Scenario(
            "reaction-counts",
            "GetReactionCounts(100)",
            f"{SOCIAL_API}/GetReactionCounts",
            _batches(
                lambda d: _social(d).targets,
                lambda targets: spb.GetReactionCountsRequest(
                    targets=[spb.Target(kind=TARGET_KINDS[k], id=i) for k, i in targets]
                ),
            ),
            service="social",
        ),
        Scenario(
            "unread",
            "CountUnreadNotifications",
            f"{SOCIAL_API}/CountUnreadNotifications",
            _one(spb.CountUnreadNotificationsRequest()),
            service="social",
        ),
        Scenario(
            "notifications",
            "ListNotifications(20)",
            f"{SOCIAL_API}/ListNotifications",
            _one(spb.ListNotificationsRequest(page_size=PAGE_SIZE)),
            service="social",
        ),
        Scenario(
            "follow",
            "Follow",
            f"{SOCIAL_API}/Follow",
            _single_use(lambda d: _social(d).strangers, lambda u: spb.FollowRequest(user_id=u)),
            service="social",
            once=True,
        ),
        Scenario(
            "react",
            "React (posts)",
            f"{SOCIAL_API}/React",
            _single_use(
                lambda d: list(enumerate(_social(d).posts)),
                lambda item: spb.ReactRequest(
                    target=spb.Target(kind=spb.TARGET_KIND_POST, id=item[1]),
                    kind=REACTION_KINDS[item[0] % len(REACTION_KINDS)],
                ),
            ),
            service="social",
            once=True,
        ),
    )
}
# Moderation's, all as a moderator; FileReport asks content about each post it reports.
MODERATION_SCENARIOS = [
    Scenario(
        "moderation-floor",
        "Health/Check (moderation floor)",
        HEALTH,
        _health(MODERATION.grpc_service),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "queue",
        "ListQueue(20), 100,000 open",
        f"{MODERATION_API}/ListQueue",
        _each(
            lambda _d: [
                {},
                {"subject_kind": mpb.SUBJECT_KIND_POST},
                {"reason": mpb.REPORT_REASON_SPAM},
            ],
            lambda f: mpb.ListQueueRequest(page_size=PAGE_SIZE, **f),
        ),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "claim-next",
        "ClaimNextSubject",
        f"{MODERATION_API}/ClaimNextSubject",
        _one(mpb.ClaimNextSubjectRequest()),
        service="moderation",
        token=_moderator,
    ),
    Scenario(
        "file-report",
        "FileReport (posts)",
        f"{MODERATION_API}/FileReport",
        _single_use(
            lambda d: _moderation(d).posts,
            lambda p: mpb.FileReportRequest(
                subject_kind=mpb.SUBJECT_KIND_POST, target_id=p, reason=mpb.REPORT_REASON_SPAM
            ),
        ),
        service="moderation",
        once=True,
        token=_moderator,
    ),
    Scenario(
        "decide",
        "Decide (WARN)",
        f"{MODERATION_API}/Decide",
        _single_use(
            lambda d: _moderation(d).to_decide,
            lambda s: mpb.DecideRequest(
                subject_id=s, action=mpb.DECISION_ACTION_WARN, reason="bench"
            ),
        ),
        service="moderation",
        once=True,
        token=_moderator,
    ),
]
SCENARIOS |= {s.key: s for s in MODERATION_SCENARIOS}
PAYMENTS_SCENARIOS = [
    Scenario(
        "payments-floor",
        "Health/Check (payments floor)",
        HEALTH,
        _health(PAYMENTS.grpc_service),
        service="payments",
    ),
    *(
        Scenario(
            key,
            title,
            f"{payments_calls.API}/Tip",
            _no_build,
            service="payments",
            once=True,
            calls=_tips(key, hot=hot),
        )
        for key, title, hot in (
            ("tip-pairs", "Tip, random pairs of 10,000", False),
            ("tip-hot", "Tip into one hot wallet", True),
        )
    ),
    Scenario(
        "get-wallet",
        "GetWallet",
        f"{payments_calls.API}/GetWallet",
        _no_build,
        service="payments",
        calls=lambda d, rng: payments_calls.wallet_reads(_payments(d), rng),
    ),
    Scenario(
        "transactions",
        "ListTransactions(20)",
        f"{payments_calls.API}/ListTransactions",
        _no_build,
        service="payments",
        calls=lambda d, rng: payments_calls.transaction_pages(_payments(d), rng),
    ),
]
SCENARIOS |= {s.key: s for s in PAYMENTS_SCENARIOS}
USERS_SCENARIOS = ["floor", "get-cached", "get-uncached", "batch", "login", "search"]
CONTENT_SCENARIOS = [
    "content-floor", "get-post", "batch-posts", "user-posts", "comments", "trending", "hashtag",
    "create-post",
]  # fmt: skip
# The writes last, so the reads see only the seed.
SOCIAL_SCENARIOS = [
    "social-floor", "relationships", "followers", "followers-deep", "reaction-counts", "unread",
    "notifications", "home-feed", "home-feed-cold", "feed-mix", "feed-post", "follow", "react",
]  # fmt: skip
DEFAULT_SCENARIOS = (
    USERS_SCENARIOS
    + CONTENT_SCENARIOS
    + SOCIAL_SCENARIOS
    + [s.key for s in MODERATION_SCENARIOS + PAYMENTS_SCENARIOS]
)
# Each service's floor: the scenario its others' throughput is compared with.
FLOORS = {
    "users": "floor",
    "content": "content-floor",
    "social": "social-floor",
    "moderation": "moderation-floor",
    "payments": "payments-floor",
}

# Each service's batch read, to warm its cache: (method, request of ids, reply parser).
WARMERS: dict[str, tuple[str, Callable[[list[str]], Message], Callable[[bytes], Any]]] = {
    "users": (
        f"{USERS_API}/BatchGetUsers",
        lambda ids: pb.BatchGetUsersRequest(ids=ids),
        pb.BatchGetUsersResponse.FromString,
    ),
    "content": (
        f"{CONTENT_API}/BatchGetPosts",
        lambda ids: cpb.BatchGetPostsRequest(ids=ids),
        cpb.BatchGetPostsResponse.FromString,
    ),
}


def warm(target: str, token: str, service: str, ids: list[str]) -> None:
    """Read `ids` through the service's batch read, so they are cached; all must be found."""
    method, request, parse = WARMERS[service]
    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(
            method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=parse,
        )
        for start in range(0, len(ids), BATCH_SIZE):
            reply = call(request(ids[start : start + BATCH_SIZE]), metadata=metadata, timeout=30)
            if reply.missing_ids:
                raise RuntimeError(f"seeded {service} ids missing: {list(reply.missing_ids)[:3]}")


def deep_pages(target: str, token: str, users: list[str]) -> tuple[tuple[str, str], ...]:
    """A page token DEEP_ROWS down each user's followers, got by paging there as a client
    would (the token is the service's own, bound to the user's followers)."""
    found = []
    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(target) as channel:
        stub = social_pb2_grpc.SocialServiceStub(channel)
        for user in users:
            page = ""
            for _ in range(DEEP_ROWS // 100):
                request = spb.ListFollowersRequest(user_id=user, page_size=100, page_token=page)
                page = stub.ListFollowers(request, metadata=metadata, timeout=30).next_page_token
            found.append((user, page))
    return tuple(found)


class Client:
    """The bench's own sync calls to the users service: the bench account and its tokens."""

    def __init__(self, target: str) -> None:
        self._target = target

    def _stub(self, channel: grpc.Channel) -> users_pb2_grpc.UserServiceStub:
        return users_pb2_grpc.UserServiceStub(channel)

    def register(self) -> Account:
        username, password = f"bench_{secrets.token_hex(6)}", secrets.token_urlsafe(18)
        with grpc.insecure_channel(self._target) as channel:
            reply = self._stub(channel).Register(
                pb.RegisterRequest(
                    username=username, email=f"{username}@bench.example", password=password
                ),
                timeout=30,
            )
        return Account(reply.user.id, username, password)

    def token(self, account: Account) -> str:
        with grpc.insecure_channel(self._target) as channel:
            reply = self._stub(channel).Login(
                pb.LoginRequest(login=account.username, password=account.password), timeout=30
            )
        return reply.access_token


def plan(
    scenario: Scenario,
    *,
    target: str,
    token: str,
    data: Data,
    concurrency: int,
    duration: float,
    warmup: float,
    server_pid: int,
    channels: int,
    seed: int,
    bench_pid: int,
    rate: float,
) -> Plan:
    callers, seconds = scenario.shape(concurrency, duration)
    metadata = (("authorization", f"Bearer {token}"),) if scenario.authorized else ()
    sized = replace(data, seconds=warmup + seconds)
    requests = scenario.build(sized, random.Random(seed))
    methods: list[str] = []
    per_request: list[tuple[tuple[str, str], ...]] = []
    if scenario.calls is not None:
        assert data.mint is not None, "calls as other users need a token minter"
        calls = scenario.calls(sized, random.Random(seed))
        methods = [method for method, _, _ in calls]
        requests = [request for _, request, _ in calls]
        tokens = {user: data.mint(user) for user in {user for _, _, user in calls}}
        per_request = [tokens[user] for _, _, user in calls]
    return Plan(
        name=scenario.key,
        target=target,
        method=scenario.method,
        requests=requests,
        metadata=metadata,
        methods=methods,
        request_metadata=per_request,
        concurrency=callers,
        duration=seconds,
        warmup=warmup,
        once=scenario.once,
        server_pid=server_pid,
        channels=channels,
        bench_pid=bench_pid,
        # Login's argon2 caps it far below any rate worth pacing the others at.
        rate=0.0 if scenario.key == "login" else rate,
    )
