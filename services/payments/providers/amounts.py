"""Amounts as PayPal and Fawry write them: decimal major units ("12.50"), not minor ones."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from services.payments.currencies import MINOR_UNITS


def decimal_text(amount: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's digits: 1250 USD is "12.50"."""
    digits = MINOR_UNITS[currency]
    return f"{Decimal(amount).scaleb(-digits):.{digits}f}"


def minor_units(value: object, currency: str) -> int:
    """A provider's decimal amount (string or JSON number) in minor units; ValueError when
    it is not one or has more digits than the currency."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("amount must be a decimal number")
    try:
        scaled = Decimal(str(value)).scaleb(MINOR_UNITS.get(currency, 2))
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a decimal number") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"amount {value!r} has more digits than {currency} has")
    return int(scaled)
