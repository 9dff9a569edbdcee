"""学时 amounts: positive decimals with at most one decimal place."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.errors import Invalid

MAX_HOURS = Decimal(2000)


def ensure_valid_hours(value: Decimal | int | float | str, what: str = "hours") -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid("invalid_hours", f"{what} must be a number") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise Invalid("invalid_hours", f"{what} must be above 0 and at most {MAX_HOURS}")
    tenths = hours.quantize(Decimal("0.1"))
    if tenths != hours:
        raise Invalid("invalid_hours", f"{what} may have at most one decimal place")
    return tenths.quantize(Decimal(1)) if tenths == tenths.to_integral_value() else tenths
