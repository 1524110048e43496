"""The scenarios: what each one calls, with which requests, and how its cache is prepared.

Requests are serialized here, once, so the load process only moves bytes. Every call
but Login carries the bench user's access token, the health check included: the floor
then pays the same interceptor work (JWT verify included) and the ratio to it measures
the handler. `floor-anon` (not run by default) is the floor without a token.

Caches: GetUser cached reads 100 warmed ids; GetUser uncached reads each never-read id
once; BatchGetUsers samples 100 of a 5,000-id pool warmed beforehand, so it measures the
all-hit batch path (its hit % column shows it).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2

from bench.dataset import Ids
from bench.plan import Plan
from daira.users.v1 import users_pb2 as pb
from daira.users.v1 import users_pb2_grpc
from services.users import SPEC

SERVICE = f"/{SPEC.grpc_service}"
BATCH_SIZE = 100
BATCH_SAMPLES = 2000
# What people type into a user search box: first names, surnames, both, a typo, a prefix.
SEARCH_QUERIES = [
    "maria", "garcia", "maria garcia", "john smith", "jonh smth", "nguyen", "wei chen",
    "fatima khan", "alexand", "priya patel", "kowalski", "yuki tanaka", "sofia", "ivanov",
    "ahmed hassan", "olivia brown", "lee", "santos silva", "dmitri", "laura lopez",
]  # fmt: skip


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    method: str
    # The scenario's (callers, seconds) given the command line's.
    shape: Callable[[int, float], tuple[int, float]]
    build: Callable[[Ids, Account, random.Random], list[bytes]]
    once: bool = False
    authorized: bool = True
    # The user ids to read through the service before the run, so they are cached.
    warm: Callable[[Ids], list[str]] | None = None


def _same(concurrency: int, duration: float) -> tuple[int, float]:
    return concurrency, duration


def _login_shape(concurrency: int, duration: float) -> tuple[int, float]:
    """argon2id is CPU-bound by design: fewer callers, a shorter run."""
    return min(concurrency, 8), max(duration / 2, 2.0)


def _health(_ids: Ids, _account: Account, _rng: random.Random) -> list[bytes]:
    return [health_pb2.HealthCheckRequest(service=SPEC.grpc_service).SerializeToString()]


def _get(ids: list[str]) -> list[bytes]:
    return [pb.GetUserRequest(id=i).SerializeToString() for i in ids]


def _batches(ids: Ids, _account: Account, rng: random.Random) -> list[bytes]:
    pool = ids.batch_pool
    return [
        pb.BatchGetUsersRequest(ids=rng.sample(pool, BATCH_SIZE)).SerializeToString()
        for _ in range(BATCH_SAMPLES)
    ]


def _login(_ids: Ids, account: Account, _rng: random.Random) -> list[bytes]:
    request = pb.LoginRequest(login=account.username, password=account.password, device="bench")
    return [request.SerializeToString()]


def _search(_ids: Ids, _account: Account, _rng: random.Random) -> list[bytes]:
    return [
        pb.SearchUsersRequest(query=q, page_size=20).SerializeToString() for q in SEARCH_QUERIES
    ]


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("floor", "Health/Check (floor)", "/grpc.health.v1.Health/Check", _same, _health),
        Scenario(
            "get-cached",
            "GetUser cached",
            f"{SERVICE}/GetUser",
            _same,
            lambda ids, _a, _r: _get(ids.cached),
            warm=lambda ids: ids.cached,
        ),
        Scenario(
            "get-uncached",
            "GetUser uncached",
            f"{SERVICE}/GetUser",
            _same,
            lambda ids, _a, _r: _get(ids.cold),
            once=True,
        ),
        Scenario(
            "batch",
            "BatchGetUsers(100)",
            f"{SERVICE}/BatchGetUsers",
            _same,
            _batches,
            warm=lambda ids: ids.batch_pool,
        ),
        Scenario(
            "login",
            "Login (argon2id)",
            f"{SERVICE}/Login",
            _login_shape,
            _login,
            authorized=False,
        ),
        Scenario("search", "SearchUsers", f"{SERVICE}/SearchUsers", _same, _search),
        Scenario(
            "floor-anon",
            "Health/Check, no token",
            "/grpc.health.v1.Health/Check",
            _same,
            _health,
            authorized=False,
        ),
    )
}
DEFAULT_SCENARIOS = ["floor", "get-cached", "get-uncached", "batch", "login", "search"]


class Client:
    """The bench's own sync calls to the service: the bench account, tokens, cache warming."""

    def __init__(self, target: str) -> None:
        self._target = target

    def _stub(self, channel: grpc.Channel) -> users_pb2_grpc.UserServiceStub:
        return users_pb2_grpc.UserServiceStub(channel)

    def register(self) -> Account:
        account = Account(f"bench_{secrets.token_hex(6)}", secrets.token_urlsafe(18))
        with grpc.insecure_channel(self._target) as channel:
            self._stub(channel).Register(
                pb.RegisterRequest(
                    username=account.username,
                    email=f"{account.username}@bench.example",
                    password=account.password,
                ),
                timeout=30,
            )
        return account

    def token(self, account: Account) -> str:
        with grpc.insecure_channel(self._target) as channel:
            reply = self._stub(channel).Login(
                pb.LoginRequest(login=account.username, password=account.password), timeout=30
            )
        return reply.access_token

    def warm(self, token: str, user_ids: list[str]) -> None:
        metadata = (("authorization", f"Bearer {token}"),)
        with grpc.insecure_channel(self._target) as channel:
            stub = self._stub(channel)
            for start in range(0, len(user_ids), BATCH_SIZE):
                chunk = user_ids[start : start + BATCH_SIZE]
                reply = stub.BatchGetUsers(
                    pb.BatchGetUsersRequest(ids=chunk), metadata=metadata, timeout=30
                )
                if reply.missing_ids:
                    raise RuntimeError(f"seeded users missing: {list(reply.missing_ids)[:3]}")


def plan(
    scenario: Scenario,
    *,
    target: str,
    token: str,
    ids: Ids,
    account: Account,
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
    return Plan(
        name=scenario.key,
        target=target,
        method=scenario.method,
        requests=scenario.build(ids, account, random.Random(seed)),
        metadata=metadata,
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
