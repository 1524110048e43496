"""Post media and the storage quota it uses, kept consistent across two services.

Media comes with a new post (CreatePost) or is added to a published one (AddPostMedia).
Its bytes are reserved with the users service under a key derived from the media id
(`content-media:<id>`), and a crash may come between any two steps. So:

1. the rows are committed first, state pending (never shown), each with its key; a new
   post is committed with them in the same transaction, unpublished (never shown);
2. ReserveStorage(key) is called for each (idempotent: a retry counts once);
3. the rows become active, and the new post published, in one transaction of
   conditional UPDATEs (… WHERE state is pending; … WHERE the post is not deleted).

A refusal (quota) withdraws them all: the unpublished post is removed and the rows
become releasing, so the bytes reserved for the earlier ones go back. An unknown
outcome (users down, deadline) leaves everything pending: a retry with the same
request_id resumes at step 2. Pending rows and unpublished posts older than
`media_pending_timeout_seconds` (longer than any reserve call may take) are claimed by
the reconciler, which removes such posts and moves such rows to releasing. Deleting
media or its post also moves it to releasing. A releasing row is deleted only once
ReleaseStorage(key) has succeeded (or said there was nothing to release), so bytes are
never kept for media that is gone, and media is never shown without its reservation.
If a reserve lands after the rows were claimed, step 3 fails and the writer withdraws
them itself, releasing every key it reserved (or, failing that, recording a releasing
row again for the reconciler).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from daira.content.v1 import content_pb2 as pb
from services.content import convert, events, repository, repository_media, validation
from services.content.deps import Deps, now, require_user
from shared.auth import Principal
from shared.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Relayed,
    Unavailable,
)
from shared.ids import new_id
from shared.logs import get_logger
from shared.visibility import Relation, is_self, privileged, sees

log = get_logger("daira.content.media")

MAX_MEDIA_PER_POST = validation.MAX_MEDIA_PER_POST
RELEASES_PER_ROUND = 100
CLAIMS_PER_ROUND = 500


def reservation_key(media_id: uuid.UUID) -> str:
    return f"content-media:{media_id}"


def new_media(
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    item: validation.MediaItem,
    moment: datetime,
    request_id: str | None = None,
    request_digest: str | None = None,
) -> dict[str, Any]:
    """The values of a media row to insert (pending), with its own reservation key."""
    media_id = new_id()
    return {
        "id": media_id,
        "post_id": post_id,
        "author_id": author_id,
        **item._asdict(),
        "reservation_key": reservation_key(media_id),
        "request_id": request_id,
        "request_digest": request_digest,
        "created_at": moment,
        "updated_at": moment,
    }


def withdrawn() -> Aborted:
    return Aborted(
        "the media was withdrawn before it was stored (its post was deleted, or the attempt "
        "timed out); try again",
        reason="MEDIA_WITHDRAWN",
    )


class _Withdrawn(Exception):
    """Step 3 found the post or some of the media gone: roll its transaction back."""


class Media:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        # Completions outlive a cancelled call (see store); kept here so they are not lost.
        self._completing: set[asyncio.Task[None]] = set()

    async def add(
        self,
        principal: Principal,
        post_id: uuid.UUID,
        request: pb.AddPostMediaRequest,
    ) -> pb.PostMedia:
        author = require_user(principal)
        item = validation.media_item(request)
        key = validation.request_id(request.request_id)
        digest = validation.digest(*item)
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
                values = new_media(post_id, author, item, moment, key, digest)
                (row,) = await repository_media.insert_media(conn, [values])
        if row.state != "active":
            await self.store(post_id, [row], publish=False)
        return convert.media(row._mapping, str(post_id))

    async def store(
        self, post_id: uuid.UUID, rows: Sequence[repository.Record], *, publish: bool
    ) -> None:
        """Steps 2-3 for the post's pending `rows`, publishing the post with them if
        `publish`. The caller going away must not stop them halfway: they run regardless."""
        task = asyncio.ensure_future(self._store(post_id, rows, publish))
        self._completing.add(task)
        task.add_done_callback(_settled(self._completing))
        await asyncio.shield(task)

    async def _store(
        self, post_id: uuid.UUID, rows: Sequence[repository.Record], publish: bool
    ) -> None:
        try:
            for row in rows:
                await self._deps.peers.reserve_storage(
                    row.author_id, row.size_bytes, row.reservation_key
                )
        except Relayed:
            await self._withdraw(post_id, rows, publish)
            raise
        try:
            async with self._deps.db.transaction() as conn:
                # The post before its media: the order DeletePost locks them in.
                if publish:
                    await self._publish(conn, post_id)
                if not await repository_media.activate_media(conn, [r.id for r in rows], now()):
                    raise _Withdrawn
        except _Withdrawn:
            await self._withdraw(post_id, rows, publish)
            raise withdrawn() from None
        await self._deps.forget_posts(post_id)

    async def _publish(self, conn: AsyncConnection, post_id: uuid.UUID) -> None:
        """Show the post, and record that it was published, once."""
        post = await repository.publish_post(conn, post_id)
        if post is None:
            raise _Withdrawn
        if not post.published:
            mentioned = await repository.mentioned_users(conn, post_id)
            await events.post_created(
                conn, post_id, post.author_id, post.visibility, post.created_at, mentioned
            )

    async def _withdraw(
        self, post_id: uuid.UUID, rows: Sequence[repository.Record], publish: bool
    ) -> None:
        """Give up on `rows` (and on their post, unpublished, if `publish`): none is shown,
        and every byte reserved for them goes back. What a concurrent retry with the same
        request_id stored meanwhile is kept: its reservations are in place."""
        async with self._deps.db.transaction() as conn:
            if publish:
                await repository.remove_unpublished_post(conn, post_id)
            kept = await repository_media.withdraw_media(conn, [r.id for r in rows], now())
        await self.settle([row for row in rows if row.id not in kept])

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
        """Give back the bytes of media being let go, then forget it; what users cannot take
        now stays (or is recorded again) releasing, for the reconciler."""
        for row in rows:
            try:
                await self._deps.peers.release_storage(row.author_id, row.reservation_key)
            except (Unavailable, DeadlineExceeded) as exc:
                log.warning("storage release postponed", media_id=str(row.id), error=exc.message)
                async with self._deps.db.transaction() as conn:
                    await repository_media.owe_release(conn, row, now())
                continue
            async with self._deps.db.transaction() as conn:
                await repository_media.forget_released_media(conn, row.id)

    async def reconcile(self) -> None:
        """One pass: roll back stale unpublished posts and pending media, and retry the
        releases still owed."""
        settings = self._deps.settings
        moment = now()
        stale = moment - timedelta(seconds=settings.media_pending_timeout_seconds)
        async with self._deps.db.transaction() as conn:
            removed = await repository.remove_stale_unpublished_posts(conn, stale, CLAIMS_PER_ROUND)
            # A removed post's media, written with it, is as stale: claimed with the rest.
            claimed = await repository_media.claim_stale_media(
                conn, stale, moment, CLAIMS_PER_ROUND
            )
        retry_before = moment - timedelta(seconds=settings.media_reconcile_interval_seconds)
        async with self._deps.db.connection() as conn:
            owed = await repository_media.media_to_release(conn, retry_before, RELEASES_PER_ROUND)
        if removed:
            log.info("rolling back posts left unpublished", count=len(removed))
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


def _settled(tasks: set[asyncio.Task[None]]) -> Any:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not warn when the caller went away

    return done
