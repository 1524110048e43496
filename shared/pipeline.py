"""The server interceptor every RPC passes through.

One interceptor runs the steps in order (request id, deadline check, auth, a request
that did not parse refused as INVALID_ARGUMENT, the handler, error mapping (a database
outage as UNAVAILABLE), metrics, access log, and a trace span when tracing is on) so a
call pays for one wrapper, not seven. Wrapped handlers are built once per method and reused.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

import grpc
import structlog
from grpc_status import rpc_status

from shared import metrics, tracing
from shared.auth import Access, Principal, TokenService, bearer_token, set_principal
from shared.context import set_inbound
from shared.db import is_outage
from shared.decoding import Undecodable, tolerant
from shared.errors import (
    DeadlineExceeded,
    DomainError,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    internal_status,
)
from shared.logs import get_logger

log = get_logger("daira.rpc")

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behavior = Callable[[Any, Context], Awaitable[Any]]

REQUEST_ID_KEY = "x-request-id"
DATABASE_UNAVAILABLE = Unavailable(
    "the database is unreachable or has no connection free; retry shortly",
    reason="DATABASE_UNAVAILABLE",
)


class RequestPipeline(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(
        self,
        service: str,
        access: Mapping[str, Access],
        tokens: TokenService,
        access_log: bool = True,
    ) -> None:
        """`access` maps full method names (/pkg.Service/Method) to who may call them."""
        self._service = service
        self._access = access
        self._tokens = tokens
        self._access_log = access_log
        self._handlers: dict[str, Handler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            # Streaming methods are only the public reflection and health watch services.
            return handler
        access = self._access.get(method)
        if access is None:
            raise RuntimeError(f"{method} declares no access policy")
        deserializer = handler.request_deserializer
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._wrap(method, access, handler.unary_unary),  # type: ignore[arg-type]
            request_deserializer=deserializer and tolerant(deserializer),
            response_serializer=handler.response_serializer,
        )
        self._handlers[method] = wrapped
        return wrapped

    def _wrap(self, method: str, access: Access, inner: Behavior) -> Behavior:
        short = method.rsplit("/", 1)[-1]
        # The count and latency series of each status code, made on its first call.
        series: dict[grpc.StatusCode, tuple[Any, Any]] = {}

        async def behavior(request: Any, context: Context) -> Any:
            started = time.perf_counter()
            metadata = context.invocation_metadata() or ()
            request_id = _request_id(metadata)
            structlog.contextvars.bind_contextvars(request_id=request_id)
            active = tracing.tracer
            span = None if active is None else tracing.ServerSpan(active, method, metadata)
            code = grpc.StatusCode.OK
            try:
                remaining = context.time_remaining()
                set_inbound(request_id, remaining)
                if remaining is not None and remaining <= 0:
                    raise DeadlineExceeded("the deadline passed before the call started")
                set_principal(self._authenticate(access, metadata))
                if isinstance(request, Undecodable):
                    raise InvalidArgument(request.field, request.reason)
                return await inner(request, context)
            except DomainError as exc:
                code = exc.code
                await context.abort_with_status(rpc_status.to_status(exc.to_status()))
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception as exc:
                if isinstance(exc, grpc.aio.AbortError):
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                if is_outage(exc):
                    # Down, or every connection busy: the caller may retry, unlike a bug.
                    code = grpc.StatusCode.UNAVAILABLE
                    log.warning("database unavailable", method=method, error=repr(exc))
                    status = DATABASE_UNAVAILABLE.to_status()
                else:
                    code = grpc.StatusCode.INTERNAL
                    log.exception("unhandled error", method=method)
                    status = internal_status(request_id)
                await context.abort_with_status(rpc_status.to_status(status))
            finally:
                elapsed = time.perf_counter() - started
                instruments = series.get(code)
                if instruments is None:
                    labels = (self._service, short, code.name)
                    instruments = series[code] = (
                        metrics.RPC_REQUESTS.labels(*labels),
                        metrics.RPC_LATENCY.labels(*labels),
                    )
                instruments[0].inc()
                instruments[1].observe(elapsed)
                if self._access_log:
                    log.info("rpc", method=short, code=code.name, ms=round(elapsed * 1000, 2))
                if span is not None:
                    span.end(code)
                structlog.contextvars.unbind_contextvars("request_id")

        return behavior

    def _authenticate(self, access: Access, metadata: Any) -> Principal | None:
        token = bearer_token(metadata)
        principal = self._tokens.verify(token) if token else None
        if access is Access.PUBLIC:
            return principal
        if principal is None:
            raise Unauthenticated("this call needs an access token", reason="TOKEN_MISSING")
        if not access.admits(principal.role):
            raise PermissionDenied(
                f"this call is for {access.value} callers", reason="ROLE_NOT_ALLOWED"
            )
        return principal


def _request_id(metadata: Any) -> str:
    for key, value in metadata:
        if key == REQUEST_ID_KEY and value:
            return str(value)[:128]
    return uuid.uuid4().hex
