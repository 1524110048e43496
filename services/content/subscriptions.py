"""The events the content service consumes, and what handles each."""

from __future__ import annotations

from services.content import cascade
from services.content.deps import Deps
from services.content.feed_fanout import FeedFanout
from services.content.feed_store import FeedStore
from shared.eventing import Subscription


def subscriptions(deps: Deps, feeds: FeedStore) -> list[Subscription]:
    return [*FeedFanout(deps, feeds).subscriptions(), cascade.subscription(deps)]
