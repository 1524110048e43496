"""Post media and the storage quota it uses, kept consistent across two services.

The bytes are reserved with the users service under a key derived from the media id
(`content-media:<id>`), and a crash may come between any two steps. So:

1. the row is committed first, state pending (never shown), with its key;
2. ReserveStorage(key) is called (idempotent: a retry counts once);
3. the row becomes active with a conditional UPDATE … WHERE state = 'pending'.

A refusal (quota) deletes the pending row. An unknown outcome (users down, deadline)
leaves it pending: a retry with the same request_id resumes at step 2. Pending rows
older than `media_pending_timeout_seconds` (longer than any reserve call may take) are
claimed by the reconciler, which moves them to releasing. Deleting media or its post
also moves it to releasing. A releasing row is deleted only once ReleaseStorage(key)
has succeeded (or said there was nothing to release), so bytes are never kept for media
that is gone, and media is never shown without its reservation. If a reserve lands
after the row was claimed, step 3 fails and the writer releases (or, failing that,
records a releasing row again for the reconciler).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from daira.content.v1 import content_pb2 as pb
from services.content import convert, repository, repository_media, validation
from services.content.deps import Deps, is_self, now, privileged, require_user, sees
from services.content.peers import Relation
from shared.auth import Principal
from shared.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Relayed,
    Unavailable,
)
from shared.ids import new_id
from shared.logs import get_logger

log = get_logger("daira.content.media")

MAX_MEDIA_PER_POST = 10
RELEASES_PER_ROUND = 100


def reservation_key(media_id: uuid.UUID) -> str:
    return f"content-media:{media_id}"


class Media:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        # Completions outlive a cancelled call (see add); kept here so they are not lost.
        self._completing: set[asyncio.Task[pb.PostMedia]] = set()

    async def add(
        self,
        principal: Principal,
        post_id: uuid.UUID,
        request: pb.AddPostMediaRequest,
    ) -> pb.PostMedia:
        author = require_user(principal)
        url = validation.web_url("url", request.url)
        mime_type = validation.mime_type("mime_type", request.mime_type)
        if request.size_bytes <= 0:
            raise InvalidArgument("size_bytes", "must be positive")
        width = validation.dimension("width", request.width)
        height = validation.dimension("height", request.height)
        key = validation.request_id(request.request_id)
        digest = validation.digest(url, mime_type, request.size_bytes, width, height)
        moment = now()
        async with self._deps.db.transaction() as conn:
            post = await repository.lock_post(conn, post_id)
            if post is None or post.moderation_state != "visible":
                raise NotFound("post", str(post_id))
            if post.author_id != author:
                if not sees(
                    principal, post.author_id, post.visibility, "visible", Relation.UNKNOWN
                ):
                    raise NotFound("post", str(post_id))
                raise PermissionDenied(
                    "only its author may add media to a post", reason="NOT_POST_AUTHOR"
                )
            row = await repository_media.media_by_request(conn, post_id, key) if key else None
            if row is not None and row.request_digest != digest:
                raise AlreadyExists(
                    "this request_id was used for different media",
                    reason="REQUEST_ID_REUSED",
                    metadata={"request_id": key or ""},
                )
            if row is None:
                if await repository_media.count_media(conn, post_id) >= MAX_MEDIA_PER_POST:
                    raise FailedPrecondition(
                        f"a post holds at most {MAX_MEDIA_PER_POST} media",
                        reason="MEDIA_LIMIT_REACHED",
                    )
                media_id = new_id()
                row = await repository_media.insert_media(
                    conn,
                    id=media_id,
                    post_id=post_id,
                    author_id=author,
                    url=url,
                    mime_type=mime_type,
                    size_bytes=request.size_bytes,
                    width=width,
                    height=height,
                    reservation_key=reservation_key(media_id),
                    request_id=key,
                    request_digest=digest,
                    created_at=moment,
                    updated_at=moment,
                )
        if row.state == "active":
            return convert.media(row._mapping, str(post_id))
        # The caller going away must not stop steps 2-3 halfway: finish them regardless.
        task = asyncio.ensure_future(self._complete(row))
        self._completing.add(task)
        task.add_done_callback(_settled(self._completing))
        return await asyncio.shield(task)

    async def _complete(self, row: repository.Record) -> pb.PostMedia:
        peers = self._deps.peers
        try:
            await peers.reserve_storage(row.author_id, row.size_bytes, row.reservation_key)
        except Relayed:
            async with self._deps.db.transaction() as conn:
                await repository_media.drop_pending_media(conn, row.id)
            raise
        async with self._deps.db.transaction() as conn:
            activated = await repository_media.activate_media(conn, row.id, now())
        if not activated:
            await self._release_late(row)
            raise Aborted(
                "the media was withdrawn before it was stored (its post was deleted, or the "
                "attempt timed out); add it again",
                reason="MEDIA_WITHDRAWN",
            )
        await self._deps.forget_posts(row.post_id)
        return convert.media(row._mapping, str(row.post_id))

    async def _release_late(self, row: repository.Record) -> None:
        """Bytes reserved for media that was withdrawn meanwhile go straight back."""
        try:
            await self._deps.peers.release_storage(row.author_id, row.reservation_key)
        except (Unavailable, DeadlineExceeded):
            async with self._deps.db.transaction() as conn:
                await repository_media.owe_release(conn, row, now())

    async def delete(self, principal: Principal, media_id: uuid.UUID) -> None:
        async with self._deps.db.transaction() as conn:
            row = await repository_media.lock_active_media(conn, media_id)
            if row is None:
                raise NotFound("media", str(media_id))
            if not (is_self(principal, row.author_id) or privileged(principal)):
                raise PermissionDenied(
                    "only the post's author or a moderator may remove its media",
                    reason="NOT_POST_AUTHOR",
                )
            owed = await repository_media.start_media_release(conn, media_id, now())
        await self._deps.forget_posts(row.post_id)
        await self.settle(owed)

    async def settle(self, rows: Sequence[repository.Record]) -> None:
        """Give back the bytes of releasing media, then forget it; what fails waits for the
        reconciler."""
        for row in rows:
            try:
                await self._deps.peers.release_storage(row.author_id, row.reservation_key)
            except (Unavailable, DeadlineExceeded) as exc:
                log.warning("storage release postponed", media_id=str(row.id), error=exc.message)
                continue
            async with self._deps.db.transaction() as conn:
                await repository_media.forget_released_media(conn, row.id)

    async def reconcile(self) -> None:
        """One pass: roll back stale pending media, and retry the releases still owed."""
        settings = self._deps.settings
        moment = now()
        stale = moment - timedelta(seconds=settings.media_pending_timeout_seconds)
        async with self._deps.db.transaction() as conn:
            claimed = await repository_media.claim_stale_media(conn, stale, moment)
        retry_before = moment - timedelta(seconds=settings.media_reconcile_interval_seconds)
        async with self._deps.db.connection() as conn:
            owed = await repository_media.media_to_release(conn, retry_before, RELEASES_PER_ROUND)
        if claimed:
            log.info("rolling back media left pending", count=len(claimed))
        await self.settle([*claimed, *owed])

    async def run_reconciler(self) -> None:
        """Reconcile at start and then every interval, until cancelled."""
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("media reconciliation failed; will try again")
            await asyncio.sleep(self._deps.settings.media_reconcile_interval_seconds)


def _settled(tasks: set[asyncio.Task[pb.PostMedia]]) -> Any:
    def done(task: asyncio.Task[pb.PostMedia]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn when the caller went away

    return done
