"""OpenTelemetry traces across service calls: W3C `traceparent` in gRPC metadata, OTLP export.

Tracing is off unless `otlp_endpoint` is set (or a test installs its own exporter). Off,
the pipeline and the clients read one module attribute per call and do nothing more, so
an untraced call pays a branch, not a span. On, the pipeline opens a SERVER span per RPC,
continuing the caller's trace when its metadata carries one, and `shared.clients` opens a
CLIENT span per downstream call and sends its context on as `traceparent`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.status import Status, StatusCode

Metadata = tuple[tuple[str, str], ...]

PROPAGATOR = TraceContextTextMapPropagator()
# The metadata keys W3C trace context travels in.
TRACE_KEYS = frozenset(PROPAGATOR.fields)

# The installed tracer; None while tracing is off (read on every call: keep it a plain global).
tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None
_UNTRACED: AbstractContextManager[Metadata] = nullcontext(())


def configure(service: str, otlp_endpoint: str) -> None:
    """Export spans in batches to the OTLP/gRPC collector at `otlp_endpoint`; "" leaves
    tracing off."""
    if not otlp_endpoint:
        return
    # Imported only when used: it loads the OTLP protos and a gRPC channel of its own.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    install(service, BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True)))


def install(service: str, processor: SpanProcessor) -> None:
    """Trace this process's RPCs as `service`, handing each finished span to `processor`."""
    global tracer, _provider
    shutdown()
    _provider = TracerProvider(resource=Resource.create({"service.name": service}))
    _provider.add_span_processor(processor)
    tracer = _provider.get_tracer("daira")


def shutdown() -> None:
    """Flush what is buffered and turn tracing off."""
    global tracer, _provider
    provider, _provider, tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


class ServerSpan:
    """The span of one RPC being served, current while its handler runs."""

    __slots__ = ("_span", "_token")

    def __init__(self, active: trace.Tracer, method: str, metadata: Iterable[Any]) -> None:
        carrier = {key: value for key, value in metadata if key in TRACE_KEYS}
        parent = PROPAGATOR.extract(carrier) if carrier else None
        self._span = active.start_span(
            method, context=parent, kind=trace.SpanKind.SERVER, attributes=_rpc(method)
        )
        self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def end(self, code: grpc.StatusCode) -> None:
        self._span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            self._span.set_status(Status(StatusCode.ERROR, code.name))
        self._span.end()
        otel_context.detach(self._token)


def client_span(service: str, method: str) -> AbstractContextManager[Metadata]:
    """A CLIENT span around a call to `service`, yielding the metadata that carries it on;
    while tracing is off, a shared no-op yielding none."""
    active = tracer
    return _UNTRACED if active is None else _client_span(active, service, method)


@contextmanager
def _client_span(active: trace.Tracer, service: str, method: str) -> Iterator[Metadata]:
    name = f"{service}/{method}"
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
    with active.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes):
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
        yield tuple(carrier.items())


def _rpc(method: str) -> dict[str, str]:
    """`/pkg.Service/Method` as OpenTelemetry's RPC attributes."""
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
