"""The users service's scenarios.

Users caches: GetUser cached reads 100 warmed ids; GetUser uncached reads each never-read
id once; BatchGetUsers samples 100 of a 5,000-id pool warmed beforehand, so it measures
the all-hit batch path (its hit % column shows it). `floor-anon` (not run by default) is
the users floor without a token.
"""

from __future__ import annotations

import random

from bench.scenarios.common import HEALTH, Data, Scenario, _batches, _each, _health
from daira.users.v1 import users_pb2 as pb
from services.users import SPEC as USERS

USERS_API = f"/{USERS.grpc_service}"
# What people type into a user search box: first names, surnames, both, a typo, a prefix.
SEARCH_QUERIES = [
    "maria", "garcia", "maria garcia", "john smith", "jonh smth", "nguyen", "wei chen",
    "fatima khan", "alexand", "priya patel", "kowalski", "yuki tanaka", "sofia", "ivanov",
    "ahmed hassan", "olivia brown", "lee", "santos silva", "dmitri", "laura lopez",
]  # fmt: skip


def _login_shape(concurrency: int, duration: float) -> tuple[int, float]:
    """argon2id is CPU-bound by design: fewer callers, a shorter run."""
    return min(concurrency, 8), max(duration / 2, 2.0)


def _login(data: Data, _rng: random.Random) -> list[bytes]:
    account = data.account
    request = pb.LoginRequest(login=account.username, password=account.password, device="bench")
    return [request.SerializeToString()]


SCENARIOS = [
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
        _each(lambda _d: SEARCH_QUERIES, lambda q: pb.SearchUsersRequest(query=q, page_size=20)),
    ),
    Scenario(
        "floor-anon",
        "Health/Check, no token",
        HEALTH,
        _health(USERS.grpc_service),
        authorized=False,
    ),
]
