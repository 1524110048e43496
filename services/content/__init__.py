"""The content service: posts, media, videos, threaded comments, timelines and trending."""

from shared.service import ServiceSpec
from shared.tiers import Tier

SPEC = ServiceSpec(
    name="content",
    port=50052,
    metrics_port=9152,
    grpc_service="daira.content.v1.ContentService",
    # Posts (invalidated on every change) and social's answers (short-lived).
    near_tiers=(Tier.PROFILES, Tier.GENERIC, Tier.ANALYTICS),
)
