"""The events the payments service consumes, and what handles each."""

from __future__ import annotations

from services.payments import cascade
from services.payments.deps import Deps
from shared.eventing import Subscription


def subscriptions(deps: Deps) -> list[Subscription]:
    return [*cascade.SUBSCRIPTIONS]
