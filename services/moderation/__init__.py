"""The moderation service: reports, the review queue, decisions enforced in the owning
services, appeals, and the hash-chained audit log."""

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="moderation",
    port=50055,
    metrics_port=9155,
    grpc_service="daira.moderation.v1.ModerationService",
)
