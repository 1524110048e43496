"""Demo data for `make run`: a follow graph with friendships, requests to the locked demo07
(some approved), a block, a mute, and reactions to the demo posts.

The users are the users service's demo accounts, whose ids only it knows: the seed asks
it (LookupUsers, with a service token) and content for each author's newest post, then
writes through the service's own logic, so counts, friendships and notifications go
exactly as in production. When users cannot be reached, it says so and changes nothing;
without content, the graph is seeded and the reactions skipped. Idempotent: a second
run finds everything in place.
"""

from __future__ import annotations

import asyncio
import uuid

from daira.content.v1 import content_pb2, content_pb2_grpc
from services.social import SPEC
from services.social.blocks import Blocks
from services.social.deps import Deps
from services.social.follows import Follows
from services.social.reactions import Reactions
from services.social.settings import SocialSettings
from shared import seeding
from shared.auth import Principal, Role
from shared.config import load_settings
from shared.errors import DomainError
from shared.server import Runtime, build_runtime

DEMO = [f"demo{n:02d}" for n in range(1, 21)]
# Around the ring everyone follows the next two; every odd one is followed back by the
# next (a friendship). demo07 is locked: of its requests, these are approved.
FOLLOWS = [(DEMO[n], DEMO[(n + step) % 20]) for n in range(20) for step in (1, 2)] + [
    (DEMO[n + 1], DEMO[n]) for n in range(0, 20, 2)
]
APPROVED_BY_DEMO07 = ["demo05", "demo08"]
BLOCKS = [("demo05", "demo15")]
# (muter, muted, notifications too)
MUTES = [("demo02", "demo12", True)]
REACTIONS = ["like", "love", "laugh", "sad", "angry"]


def _as(user_id: uuid.UUID) -> Principal:
    return Principal(subject=str(user_id), role=Role.USER, session_id="seed")


async def seed(settings: SocialSettings) -> str:
    """Write the demo graph that is missing; a one-line summary of what happened."""
    runtime = build_runtime(SPEC, settings)
    deps = Deps.from_runtime(runtime)
    try:
        try:
            ids = await seeding.user_ids(runtime, DEMO)
        except DomainError as exc:
            return f"users service not reachable ({exc.message}): demo graph skipped"
        follows, blocks = Follows(deps), Blocks(deps)
        for follower, followee in FOLLOWS:
            state = await follows.follow(_as(ids[follower]), ids[followee])
            if state == "pending" and follower in APPROVED_BY_DEMO07:
                await follows.approve(_as(ids[followee]), ids[follower])
        for blocker, blocked in BLOCKS:
            await blocks.block(_as(ids[blocker]), ids[blocked])
        for muter, muted, notifications in MUTES:
            await blocks.mute(_as(ids[muter]), ids[muted], notifications, None)
        reacted = await _react(runtime, deps, ids)
        return (
            f"{len(FOLLOWS)} follows, {len(BLOCKS)} block, {len(MUTES)} mute, "
            f"{reacted} reactions in place"
        )
    finally:
        await deps.peers.close()
        await runtime.db.dispose()
        await runtime.redis.aclose()


async def _react(runtime: Runtime, deps: Deps, ids: dict[str, uuid.UUID]) -> int:
    """Each demo user reacts to the next one's newest post, as that user sees it."""
    reactions = Reactions(deps)
    reacted = 0
    async with runtime.client("content") as content:
        stub = content.stub(content_pb2_grpc.ContentServiceStub)
        for n, name in enumerate(DEMO):
            reader, author = ids[name], ids[DEMO[(n + 1) % 20]]
            token, _ = runtime.tokens.issue_access(reader, Role.USER, uuid.uuid4())
            request = content_pb2.ListUserPostsRequest(user_id=str(author), page_size=1)
            try:
                posts = await content.call(
                    stub.ListUserPosts, request, idempotent=True, token=token
                )
            except DomainError:
                return reacted  # content is not there: the graph is enough
            for post in posts.posts:
                target = ("post", uuid.UUID(post.id))
                await reactions.react(_as(reader), token, target, REACTIONS[n % len(REACTIONS)])
                reacted += 1
    return reacted


if __name__ == "__main__":
    summary = asyncio.run(seed(load_settings(SocialSettings, SPEC.name)))
    print(f"social: {summary}")
