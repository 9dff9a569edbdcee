"""How the printed records write hours, dates and instants."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo


def hours(value: Any) -> str:
    """24 → "24", 12.5 → "12.5" (hours keep at most one decimal)."""
    number = Decimal(str(value))
    return str(int(number)) if number == number.to_integral_value() else f"{number.normalize():f}"


def day(value: date | str | None) -> str:
    """A date as 2024年03月06日 ("" for none)."""
    if value is None or value == "":
        return ""
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def instant(value: datetime, zone: ZoneInfo) -> str:
    """An instant in the policy's zone: 2024-03-06 17:00（北京时间）."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
