"""HandleProviderEvent: the providers' webhook, authenticated by the event's signature.

The signature is checked (HMAC-SHA256 under the provider's secret, compared in constant
time) before the payload is even parsed, and an event signed longer ago than the
tolerance is refused as a replay. Then, in one transaction, the payment is locked, the
event id recorded (a redelivery finds it and moves nothing) and a still-pending payment
settled. An event about a payment already settled is acknowledged and changes nothing,
so the provider stops resending it.
"""

from __future__ import annotations

import hashlib
import time

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, repository_payments
from services.payments.deps import Deps, now
from services.payments.providers import SUCCEEDED, Event, verify
from services.payments.settlement import settle
from shared.errors import AlreadyExists, FailedPrecondition, NotFound, Unauthenticated
from shared.logs import get_logger

log = get_logger("daira.payments.events")


class Events:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle(
        self, provider_value: int, payload: bytes, signature: str
    ) -> pb.HandleProviderEventResponse:
        name = convert.provider("provider", provider_value)
        secret = self._deps.providers[name].webhook_secret()
        if not verify(secret, payload, signature):
            raise Unauthenticated(
                "the event's signature does not match its payload", reason="SIGNATURE_INVALID"
            )
        event = Event.parse(payload)
        tolerance = self._deps.settings.webhook_tolerance_seconds
        if abs(time.time() - event.created) > tolerance:
            raise Unauthenticated(
                f"the event was signed more than {tolerance} s from now (a replay?)",
                reason="EVENT_EXPIRED",
                metadata={"event_id": event.id},
            )
        moment = now()
        async with self._deps.db.transaction() as conn:
            payment = await repository_payments.lock_payment_by_reference(
                conn, name, event.reference
            )
            if payment is None:
                raise NotFound("payment", event.reference)
            if (event.amount, event.currency) != (payment.amount, payment.currency):
                raise FailedPrecondition(
                    "the event's amount or currency is not the payment's",
                    reason="EVENT_MISMATCH",
                    metadata={"event_id": event.id},
                )
            fingerprint = hashlib.sha256(payload).hexdigest()
            first = await repository_payments.record_event(
                conn, name, event.id, fingerprint, payment.id, moment
            )
            if not first:
                earlier = await repository_payments.find_event(conn, name, event.id)
                if earlier is not None and earlier.digest != fingerprint:
                    raise AlreadyExists(
                        "this event id was used for a different event",
                        reason="EVENT_ID_REUSED",
                        metadata={"event_id": event.id},
                    )
            elif payment.state == "pending":
                payment = await settle(
                    conn, self._deps, payment, event.type == SUCCEEDED, event.reason, moment
                )
            else:
                log.warning(
                    "event for a settled payment ignored",
                    payment_id=str(payment.id),
                    state=payment.state,
                    event_type=event.type,
                )
        return pb.HandleProviderEventResponse(
            event_id=event.id, duplicate=not first, payment=convert.payment(payment)
        )

    async def deliver_sandbox(self, payload: bytes, signature: str) -> object:
        """Where the sandbox simulator's events arrive, as at the webhook."""
        return await self.handle(pb.PROVIDER_SANDBOX, payload, signature)
