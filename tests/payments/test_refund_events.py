"""A refund tells the others through payments.tip.refunded, recorded in the refund's own
transaction: once per refund made, never for a refused one or a retry."""

from __future__ import annotations

import uuid

import grpc

from daira.payments.v1 import payments_events_pb2
from daira.payments.v1 import payments_pb2 as pb
from shared.eventing import payload
from shared.streams import PAYMENTS_TRANSFERS
from tests import harness

from .conftest import fund, key, tip


async def refund(stub, who, tip_id: str, amount: int, request_id: str = "") -> pb.Transaction:
    """A refund sent with an `x-request-id` of its own, as a gateway sends one."""
    request = pb.RefundRequest(
        transaction_id=tip_id, amount=amount, reason="chargeback", request_id=request_id or key()
    )
    metadata = (*who.auth, ("x-request-id", f"refund-{uuid.uuid4().hex}"))
    return (await stub.Refund(request, metadata=metadata)).transaction


async def refunds_published(redis_url, tip_id: str) -> list[payments_events_pb2.TipRefunded]:
    events = await harness.published(redis_url, PAYMENTS_TRANSFERS, tip_id)
    assert {event.type for event in events} <= {"payments.tip.refunded"}
    return [payload(event, payments_events_pb2.TipRefunded) for event in events]


async def test_a_refund_publishes_what_it_moved_and_who_made_it(
    stub, sandbox, redis_url, alice, bob
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 200)  # fee 10
    back = await refund(stub, bob, sent.id, 100)

    [refunded] = await refunds_published(redis_url, sent.id)
    assert (refunded.refund_id, refunded.tip_id) == (back.id, sent.id)
    assert (refunded.amount, refunded.fee_returned, refunded.currency_code) == (100, 5, "USD")
    assert (refunded.refunded_before, refunded.tip_amount) == (0, 200)
    assert (refunded.sender_id, refunded.recipient_id) == (alice.id, bob.id)
    assert (refunded.actor_id, refunded.by_admin, refunded.reason) == (bob.id, False, "chargeback")
    assert refunded.peer.startswith("ipv4:127.0.0.1:")


async def test_the_event_carries_the_refunds_request_id(
    stub, sandbox, redis_url, alice, bob
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    request = pb.RefundRequest(transaction_id=sent.id, amount=10, request_id=key())
    await stub.Refund(request, metadata=(*bob.auth, ("x-request-id", "refund-r1")))

    [event] = await harness.published(redis_url, PAYMENTS_TRANSFERS, sent.id)
    assert event.request_id == "refund-r1"


async def test_an_admins_refund_is_published_as_by_admin(
    stub, sandbox, redis_url, alice, bob, admin
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    await refund(stub, admin, sent.id, 100)

    [refunded] = await refunds_published(redis_url, sent.id)
    assert (refunded.actor_id, refunded.by_admin) == (admin.id, True)


async def test_an_admin_refunding_a_tip_they_received_acts_as_its_recipient(
    stub, sandbox, redis_url, alice, admin
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, admin, 100)
    await refund(stub, admin, sent.id, 50)

    [refunded] = await refunds_published(redis_url, sent.id)
    assert not refunded.by_admin


async def test_a_refused_refund_publishes_nothing(
    stub, sandbox, redis_url, alice, bob, rejected
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    failure = await rejected(refund(stub, bob, sent.id, 101))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    # Published after the refused one would have been: the relay keeps their order.
    later = await refund(stub, bob, sent.id, 30)

    assert [r.refund_id for r in await refunds_published(redis_url, sent.id)] == [later.id]


async def test_a_retried_refund_publishes_its_event_once(
    stub, sandbox, redis_url, alice, bob
) -> None:
    await fund(stub, sandbox, alice, 1_000)
    sent = await tip(stub, alice, bob, 100)
    request_id = key()
    first = await refund(stub, bob, sent.id, 40, request_id)
    await refund(stub, bob, sent.id, 40, request_id)
    later = await refund(stub, bob, sent.id, 10)

    async def published() -> list[tuple[str, int]]:
        return [
            (r.refund_id, r.refunded_before) for r in await refunds_published(redis_url, sent.id)
        ]

    expected = [(first.id, 0), (later.id, 40)]
    assert await harness.settled(published, expected) == expected
