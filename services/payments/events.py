"""HandleProviderEvent: the providers' webhook, authenticated by the event's signature.

The provider checks the delivery in its own scheme (the sandbox's and Stripe's HMAC
before the payload is parsed, with the tolerance against replays; Fawry's hash of its
fields; PayPal's own verification) and reads it as an Event. Then, in one transaction,
the payment is locked, the event id recorded (a redelivery finds it and moves nothing)
and a still-pending payment settled unless the event settles nothing (NOTED). An event
about a payment already settled is acknowledged and changes nothing, so the provider
stops resending it.
"""

from __future__ import annotations

import hashlib

from daira.payments.v1 import payments_pb2 as pb
from services.payments import convert, repository_payments
from services.payments.deps import Deps, now
from services.payments.providers import NOTED, SUCCEEDED
from services.payments.settlement import settle
from shared.errors import AlreadyExists, FailedPrecondition, NotFound
from shared.logs import get_logger

log = get_logger("daira.payments.events")


class Events:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle(
        self, provider_value: int, payload: bytes, signature: str
    ) -> pb.HandleProviderEventResponse:
        name = convert.provider("provider", provider_value)
        event = await self._deps.providers[name].receive(payload, signature)
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
            elif event.type == NOTED:
                log.info("event noted, nothing settled", payment_id=str(payment.id))
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
