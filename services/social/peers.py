"""What the social service asks other services, each behind one method.

Users says whether an account exists and whether it is locked. Content says who wrote a
post and who may see it (asked as this service, which sees every live post: social applies
`shared.visibility`'s rule itself, from its own graph, rather than have content ask it back),
and who wrote a comment or video as the reacting user may see it (their own token is passed
on, so content's rules decide). Either being down is UNAVAILABLE naming it.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

import grpc
from google.protobuf import field_mask_pb2

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.users.v1 import users_pb2, users_pb2_grpc
from services.social.repository import Target
from shared.clients import ServiceClient
from shared.errors import NotFound, Relayed
from shared.visibility import MODERATION_NAMES, VISIBILITY_NAMES


class Account(NamedTuple):
    """What social needs to know of a user's account."""

    locked: bool


class Post(NamedTuple):
    """What social needs to know of a post to decide who may react to it, in the order
    `shared.visibility.sees` takes them."""

    author: uuid.UUID
    visibility: str  # public, followers or private
    moderation: str  # visible, hidden or removed


POST_FACTS = field_mask_pb2.FieldMask(paths=["author_id", "visibility", "moderation_state"])


class Peers:
    def __init__(self, users: ServiceClient, content: ServiceClient) -> None:
        self._users = users
        self._content = content
        self._user_stub = users.stub(users_pb2_grpc.UserServiceStub)
        self._content_stub = content.stub(content_pb2_grpc.ContentServiceStub)

    async def close(self) -> None:
        await self._users.close()
        await self._content.close()

    async def account(self, user_id: uuid.UUID) -> Account:
        """The user's account; NOT_FOUND if there is no such (live) account."""
        request = users_pb2.GetUserRequest(
            id=str(user_id), read_mask=field_mask_pb2.FieldMask(paths=["status", "locked"])
        )
        try:
            reply = await self._users.call(self._user_stub.GetUser, request, idempotent=True)
        except Relayed as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                raise NotFound("user", str(user_id)) from None
            raise
        if reply.user.status == users_pb2.USER_STATUS_DELETED:
            raise NotFound("user", str(user_id))
        return Account(locked=reply.user.locked)

    async def post(self, post_id: uuid.UUID) -> Post:
        """A live post's author and who may see it (NOT_FOUND if there is no such post)."""
        request = content_pb2.GetPostRequest(id=str(post_id), read_mask=POST_FACTS)
        reply = await self._content.call(self._content_stub.GetPost, request, idempotent=True)
        return Post(
            uuid.UUID(reply.post.author_id),
            # A value this code does not know shows the post to its author and staff only.
            VISIBILITY_NAMES.get(reply.post.visibility, "private"),
            MODERATION_NAMES.get(reply.post.moderation_state, "removed"),
        )

    async def author(self, target: Target, token: str) -> uuid.UUID:
        """Who wrote the comment or video, asked as the caller (NOT_FOUND when they may not
        see it)."""
        kind, target_id = target
        if kind == "comment":
            comment = await self._content.call(
                self._content_stub.GetComment,
                content_pb2.GetCommentRequest(id=str(target_id)),
                idempotent=True,
                token=token,
            )
            return uuid.UUID(comment.comment.author_id)
        video = await self._content.call(
            self._content_stub.GetVideo,
            content_pb2.GetVideoRequest(id=str(target_id)),
            idempotent=True,
            token=token,
        )
        return uuid.UUID(video.video.author_id)
