"""The events the content service consumes, and what handles each."""

from __future__ import annotations

from services.content import cascade, engagement
from services.content.deps import Deps
from services.content.feed_fanout import FeedFanout
from services.content.home_feed import HomeFeed
from shared.eventing import Subscription


def subscriptions(deps: Deps, feeds: HomeFeed) -> list[Subscription]:
    fanout = FeedFanout(deps, feeds.store, feeds.audiences)
    return [*fanout.subscriptions(), engagement.subscription(deps), cascade.subscription(deps)]
