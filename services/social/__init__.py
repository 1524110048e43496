"""The social service: follows, requests, friends, blocks, mutes, reactions, notifications."""

from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="social", port=50053, metrics_port=9153, grpc_service="daira.social.v1.SocialService"
)
