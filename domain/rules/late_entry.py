"""Effective dates and late entry (补录): every fact about a teacher's record happened on a date
(`occurred_on`, Asia/Shanghai), which may be earlier than the day it is recorded, never later.

A fact recorded more than the policy's `late_entry_days` after its date is a late entry: it needs
a reason (`late_reason_required`) and is made by staff only. A teacher's own writes always take
the day they are recorded (`late_entry_forbidden` for any other date): the record of what a
teacher did in the past is for the school, the provider or a supervisor to enter and answer for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.actor import Actor
from domain.errors import Forbidden, Invalid
from domain.vocabulary import Role

MAX_LATE_REASON = 2000

# Where a date had no other zone: events recorded before effective dates existed happened on the
# day they were recorded, there.
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Occurrence:
    """When a fact happened, and whether recording it now makes it a late entry (and why)."""

    on: date
    late_entry: bool = False
    late_reason: str | None = None

    @classmethod
    def recorded(cls, now: datetime) -> Occurrence:
        """A fact that happened on the day it is recorded (Asia/Shanghai)."""
        return cls(now.astimezone(SHANGHAI).date())

    def fields(self) -> dict[str, Any]:
        """The fields an event keeps beside its recording instant."""
        return {"occurred_on": self.on, "late_entry": self.late_entry, "late_reason": self.late_reason}


def ensure_occurrence(
    occurred_on: date | None, late_reason: str | None, today: date, late_entry_days: int, actor: Actor
) -> Occurrence:
    """The checked date of a fact recorded `today` by `actor` (default: today)."""
    on = today if occurred_on is None else occurred_on
    if on > today:
        raise Invalid("occurred_in_future", f"occurred_on {on} is after today ({today})")
    if actor.role is Role.TEACHER and on != today:
        raise Forbidden("late_entry_forbidden", "a teacher's own records take today's date; staff enter earlier facts")
    reason = (late_reason or "").strip() or None
    if reason is not None and len(reason) > MAX_LATE_REASON:
        raise Invalid("reason_too_long", f"a reason is at most {MAX_LATE_REASON} characters")
    late = (today - on).days > late_entry_days
    if late and reason is None:
        raise Invalid(
            "late_reason_required",
            f"{on} is more than {late_entry_days} days ago: a late entry (补录) needs a late_reason",
        )
    return Occurrence(on, late, reason)


def recorded_then(state: dict[str, Any]) -> None:
    """Upcaster of every teacher event stored before effective dates: it happened on the day it was
    recorded (Asia/Shanghai), and was not a late entry."""
    timestamp = state["timestamp"]
    assert isinstance(timestamp, datetime)
    state["occurred_on"] = timestamp.astimezone(SHANGHAI).date()
    state["late_entry"] = False
    state["late_reason"] = None
