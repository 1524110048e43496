"""The events the content service consumes, and what handles each."""

from __future__ import annotations

from services.content.deps import Deps
from shared.eventing import Subscription


def subscriptions(deps: Deps) -> list[Subscription]:
    return []
