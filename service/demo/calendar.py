"""The demo's calendar: its clock in Asia/Shanghai wall time, and the dates sessions fall on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.rules.programme_definition import SessionPlan

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_START = date(2025, 1, 2)
DEMO_NOW = datetime(2026, 11, 23, 10, 0)  # Asia/Shanghai wall time the load ends at


class DemoClock:
    """A settable clock for the demo: pass the same object to `TrainRec(storage, clock=clock)`
    and to `load_demo`. Calling it gives an aware UTC instant; `set` takes Shanghai wall time."""

    def __init__(self, day: date = DEMO_START, hour: int = 8) -> None:
        self.now = instant(datetime.combine(day, time(hour)))

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, hour: int, minute: int = 0, second: int = 0) -> None:
        self.now = instant(datetime.combine(day, time(hour, minute, second)))

    def set_local(self, moment: datetime) -> None:
        """Set to a naive Asia/Shanghai wall-clock datetime."""
        self.now = instant(moment)

    @property
    def local(self) -> datetime:
        """The current time as a naive Asia/Shanghai wall-clock datetime."""
        return self.now.astimezone(SHANGHAI).replace(tzinfo=None)


def instant(local: datetime) -> datetime:
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


def sessions(days: Sequence[date], hours: str) -> tuple[SessionPlan, ...]:
    return tuple(SessionPlan(i + 1, day, Decimal(hours)) for i, day in enumerate(days))


def weekdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def every(start: date, count: int, step_days: int, skip: Sequence[date] = ()) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day not in skip:
            days.append(day)
        day += timedelta(days=step_days)
    return days
