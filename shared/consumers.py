"""Consumers of domain events: a Redis consumer group per handler, at-least-once delivery,
an effect at most once per event, retries with backoff, dead letters.

Exactly-once effect: the handler runs inside a database transaction that first inserts
the event's id into `processed_events` for the group; if the id is already there the event
was handled before, and it is only acknowledged. The entry is acknowledged (XACK) after
the commit, so a crash in between re-delivers an event whose effect is already committed,
and the re-delivery is skipped. Handlers must keep every effect in that transaction. The
new entries of one read are handled in one such transaction and acknowledged together (a
relay publishes a busy moment's events at once, and a commit and an XACK per event cost
more than most handlers); should one of them fail, each is handled alone instead.
A `repeatable` handler, whose effects are outside the database and harmless to repeat
(the home feeds in Redis), instead runs on a connection of its own with no transaction and
nothing recorded: a row in processed_events could not make its effect happen once anyway,
and writing one cost each event three round trips and a commit.

Failures: a failed entry stays pending and is delivered again once it has been idle for
`backoff_seconds * 2 ** (deliveries - 1)` (capped at `backoff_max_seconds`), counting
attempts by the entry's delivery count in Redis, so a restart keeps the count; the failure
of attempt `max_attempts` moves the entry to `<stream>:dead` (`shared.deadletters`). An
envelope that does not parse dies at once. A failure that is the database connection
itself (an outage, not the event's fault) gives its attempt back, and those of the entries
in hand after it that were not tried, and pauses the consumer.

A dead consumer's pending entries are taken over by a live one of its group once they have
been idle `claim_idle_seconds` (XAUTOCLAIM, keeping their delivery count), then retried as
its own; that threshold exceeds the longest backoff, so a live consumer keeps its own
retries. Order: one consumer handles its entries one at a time in stream order, but a
retry, a takeover or several consumers in a group can reorder events, so handlers must not
rely on order (compare versions or timestamps where it matters).

Tending (taking over, retrying, the lag and pending metrics) is done at most once per
`block_seconds` or `backoff_seconds`, whichever is longer (no retry is due sooner), not
on every read: under load each read returns an event or two, and paid four round trips
besides.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf.message import DecodeError
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from shared import metrics, processed_events
from shared.background import BackgroundLoop, Every
from shared.db import Database, is_outage
from shared.deadletters import bury
from shared.logs import get_logger

log = get_logger("daira.consumers")

Handler = Callable[[AsyncConnection, events_pb2.Event], Awaitable[None]]
# A handler of several events in one go, in the order they were published.
BatchHandler = Callable[[AsyncConnection, list[events_pb2.Event]], Awaitable[None]]
# Whether a handler has anything to do with an event.
Filter = Callable[[events_pb2.Event], bool]


class Consumer(BackgroundLoop):
    def __init__(
        self,
        db: Database,
        redis: Redis,
        stream: str,
        group: str,
        handler: Handler,
        *,
        acts_on: Filter | None = None,
        repeatable: bool = False,
        handle_together: BatchHandler | None = None,
        name: str | None = None,
        batch_size: int = 50,
        block_seconds: float = 0.2,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        claim_idle_seconds: float = 60.0,
        retry_seconds: float = 1.0,
        retention_seconds: float = 7 * 86400.0,
        prune_seconds: float = 300.0,
        stop_seconds: float = 5.0,
    ) -> None:
        """`block_seconds`: how long one read waits for new entries; keep it below the
        Redis client's socket timeout (0.5 s in the runtime). `retention_seconds`: how
        long handled ids are kept, so how old a duplicate can be and still be skipped.
        `acts_on`: the events the handler has something to do with (None: all); the others
        are acknowledged without a transaction, since they have no effect to record.
        `repeatable`: the handler's effects may happen again on a re-delivery (see above).
        `handle_together`: the handler's equal for several new entries of one read, given
        them at once (its effects the same as the handler's for each in turn)."""
        super().__init__(stop_seconds)
        if claim_idle_seconds <= backoff_max_seconds:
            raise ValueError("claim_idle_seconds must exceed backoff_max_seconds")
        self._db = db
        self._redis = redis
        self.stream = stream
        self.group = group
        self._handler = handler
        self._acts_on = acts_on
        self._repeatable = repeatable
        self._handle_together = handle_together
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._batch_size = batch_size
        self._block_ms = int(block_seconds * 1000)
        self._max_attempts = max_attempts
        self._backoff_ms = backoff_seconds * 1000
        self._backoff_max_ms = backoff_max_seconds * 1000
        self._claim_idle_ms = int(claim_idle_seconds * 1000)
        self._retry_seconds = retry_seconds
        self._retention_seconds = retention_seconds
        self._pruning = Every(prune_seconds)
        self._tending = Every(max(block_seconds, backoff_seconds))
        self._retry_from = "-"
        self._outcomes = {
            outcome: metrics.EVENTS_HANDLED.labels(stream, group, outcome)
            for outcome in ("handled", "duplicate", "failed", "skipped")
        }

    async def _run(self) -> None:
        """Until closed, which stops it after the event in hand; entries it has not
        acknowledged are taken over by another consumer of the group."""
        while not self.stopping:
            try:
                await self._ensure_group()
                while not self.stopping:
                    await self._round()
            except Exception as exc:
                log.warning(
                    "event consumer interrupted; retrying",
                    stream=self.stream,
                    group=self.group,
                    error=repr(exc),
                )
            await self.pause(self._retry_seconds)

    async def _ensure_group(self) -> None:
        """From the stream's start, so events published before the group existed count."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _round(self) -> None:
        if self._tending.due():
            await self._observe()
            await self._take_over_abandoned()
            await self._retry_due()
            await self._prune()
        reply: Any = await self._redis.xreadgroup(
            self.group,
            self.name,
            {self.stream: ">"},
            count=self._batch_size,
            block=self._block_ms,
        )
        for _stream, entries in reply or []:
            if len(entries) > 1 and not self._repeatable:
                await self._deliver_together(entries)
            else:
                await self._deliver_each([(e, f, 1) for e, f in entries])

    async def _deliver_together(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """New entries handled in one transaction and acknowledged in one command: each alone
        cost a commit and an acknowledgement of its own, and a relay publishes a busy
        moment's events together. Should any entry not parse, or its handler fail (for a
        reason other than an outage), each is delivered alone instead, so that only the
        failing one is retried and counted against its attempts."""
        try:
            events = [events_pb2.Event.FromString(f.get(b"event", b"")) for _, f in entries]
            acts_on = self._acts_on
            acted = [(e, uuid.UUID(e.id)) for e in events if acts_on is None or acts_on(e)]
            async with self._db.transaction() as conn:
                handled = await self._record_and_handle(conn, acted)
        except Exception as exc:
            if is_outage(exc):
                await self._give_back([entry_id for entry_id, _ in entries], 1)
                raise
            await self._deliver_each([(e, f, 1) for e, f in entries])
            return
        self._outcomes["handled"].inc(handled)
        self._outcomes["duplicate"].inc(len(acted) - handled)
        self._outcomes["skipped"].inc(len(entries) - len(acted))
        await self._redis.xack(self.stream, self.group, *(entry_id for entry_id, _ in entries))

    async def _take_over_abandoned(self) -> None:
        """Entries of consumers idle past the threshold become this consumer's, their
        delivery counts unchanged, to be retried by `_retry_due`."""
        reply = await self._redis.xautoclaim(
            self.stream,
            self.group,
            self.name,
            min_idle_time=self._claim_idle_ms,
            start_id="0-0",
            count=self._batch_size,
            justid=True,
        )
        # A scan from the start each round: it stops at `count` claimed entries, and
        # a group's pending list is short when its consumers keep up.
        if reply:
            log.info("took over abandoned events", stream=self.stream, count=len(reply))

    def _backoff(self, deliveries: int) -> float:
        return min(self._backoff_ms * 2 ** (deliveries - 1), self._backoff_max_ms)

    async def _retry_due(self) -> None:
        pending: list[Any] = await self._redis.xpending_range(
            self.stream,
            self.group,
            min=self._retry_from,
            max="+",
            count=self._batch_size,
            consumername=self.name,
            idle=int(self._backoff_ms),
        )
        full_page = len(pending) == self._batch_size
        self._retry_from = f"({pending[-1]['message_id'].decode()}" if full_page else "-"
        due = {
            p["message_id"]: p["times_delivered"]
            for p in pending
            if p["time_since_delivered"] >= self._backoff(p["times_delivered"])
        }
        if not due:
            return
        claimed: Any = await self._redis.xclaim(
            self.stream,
            self.group,
            self.name,
            min_idle_time=int(self._backoff_ms),
            message_ids=list(due),
        )
        await self._deliver_each(
            [(e, f, due[e] + 1) for e, f in claimed if e is not None and f is not None]
        )

    async def _deliver_each(self, entries: list[tuple[bytes, dict[bytes, bytes], int]]) -> None:
        """Each entry alone, at its attempt. Should one meet an outage, those after it,
        not tried, are given their attempt back too."""
        for index, (entry_id, fields, attempt) in enumerate(entries):
            if self.stopping:
                return
            try:
                await self._deliver(entry_id, fields, attempt)
            except Exception:
                untried: dict[int, list[bytes]] = {}
                for later, _, later_attempt in entries[index + 1 :]:
                    untried.setdefault(later_attempt, []).append(later)
                for later_attempt, later_ids in untried.items():
                    await self._give_back(later_ids, later_attempt)
                raise

    async def _deliver(self, entry_id: bytes, fields: dict[bytes, bytes], attempt: int) -> None:
        envelope = fields.get(b"event", b"")
        if attempt > self._max_attempts:
            # Its earlier deliveries never finished: a consumer died on it each time.
            await self._bury(entry_id, envelope, f"delivered {attempt} times", attempt)
            return
        try:
            event = events_pb2.Event.FromString(envelope)
            event_id = uuid.UUID(event.id)
        except (DecodeError, ValueError) as exc:
            await self._bury(entry_id, envelope, f"not a daira.events.v1.Event: {exc}", attempt)
            return
        try:
            if self._acts_on is None or self._acts_on(event):
                outcome = await self._handle(event_id, event)
            else:
                outcome = "skipped"
        except Exception as exc:
            if is_outage(exc):
                await self._give_back([entry_id], attempt)
                raise
            self._outcomes["failed"].inc()
            log.warning(
                "event handler failed",
                stream=self.stream,
                group=self.group,
                event_id=event.id,
                attempt=attempt,
                error=repr(exc),
            )
            if attempt >= self._max_attempts:
                await self._bury(entry_id, envelope, repr(exc), attempt)
            return
        self._outcomes[outcome].inc()
        await self._redis.xack(self.stream, self.group, entry_id)

    async def _give_back(self, entry_ids: list[Any], attempt: int) -> None:
        """An outage is not the events' fault: their attempt is given back, then `_run`
        pauses before the next round."""
        await self._redis.xclaim(
            self.stream,
            self.group,
            self.name,
            min_idle_time=0,
            message_ids=entry_ids,
            retrycount=attempt - 1,
            justid=True,
        )

    async def _handle(self, event_id: uuid.UUID, event: events_pb2.Event) -> str:
        if self._repeatable:
            async with self._db.connection() as conn:
                await self._handler(conn, event)
            return "handled"
        async with self._db.transaction() as conn:
            handled = await self._record_and_handle(conn, [(event, event_id)])
        return "handled" if handled else "duplicate"

    async def _record_and_handle(
        self, conn: AsyncConnection, events: list[tuple[events_pb2.Event, uuid.UUID]]
    ) -> int:
        """Record the events as handled by the group, and handle those it had not handled
        before (a copy later in the list is a duplicate too); how many those were."""
        firsts = await processed_events.record(conn, self.group, [i for _, i in events])
        new = []
        for event, event_id in events:
            if event_id in firsts:
                firsts.discard(event_id)
                new.append(event)
        if self._handle_together is not None and len(new) > 1:
            await self._handle_together(conn, new)
        else:
            for event in new:
                await self._handler(conn, event)
        return len(new)

    async def _bury(self, entry_id: bytes, envelope: bytes, error: str, attempts: int) -> None:
        log.error(
            "event moved to the dead-letter stream",
            stream=self.stream,
            group=self.group,
            entry_id=entry_id.decode(),
            error=error,
        )
        await bury(
            self._redis,
            self.stream,
            self.group,
            entry_id.decode(),
            envelope,
            error=error,
            attempts=attempts,
        )

    async def _observe(self) -> None:
        """Pending entries, and the age of the oldest entry not yet acknowledged."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xpending(self.stream, self.group)
            pipe.xinfo_groups(self.stream)
            pipe.time()
            summary, groups, (seconds, micros) = await pipe.execute()
        metrics.CONSUMER_PENDING.labels(self.stream, self.group).set(summary["pending"])
        oldest: list[bytes] = [summary["min"]] if summary["min"] else []
        delivered = next(
            (g["last-delivered-id"] for g in groups if g["name"] == self.group.encode()), None
        )
        if delivered is not None:
            upcoming: Any = await self._redis.xrange(
                self.stream, min=f"({delivered.decode()}", count=1
            )
            oldest.extend(entry_id for entry_id, _ in upcoming)
        now_ms = seconds * 1000 + micros // 1000
        ages = [now_ms - int(entry_id.split(b"-")[0]) for entry_id in oldest]
        lag = max(max(ages, default=0), 0) / 1000
        metrics.CONSUMER_LAG.labels(self.stream, self.group).set(lag)

    async def _prune(self) -> None:
        if not self._pruning.due():
            return
        async with self._db.transaction() as conn:
            await processed_events.prune(conn, self.group, time.time() - self._retention_seconds)
