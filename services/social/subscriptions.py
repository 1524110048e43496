"""The events the social service consumes, and what handles each."""

from __future__ import annotations

from services.social import activity, cascade
from services.social.deps import Deps
from shared.eventing import Subscription


def subscriptions(deps: Deps) -> list[Subscription]:
    return [*activity.SUBSCRIPTIONS, cascade.subscription(deps)]
