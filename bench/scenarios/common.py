"""What every service's scenarios are made of: the Scenario, the Data its requests are
built from, and the builders most of them share."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from bench import feed
from bench.content_dataset import ContentIds
from bench.dataset import Ids
from bench.moderation_dataset import ModerationIds
from bench.payments_dataset import PaymentsIds
from bench.social_dataset_ids import SocialIds

T = TypeVar("T")
HEALTH = "/grpc.health.v1.Health/Check"
BATCH_SIZE = 100
BATCH_SAMPLES = 2000
PAGE_SIZE = 20
# Single-use writes made per second of run: more than a service can take on 2 cores.
WRITES_PER_SECOND = 4000


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
    # (user, page token) social.DEEP_ROWS down the followers of some of the hottest users.
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
    # Users whose home feeds are read once before the run, so they are built, as active
    # users' are.
    open_feeds: Callable[[Data], list[str]] | None = None
    # Other services it needs running (and seeded) besides its own.
    needs: tuple[str, ...] = ()
    # Calls that differ in method or caller (instead of `method`, `build` and the bench
    # user): (method, request, user id) each.
    calls: Callable[[Data, random.Random], list[feed.Call]] | None = None

    @property
    def services(self) -> tuple[str, ...]:
        return (self.service, *self.needs)


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


def _no_build(_data: Data, _rng: random.Random) -> list[bytes]:
    return []


def _health(service: str) -> Build:
    return _one(health_pb2.HealthCheckRequest(service=service))
