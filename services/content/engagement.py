"""Reactions count towards a post's trending score, as its comments do.

Social owns reactions and tells each change (social.reaction.changed); a post's
engagement moves by one for a reaction added or withdrawn, in the transaction that
records the event as handled, so a re-delivered event counts once. A reaction changed
from one kind to another moves nothing and is passed by without a transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from daira.social.v1 import social_events_pb2, social_pb2
from services.content import repository
from shared.eventing import Subscription, payload
from shared.ids import parse_id
from shared.streams import SOCIAL_REACTIONS

GROUP = "content.engagement"


def subscription() -> Subscription:
    return Subscription(SOCIAL_REACTIONS, GROUP, on_reaction, acts_on=_moves_engagement)


async def on_reaction(conn: AsyncConnection, event: events_pb2.Event) -> None:
    if _moves_engagement(event):
        changed = payload(event, social_events_pb2.ReactionChanged)
        post_id = parse_id("target.id", changed.target.id)
        await repository.add_reactions(conn, post_id, _delta(changed))


def _moves_engagement(event: events_pb2.Event) -> bool:
    """A post's reaction added or withdrawn."""
    if event.type != "social.reaction.changed":
        return False
    changed = payload(event, social_events_pb2.ReactionChanged)
    return changed.target.kind == social_pb2.TARGET_KIND_POST and _delta(changed) != 0


def _delta(changed: social_events_pb2.ReactionChanged) -> int:
    none = social_pb2.REACTION_KIND_UNSPECIFIED
    return (changed.current != none) - (changed.previous != none)
