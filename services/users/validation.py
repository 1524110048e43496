"""Input rules of the users service; each failure names the offending field."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidArgument
from shared.validation import no_nul

USERNAME = re.compile(r"^[a-z0-9_]{3,30}$")
# Deliberately plain: one @, a dotted domain, no spaces. Deliverability is the mailer's job.
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
DISPLAY_NAME_MAX = 50
BIO_MAX = 500
LOCATION_MAX = 100
STYLE_CONFIG_MAX_BYTES = 4096


def username(field: str, value: str) -> str:
    normalized = value.strip().lower()
    if not USERNAME.match(normalized):
        raise InvalidArgument(field, "must be 3 to 30 characters of a-z, 0-9 and _")
    return normalized


def email(field: str, value: str) -> str:
    value = no_nul(field, value.strip())
    if len(value) > 254 or not EMAIL.match(value):
        raise InvalidArgument(field, "must be a valid email address")
    return value


def password(field: str, value: str) -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise InvalidArgument(field, f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return value


def display_name(field: str, value: str) -> str:
    value = no_nul(field, value.strip())
    if not 1 <= len(value) <= DISPLAY_NAME_MAX:
        raise InvalidArgument(field, f"must be 1 to {DISPLAY_NAME_MAX} characters")
    return value


class StyleConfig(BaseModel):
    """The presentation settings a profile may carry; anything else is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    theme: Literal["light", "dark", "system"] | None = None
    accent_color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    font: Literal["system", "serif", "sans", "mono"] | None = None
    layout: Literal["list", "grid"] | None = None


def style_config(field: str, value: dict[str, Any]) -> dict[str, Any]:
    try:
        config = StyleConfig.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise InvalidArgument(field, f"{where}: {first['msg']}") from None
    cleaned = config.model_dump(exclude_none=True)
    if len(str(cleaned)) > STYLE_CONFIG_MAX_BYTES:
        raise InvalidArgument(field, "is too large")
    return cleaned
