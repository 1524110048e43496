"""Rows to protobuf messages, and the field-mask rules of reads."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import field_mask_pb2, json_format, struct_pb2, timestamp_pb2

from daira.users.v1 import users_pb2
from services.users.repository import Record
from shared.errors import InvalidArgument
from shared.messages import etag, timestamp

ROLES = {
    "user": users_pb2.ROLE_USER,
    "moderator": users_pb2.ROLE_MODERATOR,
    "admin": users_pb2.ROLE_ADMIN,
}
STATUSES = {
    "active": users_pb2.USER_STATUS_ACTIVE,
    "suspended": users_pb2.USER_STATUS_SUSPENDED,
    "banned": users_pb2.USER_STATUS_BANNED,
    "deleted": users_pb2.USER_STATUS_DELETED,
}
STATUS_NAMES = {number: name for name, number in STATUSES.items()}
USER_FIELDS = frozenset(f.name for f in users_pb2.User.DESCRIPTOR.fields)


def moment(field: str, value: timestamp_pb2.Timestamp) -> datetime:
    """A request's timestamp as an aware datetime; one outside the calendar is bad input."""
    try:
        return value.ToDatetime(UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(field, "is not a valid time") from None


def effective_status(status: str, until: datetime | None, now: datetime) -> str:
    """A suspension that has run out is over, without any job having to lift it."""
    if status == "suspended" and until is not None and until <= now:
        return "active"
    return status


def user(row: Record) -> users_pb2.User:
    now = datetime.now(UTC)
    status = effective_status(row.status, row.status_until, now)
    message = users_pb2.User(
        id=str(row.id),
        username=row.username,
        email=row.email or "",
        display_name=row.display_name,
        role=ROLES[row.role],
        status=STATUSES[status],
        subscription_tier=row.subscription_tier,
        locked=row.locked,
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
    )
    if status == "suspended" and row.status_until is not None:
        message.status_until.CopyFrom(timestamp(row.status_until))
    return message


def read_mask(mask: field_mask_pb2.FieldMask) -> frozenset[str] | None:
    """The User fields a read asks for; None means all of them."""
    if not mask.paths:
        return None
    unknown = [p for p in mask.paths if p not in USER_FIELDS]
    if unknown:
        raise InvalidArgument("read_mask", f"unknown field {unknown[0]!r}")
    return frozenset(mask.paths)


def present(
    full: users_pb2.User, fields: frozenset[str] | None, show_email: bool
) -> users_pb2.User:
    """What one caller may see of a user: email only for themself and staff; id always."""
    if fields is None and show_email:
        return full
    shown = users_pb2.User()
    shown.CopyFrom(full)
    for field in USER_FIELDS - (fields or USER_FIELDS) - {"id"}:
        shown.ClearField(field)  # type: ignore[arg-type]
    if not show_email:
        shown.ClearField("email")
    return shown


def profile(row: Record) -> users_pb2.Profile:
    style = struct_pb2.Struct()
    json_format.ParseDict(row.style_config or {}, style)
    return users_pb2.Profile(
        user_id=str(row.user_id),
        display_name=row.display_name,
        bio=row.bio,
        location=row.location,
        avatar_url=row.avatar_url,
        website=row.website,
        style_config=style,
        etag=etag(row.version),
        update_time=timestamp(row.updated_at),
        locked=row.locked,
    )


def session(row: Record, current: str | None) -> users_pb2.Session:
    return users_pb2.Session(
        id=str(row.id),
        device=row.device,
        create_time=timestamp(row.created_at),
        last_refresh_time=timestamp(row.last_refresh_at),
        expire_time=timestamp(row.expires_at),
        current=str(row.id) == current,
    )


def usage(row: Record) -> users_pb2.StorageUsage:
    return users_pb2.StorageUsage(
        user_id=str(row.user_id),
        used_bytes=row.used_bytes,
        quota_bytes=row.storage_quota_bytes,
        subscription_tier=row.subscription_tier,
    )


def tier(row: Record) -> users_pb2.SubscriptionTier:
    return users_pb2.SubscriptionTier(
        name=row.name,
        display_name=row.display_name,
        storage_quota_bytes=row.storage_quota_bytes,
        monthly_price_minor=row.monthly_price_minor,
        currency=row.currency,
    )
