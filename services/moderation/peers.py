"""What the moderation service asks and tells the services that own its subjects.

Content says who wrote a post, comment or video, asked as the reporter (their own token
is passed on, so what they may not see is NOT_FOUND to them too), and sets content's
visibility (told with this service's token); users says whether an account exists and
sets its status (suspensions and bans revoke its sessions there), asked as the moderator
who decided, since users lets only staff do that. A service that
does not answer is UNAVAILABLE naming it; its refusals come back as `Relayed`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import grpc
from google.protobuf import field_mask_pb2

from daira.content.v1 import content_pb2, content_pb2_grpc
from daira.users.v1 import users_pb2, users_pb2_grpc
from shared.clients import ServiceClient
from shared.errors import NotFound, Relayed
from shared.messages import timestamp

CONTENT_KINDS = {
    "post": content_pb2.TARGET_KIND_POST,
    "comment": content_pb2.TARGET_KIND_COMMENT,
    "video": content_pb2.TARGET_KIND_VIDEO,
}
VISIBILITY = {
    "removed": content_pb2.MODERATION_STATE_REMOVED,
    "visible": content_pb2.MODERATION_STATE_VISIBLE,
}
STATUS = {
    "suspended": users_pb2.USER_STATUS_SUSPENDED,
    "banned": users_pb2.USER_STATUS_BANNED,
    "active": users_pb2.USER_STATUS_ACTIVE,
}
AUTHOR_ONLY = field_mask_pb2.FieldMask(paths=["author_id"])


class Peers:
    def __init__(self, users: ServiceClient, content: ServiceClient) -> None:
        self._users = users
        self._content = content
        self._user_stub = users.stub(users_pb2_grpc.UserServiceStub)
        self._content_stub = content.stub(content_pb2_grpc.ContentServiceStub)

    async def close(self) -> None:
        await self._users.close()
        await self._content.close()

    async def owner_of(self, kind: str, target_id: uuid.UUID, token: str) -> uuid.UUID:
        """Whom the target concerns (its author, or the user); NOT_FOUND when it does not
        exist or the caller may not see it."""
        try:
            if kind == "user":
                await self._live_account(target_id)
                return target_id
            return await self._author(kind, target_id, token)
        except Relayed as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                raise NotFound(kind, str(target_id)) from None
            raise

    async def _live_account(self, user_id: uuid.UUID) -> None:
        request = users_pb2.GetUserRequest(
            id=str(user_id), read_mask=field_mask_pb2.FieldMask(paths=["status"])
        )
        reply = await self._users.call(self._user_stub.GetUser, request, idempotent=True)
        if reply.user.status == users_pb2.USER_STATUS_DELETED:
            raise NotFound("user", str(user_id))

    async def _author(self, kind: str, target_id: uuid.UUID, token: str) -> uuid.UUID:
        stub, target = self._content_stub, str(target_id)
        if kind == "post":
            post = await self._content.call(
                stub.GetPost,
                content_pb2.GetPostRequest(id=target, read_mask=AUTHOR_ONLY),
                idempotent=True,
                token=token,
            )
            return uuid.UUID(post.post.author_id)
        if kind == "comment":
            comment = await self._content.call(
                stub.GetComment,
                content_pb2.GetCommentRequest(id=target),
                idempotent=True,
                token=token,
            )
            return uuid.UUID(comment.comment.author_id)
        video = await self._content.call(
            stub.GetVideo, content_pb2.GetVideoRequest(id=target), idempotent=True, token=token
        )
        return uuid.UUID(video.video.author_id)

    async def set_visibility(
        self, kind: str, target_id: uuid.UUID, visibility: str, reason: str
    ) -> None:
        request = content_pb2.SetContentVisibilityRequest(
            target_kind=CONTENT_KINDS[kind],
            target_id=str(target_id),
            state=VISIBILITY[visibility],
            reason=reason,
        )
        await self._content.call(self._content_stub.SetContentVisibility, request, idempotent=True)

    async def set_status(
        self, user_id: uuid.UUID, status: str, until: datetime | None, reason: str, token: str
    ) -> None:
        """Asked as the moderator who decided (`token`): users lets staff alone do this."""
        request = users_pb2.SetUserStatusRequest(
            user_id=str(user_id),
            status=STATUS[status],
            reason=reason,
            until=timestamp(until) if until is not None else None,
        )
        await self._users.call(self._user_stub.SetUserStatus, request, idempotent=True, token=token)
