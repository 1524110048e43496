"""Random sequences of follow, unfollow, approve, reject, block, unblock, mute, unmute, react
and unreact, checked against a model of the rules after every step.

Four real accounts (the third locked), each with one public post, take part in every
example; their rows are wiped before each. The state machine runs in a worker thread
with blocking stubs while the in-process servers keep serving on the event loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import grpc
import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from daira.social.v1 import social_pb2 as pb
from daira.social.v1 import social_pb2_grpc

from .conftest import Account, create_post, lock, post_target

USERS = 4
LOCKED = 2  # the index of the locked account
KINDS = ["like", "love", "laugh", "sad", "angry"]
OK = grpc.StatusCode.OK

users = st.integers(0, USERS - 1)


class World:
    """The accounts, posts and connections every example shares."""

    def __init__(self, accounts: list[Account], posts: list[str], port: int, db_url: str) -> None:
        self.ids = [a.id for a in accounts]
        self.auth = [a.auth for a in accounts]
        self.posts = posts
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = social_pb2_grpc.SocialServiceStub(self.channel)
        self.db = psycopg.connect(db_url, autocommit=True)

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        return self.db.execute(statement, {"users": self.ids, "posts": self.posts}).fetchall()

    def wipe(self) -> None:
        for statement in (
            "DELETE FROM follows WHERE follower_id = ANY(%(users)s::uuid[])",
            "DELETE FROM friendships WHERE user_id = ANY(%(users)s::uuid[])",
            "DELETE FROM user_counts WHERE user_id = ANY(%(users)s::uuid[])",
            "DELETE FROM blocks WHERE blocker_id = ANY(%(users)s::uuid[])",
            "DELETE FROM mutes WHERE muter_id = ANY(%(users)s::uuid[])",
            "DELETE FROM notifications WHERE recipient_id = ANY(%(users)s::uuid[])",
            "DELETE FROM reactions WHERE target_id = ANY(%(posts)s::uuid[])",
            "DELETE FROM reaction_counts WHERE target_id = ANY(%(posts)s::uuid[])",
        ):
            self.db.execute(statement, {"users": self.ids, "posts": self.posts})

    def call(self, method: str, caller: int, request: Any) -> tuple[grpc.StatusCode, Any]:
        try:
            return OK, getattr(self.stub, method)(request, metadata=self.auth[caller])
        except grpc.RpcError as err:
            return err.code(), None

    def close(self) -> None:
        self.channel.close()
        self.db.close()


WORLD: World | None = None


class SocialModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert WORLD is not None
        self.w = WORLD
        self.w.wipe()
        self.follows: dict[tuple[int, int], str] = {}
        self.blocks: set[tuple[int, int]] = set()
        self.mutes: dict[tuple[int, int], bool] = {}
        self.reactions: dict[tuple[int, int], str] = {}  # (user, post's author) -> kind
        self.notifications: set[tuple[int, str, int, str | None]] = set()

    # --- the rules' model ---------------------------------------------------------------

    def blocked(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def notify(self, recipient: int, kind: str, actor: int, target: str | None = None) -> None:
        wanted = (recipient, actor) not in self.blocks and not self.mutes.get((recipient, actor))
        if recipient != actor and wanted:
            self.notifications.add((recipient, kind, actor, target))

    def expect(self, code: grpc.StatusCode, wanted: grpc.StatusCode) -> None:
        assert code == wanted, f"answered {code}, the model expects {wanted}"

    def user(self, i: int) -> str:
        return self.w.ids[i]

    # --- rules ------------------------------------------------------------------------------

    @rule(a=users, b=users)
    def follow(self, a: int, b: int) -> None:
        code, reply = self.w.call("Follow", a, pb.FollowRequest(user_id=self.user(b)))
        if a == b:
            return self.expect(code, grpc.StatusCode.INVALID_ARGUMENT)
        if self.blocked(a, b):
            return self.expect(code, grpc.StatusCode.FAILED_PRECONDITION)
        self.expect(code, OK)
        if (a, b) not in self.follows:
            state = "pending" if b == LOCKED else "active"
            self.follows[a, b] = state
            self.notify(b, "follow" if state == "active" else "follow_request", a)
        assert reply.state == pb.FollowState.Value(f"FOLLOW_STATE_{self.follows[a, b].upper()}")

    @rule(a=users, b=users)
    def unfollow(self, a: int, b: int) -> None:
        code, _ = self.w.call("Unfollow", a, pb.UnfollowRequest(user_id=self.user(b)))
        self.expect(code, grpc.StatusCode.INVALID_ARGUMENT if a == b else OK)
        self.follows.pop((a, b), None)

    @rule(a=users, b=users)
    def approve(self, a: int, b: int) -> None:
        """a approves b's request."""
        request = pb.ApproveFollowRequestRequest(user_id=self.user(b))
        code, _ = self.w.call("ApproveFollowRequest", a, request)
        if a == b:
            return self.expect(code, grpc.StatusCode.INVALID_ARGUMENT)
        if self.follows.get((b, a)) != "pending":
            return self.expect(code, grpc.StatusCode.NOT_FOUND)
        self.expect(code, OK)
        self.follows[b, a] = "active"
        self.notify(b, "follow_approved", a)

    @rule(a=users, b=users)
    def reject(self, a: int, b: int) -> None:
        request = pb.RejectFollowRequestRequest(user_id=self.user(b))
        code, _ = self.w.call("RejectFollowRequest", a, request)
        if a == b:
            return self.expect(code, grpc.StatusCode.INVALID_ARGUMENT)
        if self.follows.get((b, a)) != "pending":
            return self.expect(code, grpc.StatusCode.NOT_FOUND)
        self.expect(code, OK)
        del self.follows[b, a]

    @rule(a=users, b=users)
    def block(self, a: int, b: int) -> None:
        code, _ = self.w.call("Block", a, pb.BlockRequest(user_id=self.user(b)))
        if a == b:
            return self.expect(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.expect(code, OK)
        self.blocks.add((a, b))
        self.follows.pop((a, b), None)
        self.follows.pop((b, a), None)

    @rule(a=users, b=users)
    def unblock(self, a: int, b: int) -> None:
        code, _ = self.w.call("Unblock", a, pb.UnblockRequest(user_id=self.user(b)))
        self.expect(code, grpc.StatusCode.INVALID_ARGUMENT if a == b else OK)
        self.blocks.discard((a, b))

    @rule(a=users, b=users, notifications=st.booleans())
    def mute(self, a: int, b: int, notifications: bool) -> None:
        request = pb.MuteRequest(user_id=self.user(b), notifications=notifications)
        request.duration.FromSeconds(86400)
        code, _ = self.w.call("Mute", a, request)
        if a == b:
            return self.expect(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.expect(code, OK)
        self.mutes[a, b] = notifications

    @rule(a=users, b=users)
    def unmute(self, a: int, b: int) -> None:
        code, _ = self.w.call("Unmute", a, pb.UnmuteRequest(user_id=self.user(b)))
        self.expect(code, grpc.StatusCode.INVALID_ARGUMENT if a == b else OK)
        self.mutes.pop((a, b), None)

    @rule(a=users, author=users, kind=st.sampled_from(KINDS))
    def react(self, a: int, author: int, kind: str) -> None:
        target = post_target(self.w.posts[author])
        request = pb.ReactRequest(
            target=target, kind=pb.ReactionKind.Value(f"REACTION_KIND_{kind.upper()}")
        )
        code, _ = self.w.call("React", a, request)
        if a != author and self.blocked(a, author):
            assert code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND), code
            return
        self.expect(code, OK)
        if (a, author) not in self.reactions:
            self.notify(author, "reaction", a, self.w.posts[author])
        self.reactions[a, author] = kind

    @rule(a=users, author=users)
    def unreact(self, a: int, author: int) -> None:
        target = post_target(self.w.posts[author])
        code, _ = self.w.call("Unreact", a, pb.UnreactRequest(target=target))
        self.expect(code, OK)
        self.reactions.pop((a, author), None)

    # --- invariants ---------------------------------------------------------------------

    def index(self, user_id: Any) -> int:
        return self.w.ids.index(str(user_id))

    @invariant()
    def the_rows_are_the_models(self) -> None:
        follows = {
            (self.index(a), self.index(b)): state
            for a, b, state in self.w.sql(
                "SELECT follower_id, followee_id, state FROM follows "
                "WHERE follower_id = ANY(%(users)s::uuid[])"
            )
        }
        assert follows == self.follows
        friends = {
            (self.index(a), self.index(b))
            for a, b in self.w.sql(
                "SELECT user_id, friend_id FROM friendships WHERE user_id = ANY(%(users)s::uuid[])"
            )
        }
        assert friends == {
            (a, b)
            for (a, b), s in self.follows.items()
            if s == "active" and self.follows.get((b, a)) == "active"
        }
        blocks = self.w.sql(
            "SELECT blocker_id, blocked_id FROM blocks WHERE blocker_id = ANY(%(users)s::uuid[])"
        )
        assert {(self.index(a), self.index(b)) for a, b in blocks} == self.blocks
        mutes = self.w.sql(
            "SELECT muter_id, muted_id, notifications FROM mutes "
            "WHERE muter_id = ANY(%(users)s::uuid[])"
        )
        assert {(self.index(a), self.index(b)): n for a, b, n in mutes} == self.mutes
        reactions = self.w.sql(
            "SELECT user_id, target_id, kind FROM reactions "
            "WHERE target_id = ANY(%(posts)s::uuid[])"
        )
        assert {
            (self.index(u), self.w.posts.index(str(t))): k for u, t, k in reactions
        } == self.reactions
        made = self.w.sql(
            "SELECT recipient_id, kind, actor_id, target_id FROM notifications "
            "WHERE recipient_id = ANY(%(users)s::uuid[])"
        )
        assert len(made) == len(self.notifications)
        assert {
            (self.index(r), k, self.index(a), str(t) if t else None) for r, k, a, t in made
        } == self.notifications

    @invariant()
    def the_counts_are_exact(self) -> None:
        active = [pair for pair, state in self.follows.items() if state == "active"]
        request = pb.GetUserStatsRequest(user_ids=self.w.ids)
        code, reply = self.w.call("GetUserStats", 0, request)
        self.expect(code, OK)
        for i, found in enumerate(reply.stats):
            friends = sum(1 for a, b in active if a == i and (b, a) in active)
            expected = (
                sum(1 for _, b in active if b == i),
                sum(1 for a, _ in active if a == i),
                friends,
            )
            assert (found.followers_count, found.following_count, found.friends_count) == expected
        targets = [post_target(post) for post in self.w.posts]
        code, reply = self.w.call(
            "GetReactionCounts", 0, pb.GetReactionCountsRequest(targets=targets)
        )
        self.expect(code, OK)
        for author, counts in enumerate(reply.counts):
            expected_kinds = Counter(
                k.upper() for (_, b), k in self.reactions.items() if b == author
            )
            assert {k: n for k, n in counts.counts.items() if n} == dict(expected_kinds)

    @invariant()
    def every_viewer_sees_the_models_relationships(self) -> None:
        for viewer in range(USERS):
            request = pb.GetRelationshipsRequest(user_ids=self.w.ids)
            code, reply = self.w.call("GetRelationships", viewer, request)
            self.expect(code, OK)
            for other, seen in enumerate(reply.relationships):
                out, back = self.follows.get((viewer, other)), self.follows.get((other, viewer))
                assert (
                    seen.following,
                    seen.followed_by,
                    seen.requested,
                    seen.blocking,
                    seen.blocked_by,
                    seen.muting,
                    seen.friends,
                ) == (
                    out == "active",
                    back == "active",
                    out == "pending",
                    (viewer, other) in self.blocks,
                    (other, viewer) in self.blocks,
                    (viewer, other) in self.mutes,
                    out == "active" and back == "active",
                )


SocialModel.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


async def test_random_sequences_keep_every_invariant(
    accounts, users_stub, content_stub, social_server, social_db_url
):
    global WORLD
    team = [await accounts.create() for _ in range(USERS)]
    await lock(users_stub, team[LOCKED])
    posts = [(await create_post(content_stub, member)).id for member in team]
    url = social_db_url.replace("postgresql+psycopg://", "postgresql://", 1)
    WORLD = World(team, posts, social_server.port, url)
    try:
        await asyncio.to_thread(SocialModel.TestCase().runTest)
    finally:
        WORLD.close()
        WORLD = None
