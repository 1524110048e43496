"""What content makes of social's reactions (social.reaction.changed): a post's remembered
reaction counts are forgotten, so the next read asks social for them, and its reactions
count towards its trending score, as its comments do.

A post's engagement moves by one for a reaction added or withdrawn, in the transaction
that records the event as handled, so a re-delivered event counts once; a reaction
changed from one kind to another moves only the counts. Events that arrive together
are handled together: one invalidation and one update for all their posts.
"""

from __future__ import annotations

import uuid
from collections import Counter

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
    async def on_reactions(conn: AsyncConnection, events: list[events_pb2.Event]) -> None:
        """Each post's counts forgotten and its engagement moved by the sum of its events',
        in one command each, however many events arrived together (all about posts: the
        consumer hands over only what `_about_a_post` admits)."""
        moves: Counter[uuid.UUID] = Counter()
        for event in events:
            changed = payload(event, social_events_pb2.ReactionChanged)
            moves[parse_id("target.id", changed.target.id)] += _delta(changed)
        if moves:
            await deps.peers.forget_reactions(*(str(post_id) for post_id in moves))
            await repository.add_reactions(conn, {p: n for p, n in moves.items() if n})

    async def on_reaction(conn: AsyncConnection, event: events_pb2.Event) -> None:
        await on_reactions(conn, [event])

    return Subscription(
        SOCIAL_REACTIONS,
        GROUP,
        on_reaction,
        acts_on=_about_a_post,
        handle_together=on_reactions,
    )


def _about_a_post(event: events_pb2.Event) -> bool:
    if event.type != "social.reaction.changed":
        return False
    changed = payload(event, social_events_pb2.ReactionChanged)
    return changed.target.kind == social_pb2.TARGET_KIND_POST


def _delta(changed: social_events_pb2.ReactionChanged) -> int:
    none = social_pb2.REACTION_KIND_UNSPECIFIED
    return (changed.current != none) - (changed.previous != none)
