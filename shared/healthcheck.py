"""python -m shared.healthcheck HOST:PORT: exit 0 when the server's health service says SERVING.

Used by container health checks, so no grpc_health_probe binary is needed in the image.
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def is_serving(address: str, service: str = "", timeout: float = 1.0) -> bool:
    """Whether the server at `address` reports `service` ("" for the whole server) SERVING."""
    request = health_pb2.HealthCheckRequest(service=service)
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def main(address: str) -> int:
    if is_serving(address, timeout=2.0):
        return 0
    print(f"{address} is not serving", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
