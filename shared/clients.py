"""Calls to the other Daira services: deadlines, request ids, service tokens, retries, a breaker.

A service makes one `ServiceClient` per service it calls, inside the running event loop
(in its `build()`), and closes it at shutdown:

    users = ServiceClient(
        settings.users_address, name="users", caller="content", tokens=runtime.tokens
    )
    stub = users.stub(users_pb2_grpc.UserServiceStub)
    reply = await users.call(stub.ReserveStorage, request, idempotent=True)

Every call
- has the timeout min(client timeout, the inbound deadline left - margin), and fails with
  DEADLINE_EXCEEDED without being made when nothing is left;
- carries the `x-request-id` of the RPC being served (a new one outside an RPC), a
  service token of the caller, or the token given (an end user's, to act as them), and
  when tracing is on the `traceparent` of its CLIENT span;
- is retried when idempotent, on UNAVAILABLE only, after a short jittered backoff and
  never past its timeout (retries share it);
- passes the client's circuit breaker: after N transport failures in a row (UNAVAILABLE,
  DEADLINE_EXCEEDED) calls fail at once for a cool-down, then one trial call decides;
- fails with a `DomainError` the pipeline can send on: the downstream's own answer
  (NOT_FOUND, INVALID_ARGUMENT, …) as `Relayed`, with its code, message and details;
  a service that is down, slow or failing (INTERNAL, UNKNOWN, …) as UNAVAILABLE naming it.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError
from google.rpc import status_pb2

from shared import metrics, tracing
from shared.auth import TokenService
from shared.context import inbound
from shared.errors import DeadlineExceeded, DomainError, Relayed, Unavailable
from shared.logs import get_logger

log = get_logger("daira.clients")

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")
StubT = TypeVar("StubT")

REQUEST_ID_KEY = "x-request-id"
DETAILS_KEY = "grpc-status-details-bin"
UNAVAILABLE_REASON = "UPSTREAM_UNAVAILABLE"
FAILED_REASON = "UPSTREAM_FAILED"
DEADLINE_REASON = "UPSTREAM_DEADLINE_EXCEEDED"

SERVICE_TOKEN_TTL_SECONDS = 300
# A service token is minted again this long before it expires (covers clock skew too).
SERVICE_TOKEN_RENEW_BEFORE_SECONDS = 60
RETRY_BACKOFF_SECONDS = 0.02
RETRY_BACKOFF_CAP_SECONDS = 0.2
# A retry is not worth starting with less time than this left.
MIN_ATTEMPT_SECONDS = 0.01

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    # Keepalive as the servers expect it (shared/server.py): a ping every 30 s, which
    # their 10 s minimum interval allows, on idle connections too.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Reach a service that came back within seconds, not after gRPC's default backoff
    # of up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
)

# The downstream did not answer: counts against the breaker.
TRANSPORT_FAILURES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# The downstream answered but failed in a way that is not the caller's to act on.
SERVER_FAILURES = frozenset(
    {
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.CANCELLED,
    }
)


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive transport failures open it; after `cool_down` seconds one trial call
    goes through (half-open): success closes it, failure opens it again."""

    def __init__(
        self,
        failures: int = 5,
        cool_down: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.failures = failures
        self.cool_down = cool_down
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cool_down:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def allow(self) -> bool:
        """May a call go out now? In half-open, True once: to the trial call."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._trial:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        """The service answered (with any status but a transport failure)."""
        self._consecutive = 0
        self._opened_at = None
        self._trial = False

    def failed(self) -> None:
        """The service did not answer (UNAVAILABLE or DEADLINE_EXCEEDED)."""
        self._consecutive += 1
        if self._trial or self._consecutive >= self.failures:
            self._opened_at = self._clock()
        self._trial = False

    def abandoned(self) -> None:
        """An allowed call ended without an answer either way (cancelled)."""
        self._trial = False


class ServiceClient:
    """One channel to one service, and the calls through it."""

    def __init__(
        self,
        address: str,
        *,
        caller: str,
        tokens: TokenService,
        name: str | None = None,
        timeout: float = 2.0,
        margin: float = 0.05,
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        """`caller` is the calling service (the subject of its service tokens); `name`
        is the called one, as errors and metrics name it (the address when not given)."""
        self.address = address
        self.name = name or address
        self.breaker = breaker or CircuitBreaker()
        self.channel = grpc.aio.insecure_channel(address, options=list(CHANNEL_OPTIONS))
        self._caller = caller
        self._tokens = tokens
        self._timeout = timeout
        self._margin = margin
        self._retries = retries
        self._authorization = ""
        self._renew_at = float("-inf")
        self._counters: dict[tuple[str, str], Any] = {}

    def stub(self, stub_class: Callable[[grpc.aio.Channel], StubT]) -> StubT:
        """A generated stub on this client's channel, e.g. `UserServiceStub`."""
        return stub_class(self.channel)

    async def call(
        self,
        rpc: grpc.aio.UnaryUnaryMultiCallable[RequestT, ResponseT],
        request: RequestT,
        *,
        idempotent: bool,
        token: str | None = None,
    ) -> ResponseT:
        """Call `rpc` (a method of a stub from `stub()`); `token` replaces the service token."""
        method = _method_name(rpc)
        now = time.monotonic()
        timeout, capped = self._timeout, False
        current = inbound.get()
        if current is not None and current.deadline is not None:
            left = current.deadline - now - self._margin
            if left <= 0:
                self._count(method, "NO_TIME_LEFT")
                raise DeadlineExceeded(
                    f"no time left to call {self.name}",
                    reason=DEADLINE_REASON,
                    metadata={"service": self.name},
                )
            if left < timeout:
                timeout, capped = left, True
        deadline = now + timeout
        request_id = current.request_id if current is not None else uuid.uuid4().hex
        authorization = f"Bearer {token}" if token else self._service_authorization()
        with tracing.client_span(self.name, method) as trace_metadata:
            metadata = (
                (REQUEST_ID_KEY, request_id),
                ("authorization", authorization),
                *trace_metadata,
            )
            attempt = 0
            while True:
                if not self.breaker.allow():
                    self._count(method, "CIRCUIT_OPEN")
                    raise Unavailable(
                        f"{self.name} is unavailable (calls paused after repeated failures)",
                        reason=UNAVAILABLE_REASON,
                        metadata={"service": self.name},
                    )
                try:
                    response = await rpc(
                        request, timeout=deadline - time.monotonic(), metadata=metadata
                    )
                except grpc.aio.AioRpcError as exc:
                    code = exc.code()
                    self._count(method, code.name)
                    if code in TRANSPORT_FAILURES:
                        self.breaker.failed()
                    else:
                        self.breaker.succeeded()
                    if (
                        code is grpc.StatusCode.UNAVAILABLE
                        and idempotent
                        and attempt < self._retries
                    ):
                        delay = _backoff(attempt)
                        if time.monotonic() + delay + MIN_ATTEMPT_SECONDS < deadline:
                            attempt += 1
                            await asyncio.sleep(delay)
                            continue
                    raise self._error(exc, method, timeout, capped, forwarded=bool(token)) from exc
                except BaseException:
                    self.breaker.abandoned()
                    raise
                self._count(method, "OK")
                self.breaker.succeeded()
                return response

    async def close(self, grace: float | None = None) -> None:
        await self.channel.close(grace)

    async def __aenter__(self) -> ServiceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _service_authorization(self) -> str:
        now = time.monotonic()
        if now >= self._renew_at:
            token = self._tokens.issue_service(self._caller, SERVICE_TOKEN_TTL_SECONDS)
            self._authorization = f"Bearer {token}"
            self._renew_at = now + SERVICE_TOKEN_TTL_SECONDS - SERVICE_TOKEN_RENEW_BEFORE_SECONDS
        return self._authorization

    def _error(
        self,
        exc: grpc.aio.AioRpcError,
        method: str,
        timeout: float,
        capped: bool,
        *,
        forwarded: bool,
    ) -> DomainError:
        code = exc.code()
        where = {"service": self.name}
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            if capped:
                return DeadlineExceeded(
                    f"{self.name} did not answer before the deadline",
                    reason=DEADLINE_REASON,
                    metadata=where,
                )
            return Unavailable(
                f"{self.name} did not answer within {timeout:g} s",
                reason=UNAVAILABLE_REASON,
                metadata=where,
            )
        if code is grpc.StatusCode.UNAVAILABLE:
            return Unavailable(
                f"{self.name} is unavailable", reason=UNAVAILABLE_REASON, metadata=where
            )
        # A refused service token is this deployment's fault, not the end user's: only a
        # token the caller forwarded makes UNAUTHENTICATED theirs.
        if code in SERVER_FAILURES or (code is grpc.StatusCode.UNAUTHENTICATED and not forwarded):
            log.warning(
                "downstream call failed",
                service=self.name,
                method=method,
                code=code.name,
                details=exc.details(),
            )
            return Unavailable(f"{self.name} failed", reason=FAILED_REASON, metadata=where)
        return Relayed(code, _status_of(exc), self.name)

    def _count(self, method: str, code: str) -> None:
        counter = self._counters.get((method, code))
        if counter is None:
            counter = self._counters[method, code] = metrics.DOWNSTREAM_CALLS.labels(
                self.name, method, code
            )
        counter.inc()


def _method_name(rpc: object) -> str:
    """The short method name of a grpc.aio multi-callable (for metrics and logs)."""
    full = getattr(rpc, "_method", b"")
    if isinstance(full, bytes):
        full = full.decode()
    return str(full).rsplit("/", 1)[-1] or "unknown"


def _backoff(attempt: int) -> float:
    """Exponential from 20 ms, capped at 200 ms, with jitter so retries do not align."""
    ceiling = min(RETRY_BACKOFF_SECONDS * 2**attempt, RETRY_BACKOFF_CAP_SECONDS)
    return ceiling * random.uniform(0.5, 1.0)


def _status_of(exc: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The downstream's google.rpc.Status, from its trailing metadata when it sent one."""
    code = exc.code().value[0]
    for key, value in exc.trailing_metadata() or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            try:
                status = status_pb2.Status.FromString(value)
            except DecodeError:
                break
            if status.code == code:
                return status
            break
    return status_pb2.Status(code=code, message=exc.details() or "")
