"""The ISO 4217 currencies the ledger supports, with their minor units, and amount rules."""

from __future__ import annotations

from shared.errors import InvalidArgument

# code: digits after the decimal point (the minor unit is 10**-digits of the major one).
MINOR_UNITS = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "EGP": 2,
    "SAR": 2,
    "AED": 2,
    "CAD": 2,
    "AUD": 2,
    "CHF": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
}

# The largest amount of one transfer: 10**13 minor units, so that even sums over many
# transfers stay far inside a bigint.
MAX_AMOUNT = 10**13


def currency(field: str, value: str) -> str:
    """A supported ISO 4217 code, as given (upper case)."""
    if not value:
        raise InvalidArgument(field, "is required")
    if value not in MINOR_UNITS:
        raise InvalidArgument(field, "must be a supported ISO 4217 code, e.g. USD")
    return value


def amount(field: str, value: int) -> int:
    """A positive whole number of minor units, at most MAX_AMOUNT."""
    if value <= 0:
        raise InvalidArgument(field, "must be a positive number of minor units")
    if value > MAX_AMOUNT:
        raise InvalidArgument(field, f"must be at most {MAX_AMOUNT}")
    return value
