"""The events the moderation service consumes, and what handles each."""

from __future__ import annotations

from services.moderation import admin_actions, cascade
from services.moderation.deps import Deps
from shared.eventing import Subscription


def subscriptions(deps: Deps) -> list[Subscription]:
    return [*admin_actions.SUBSCRIPTIONS, cascade.subscription(deps)]
