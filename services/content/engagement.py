"""What content makes of social's reactions (social.reaction.changed): a post's remembered
reaction counts are forgotten, so the next read asks social for them, and its reactions
count towards its trending score, as its comments do.

A post's engagement moves by one for a reaction added or withdrawn, in the transaction
that records the event as handled, so a re-delivered event counts once; a reaction
changed from one kind to another moves only the counts.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from daira.social.v1 import social_events_pb2, social_pb2
from services.content import repository
from services.content.deps import Deps
from shared.eventing import Subscription, payload
from shared.ids import parse_id
from shared.streams import SOCIAL_REACTIONS

GROUP = "content.engagement"


def subscription(deps: Deps) -> Subscription:
    async def on_reaction(conn: AsyncConnection, event: events_pb2.Event) -> None:
        if not _about_a_post(event):
            return
        changed = payload(event, social_events_pb2.ReactionChanged)
        post_id = parse_id("target.id", changed.target.id)
        await deps.peers.forget_reactions(str(post_id))
        delta = _delta(changed)
        if delta:
            await repository.add_reactions(conn, post_id, delta)

    return Subscription(SOCIAL_REACTIONS, GROUP, on_reaction, acts_on=_about_a_post)


def _about_a_post(event: events_pb2.Event) -> bool:
    if event.type != "social.reaction.changed":
        return False
    changed = payload(event, social_events_pb2.ReactionChanged)
    return changed.target.kind == social_pb2.TARGET_KIND_POST


def _delta(changed: social_events_pb2.ReactionChanged) -> int:
    none = social_pb2.REACTION_KIND_UNSPECIFIED
    return (changed.current != none) - (changed.previous != none)
