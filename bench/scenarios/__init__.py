"""The scenarios: what each one calls, with which requests, and how its cache is prepared.

Requests are serialized here, once, so the load process only moves bytes. Every call
but Login carries the bench user's access token, the health checks included: a floor
then pays the same interceptor work (JWT verify included) and the ratio to it measures
the handler. Each service has its floor (Health/Check on its own server).

Each service's scenarios, and what they measure, are in its own module (users, content
with the home feed, social, moderation, payments); this one puts them in one registry
and holds what the bench calls to set them up and to plan their runs.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import grpc
from google.protobuf.message import Message

from bench.plan import Plan
from bench.scenarios import content, moderation, payments, social, users
from bench.scenarios.common import BATCH_SIZE, Account, Data, Scenario
from bench.scenarios.content import CONTENT_API, CREATED_PREFIX, MIX_READERS
from bench.scenarios.social import DEEP_ROWS, DEEP_USERS
from bench.scenarios.users import USERS_API
from daira.content.v1 import content_pb2 as cpb
from daira.social.v1 import social_pb2 as spb
from daira.social.v1 import social_pb2_grpc
from daira.users.v1 import users_pb2 as pb
from daira.users.v1 import users_pb2_grpc

__all__ = [
    "CREATED_PREFIX",
    "DEEP_USERS",
    "DEFAULT_SCENARIOS",
    "FLOORS",
    "MIX_READERS",
    "SCENARIOS",
    "Account",
    "Client",
    "Data",
    "Scenario",
    "deep_pages",
    "plan",
    "warm",
]

SCENARIOS = {
    s.key: s for module in (users, content, social, moderation, payments) for s in module.SCENARIOS
}
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
    + [s.key for s in moderation.SCENARIOS + payments.SCENARIOS]
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
        call: grpc.UnaryUnaryMultiCallable[Message, Any] = channel.unary_unary(
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
