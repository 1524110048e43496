"""Domain errors and their gRPC form (AIP-193: a code, a message, google.rpc details).

Handlers and logic raise these; the server pipeline turns them into a status with
BadRequest, ErrorInfo or RetryInfo details. Anything else becomes INTERNAL with no
stack trace on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

DOMAIN = "daira.dev"


class DomainError(Exception):
    """An expected failure that the caller can act on."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(
        self, message: str, *, reason: str = "", metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})

    def details(self) -> list[any_pb2.Any]:
        if not self.reason:
            return []
        info = error_details_pb2.ErrorInfo(
            reason=self.reason, domain=DOMAIN, metadata=self.metadata
        )
        return [_pack(info)]

    def to_status(self) -> status_pb2.Status:
        return status_pb2.Status(
            code=self.code.value[0], message=self.message, details=self.details()
        )


class InvalidArgument(DomainError):
    """Bad input; names every offending field."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: Sequence[tuple[str, str]] | str, description: str = "") -> None:
        if isinstance(violations, str):
            violations = [(violations, description)]
        self.violations = list(violations)
        message = "; ".join(f"{field}: {why}" for field, why in self.violations)
        super().__init__(message)

    def details(self) -> list[any_pb2.Any]:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in self.violations
            ]
        )
        return [_pack(bad)]


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND

    def __init__(self, resource: str, name: str) -> None:
        super().__init__(
            f"{resource} {name!r} not found",
            reason=f"{resource.upper()}_NOT_FOUND",
            metadata={"resource": resource, "name": name},
        )


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(DomainError):
    """A concurrent change won (stale etag, lost race): re-read and retry."""

    code = grpc.StatusCode.ABORTED


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(DomainError):
    """Too many requests; RetryInfo says when to come back."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, *, retry_after_seconds: float, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.retry_after_seconds = retry_after_seconds

    def details(self) -> list[any_pb2.Any]:
        whole = int(self.retry_after_seconds)
        delay = duration_pb2.Duration(
            seconds=whole, nanos=int((self.retry_after_seconds - whole) * 1e9)
        )
        return [*super().details(), _pack(error_details_pb2.RetryInfo(retry_delay=delay))]


def internal_status(request_id: str) -> status_pb2.Status:
    """What the caller sees of an unexpected failure: nothing but a request id to quote."""
    info = error_details_pb2.ErrorInfo(
        reason="INTERNAL", domain=DOMAIN, metadata={"request_id": request_id}
    )
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (request id {request_id})",
        details=[_pack(info)],
    )


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


class DeadlineExceeded(DomainError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Relayed(DomainError):
    """Another service's error passed on as it came: its code, message and details."""

    def __init__(self, code: grpc.StatusCode, status: status_pb2.Status, service: str) -> None:
        super().__init__(status.message)
        self.code = code
        self.status = status
        self.service = service
        info = error_details_pb2.ErrorInfo()
        for detail in status.details:
            if detail.Unpack(info):
                self.reason, self.metadata = info.reason, dict(info.metadata)
                break

    def to_status(self) -> status_pb2.Status:
        return self.status
