"""The teacher's lifecycle: registration details corrected, departure, withdrawal before a programme starts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain.errors import Conflict, Invalid
from domain.teacher_records import Posting

MAX_NAME = 50


def ensure_name(name: str) -> str:
    """A teacher's name, as registration checks it (`invalid_name`)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid("invalid_name", f"name must be 1–{MAX_NAME} characters")
    return name


def ensure_hired_on(hired_on: date, now: datetime) -> None:
    """A hire date, as registration checks it (`invalid_hired_on`)."""
    if not date(1950, 1, 1) <= hired_on <= now.date() + timedelta(days=366):
        raise Invalid("invalid_hired_on", "hired_on lies between 1950 and a year from now")


def ensure_hired_on_in_order(postings: list[Posting], hired_on: date, departed_on: date | None) -> None:
    """A corrected hire date starts the first posting: it cannot fall after a later posting's start
    (a transfer) or after the departure."""
    later = [p.from_date for p in postings[1:] if p.from_date is not None]
    if departed_on is not None:
        later.append(departed_on)
    if later and hired_on > min(later):
        raise Conflict("hired_on_out_of_order",
                       f"hired_on {hired_on} falls after {min(later)}, when a later posting or the departure began")


def ensure_not_departed(departure: dict[str, Any] | None, teacher_no: str) -> None:
    """A departed teacher belongs to no school: nothing may give them one again."""
    if departure is not None:
        raise Conflict("teacher_departed",
                       f"teacher {teacher_no} departed ({departure['kind']}) on {departure['effective_on']}")


def ensure_departure_in_order(postings: list[Posting], effective_on: date, today: date) -> None:
    """Like a transfer: not in the future, not before the current posting began."""
    current = postings[-1]
    if effective_on > today:
        raise Conflict("departure_in_future", f"record the departure on or after {effective_on}")
    if current.from_date is not None and effective_on < current.from_date:
        raise Conflict("departure_out_of_order",
                       f"the teacher joined {current.school_id} on {current.from_date}, after {effective_on}")


def ensure_programme_not_started(code: str, starts_on: date, today: date) -> None:
    """A withdrawal comes before the programme's first day (local date)."""
    if today >= starts_on:
        raise Conflict("programme_started", f"programme {code} started on {starts_on}")
