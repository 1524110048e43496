"""A service's part in the domain events: the relay of its outbox, and a consumer for each
stream it subscribes to, started with the service and stopped once its calls drained.

A service lists its subscriptions (which family of events, handled by which group, how);
the group name is "<service>.<purpose>", so every replica of a service shares the work
of each group and two services never share one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from daira.events.v1 import events_pb2
from daira.users.v1 import users_events_pb2
from shared.consumers import BatchHandler, Consumer, Filter, Handler
from shared.ids import parse_id
from shared.outbox import stream_name
from shared.relay import Relay
from shared.server import Runtime
from shared.streams import USERS_ACCOUNTS

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Subscription:
    # The family of events, as the producing service records them ("content.posts").
    family: str
    # "<service>.<purpose>", e.g. "social.notifications".
    group: str
    handler: Handler
    # The events the handler has something to do with (None: every event of the family);
    # the consumer acknowledges the others without a transaction. The handler ignores
    # them too.
    acts_on: Filter | None = None
    # The handler's effects are outside the database and harmless to repeat: it runs with
    # no transaction and no processed_events row (shared.consumers).
    repeatable: bool = False
    # The handler's equal for several events at once, for a handler whose effects are
    # cheaper made together (shared.consumers).
    handle_together: BatchHandler | None = None


class UnexpectedPayload(ValueError):
    """An event whose payload is not the message its type promises: it cannot succeed on
    a retry, so it fails every attempt and ends in the dead-letter stream."""


def payload(event: events_pb2.Event, message_type: type[M]) -> M:
    """The event's payload as `message_type`."""
    message = message_type()
    if not event.payload.Unpack(message):
        raise UnexpectedPayload(
            f"{event.type} carries {event.payload.TypeName()}, "
            f"not {message_type.DESCRIPTOR.full_name}"
        )
    return message


def of_types(*types: str) -> Filter:
    """An `acts_on` for a handler with something to do with every event of these types."""
    wanted = frozenset(types)
    return lambda event: event.type in wanted


DeletionHandler = Callable[
    [AsyncConnection, uuid.UUID, users_events_pb2.UserDeleted], Awaitable[None]
]


def on_user_deleted(group: str, handle: DeletionHandler) -> Subscription:
    """A service's part in a deleted account's cascade: `handle` gets each
    users.user.deleted with the account's id parsed; the stream's other events pass by."""

    async def on_account(conn: AsyncConnection, event: events_pb2.Event) -> None:
        if event.type != "users.user.deleted":
            return
        deleted = payload(event, users_events_pb2.UserDeleted)
        await handle(conn, parse_id("user_id", deleted.user_id), deleted)

    return Subscription(USERS_ACCOUNTS, group, on_account, of_types("users.user.deleted"))


class Events:
    def __init__(
        self, runtime: Runtime, subscriptions: Sequence[Subscription], *, relay: bool = True
    ) -> None:
        """`relay`: whether this service records events of its own to publish."""
        settings = runtime.settings
        prefix = settings.events_stream_prefix
        self.relay = (
            Relay(
                runtime.db,
                runtime.redis,
                runtime.spec.name,
                poll_seconds=settings.events_poll_seconds,
                idle_seconds=settings.events_idle_seconds,
                stream_prefix=prefix,
            )
            if relay
            else None
        )
        self.consumers = [
            Consumer(
                runtime.db,
                runtime.redis,
                stream_name(prefix, subscription.family),
                subscription.group,
                subscription.handler,
                acts_on=subscription.acts_on,
                repeatable=subscription.repeatable,
                handle_together=subscription.handle_together,
                block_seconds=settings.events_block_seconds,
                max_attempts=settings.events_max_attempts,
                backoff_seconds=settings.events_backoff_seconds,
                backoff_max_seconds=settings.events_backoff_max_seconds,
                claim_idle_seconds=settings.events_claim_idle_seconds,
            )
            for subscription in subscriptions
        ]

    def start(self) -> None:
        if self.relay is not None:
            self.relay.start()
        for consumer in self.consumers:
            consumer.start()

    async def close(self) -> None:
        for consumer in self.consumers:
            await consumer.close()
        if self.relay is not None:
            await self.relay.close()
