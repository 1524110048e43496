"""The users service: accounts, sessions, profiles, search, roles and storage quota."""

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="users", port=50051, metrics_port=9151, grpc_service="daira.users.v1.UserService"
)
