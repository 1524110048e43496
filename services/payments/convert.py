"""Rows to protobuf messages and request enums to stored names."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from daira.payments.v1 import payments_pb2 as pb
from services.payments.providers import Action
from services.payments.repository import Record, Transfer
from shared.errors import InvalidArgument
from shared.messages import timestamp

PROVIDERS = {
    "stripe": pb.PROVIDER_STRIPE,
    "paypal": pb.PROVIDER_PAYPAL,
    "fawry": pb.PROVIDER_FAWRY,
    "instapay": pb.PROVIDER_INSTAPAY,
    "sandbox": pb.PROVIDER_SANDBOX,
}
PROVIDER_NAMES = {number: name for name, number in PROVIDERS.items()}
TYPES = {
    "deposit": pb.TRANSACTION_TYPE_DEPOSIT,
    "tip": pb.TRANSACTION_TYPE_TIP,
    "withdrawal": pb.TRANSACTION_TYPE_WITHDRAWAL,
    "refund": pb.TRANSACTION_TYPE_REFUND,
}
TYPE_NAMES = {number: name for name, number in TYPES.items()}
BEHAVIORS = {
    pb.SANDBOX_BEHAVIOR_UNSPECIFIED: "succeed",
    pb.SANDBOX_BEHAVIOR_SUCCEED: "succeed",
    pb.SANDBOX_BEHAVIOR_FAIL: "fail",
    pb.SANDBOX_BEHAVIOR_DELAY: "delay",
    pb.SANDBOX_BEHAVIOR_DUPLICATE: "duplicate",
    pb.SANDBOX_BEHAVIOR_SILENT: "silent",
}
PAYMENT_KINDS = {"deposit": pb.PAYMENT_KIND_DEPOSIT, "withdrawal": pb.PAYMENT_KIND_WITHDRAWAL}
PAYMENT_STATES = {
    "pending": pb.PAYMENT_STATE_PENDING,
    "succeeded": pb.PAYMENT_STATE_SUCCEEDED,
    "failed": pb.PAYMENT_STATE_FAILED,
}


def provider(field: str, value: int) -> str:
    name = PROVIDER_NAMES.get(value)  # type: ignore[call-overload]
    if name is None:
        raise InvalidArgument(field, "must be STRIPE, PAYPAL, FAWRY, INSTAPAY or SANDBOX")
    return name


def behavior(field: str, value: int) -> str:
    name = BEHAVIORS.get(value)  # type: ignore[call-overload]
    if name is None:
        raise InvalidArgument(field, "is not a sandbox behavior")
    return name


def transaction_type(field: str, value: int) -> str | None:
    """A filter's type; None for every type."""
    if value == pb.TRANSACTION_TYPE_UNSPECIFIED:
        return None
    name = TYPE_NAMES.get(value)  # type: ignore[call-overload]
    if name is None:
        raise InvalidArgument(field, "must be DEPOSIT, TIP, WITHDRAWAL or REFUND")
    return name


def _state(pending: bool, resolution: str | None) -> pb.TransactionState.ValueType:
    if not pending or resolution == "post_pending":
        return pb.TRANSACTION_STATE_POSTED
    if resolution == "void_pending":
        return pb.TRANSACTION_STATE_VOIDED
    return pb.TRANSACTION_STATE_PENDING


def transaction(row: Record) -> pb.Transaction:
    """A transfer read with its resolution and refunded amount (repository.SHOWN)."""
    return _transaction(row, row.resolution, int(row.refunded))


def written(transfer: Transfer) -> pb.Transaction:
    """A transfer just written: not resolved, not refunded."""
    return _transaction(transfer, None, 0)


def _transaction(row: Any, resolution: str | None, refunded: int) -> pb.Transaction:
    return pb.Transaction(
        id=str(row.id),
        type=TYPES[row.type],
        state=_state(row.pending, resolution),
        currency_code=row.currency,
        amount=row.amount,
        fee=row.fee,
        payer_id=str(row.payer_id) if row.payer_id else "",
        payee_id=str(row.payee_id) if row.payee_id else "",
        note=row.note,
        refunded_transaction_id=str(row.refund_of) if row.refund_of else "",
        refunded_amount=refunded,
        payment_id=str(row.payment_id) if row.payment_id else "",
        create_time=timestamp(row.created_at),
    )


def payment(row: Record, viewer: uuid.UUID | None = None) -> pb.Payment:
    """A payment; its next action only when `viewer` is its owner, since a Stripe client
    secret confirms the payment for whoever holds it (admins and the webhook see none)."""
    shown = row.next_action is not None and viewer == row.user_id
    return pb.Payment(
        id=str(row.id),
        kind=PAYMENT_KINDS[row.kind],
        state=PAYMENT_STATES[row.state],
        provider=PROVIDERS[row.provider],
        provider_reference=row.reference,
        user_id=str(row.user_id),
        amount=row.amount,
        currency_code=row.currency,
        destination=row.destination,
        failure_reason=row.failure_reason,
        transaction_id=str(row.transfer_id) if row.transfer_id else "",
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
        next_action=_action(Action(**row.next_action)) if shown else None,
    )


def _action(action: Action) -> pb.PaymentAction:
    return pb.PaymentAction(
        client_secret=action.client_secret,
        redirect_url=action.redirect_url,
        expire_time=Timestamp(seconds=action.expire_time) if action.expire_time else None,
    )


def wallet(user_id: str, currency: str, row: Record | None) -> pb.Wallet:
    """A wallet, or an empty one when it has not been opened yet."""
    if row is None:
        return pb.Wallet(user_id=user_id, currency_code=currency)
    return pb.Wallet(
        user_id=user_id,
        currency_code=currency,
        posted_balance=row.posted,
        pending_balance=row.pending_debits,
        available_balance=row.posted - row.pending_debits,
        version=row.version,
    )
