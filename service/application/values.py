"""Small values the application's commands and queries share: ids, instants, digests, JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Transcoding

from domain.errors import Invalid
from domain.ids import event_id
from domain.teacher import Teacher


def new_id(prefix: str) -> str:
    """Ids of credits and disputes: random, short enough to read out on the phone."""
    return f"{prefix}-{uuid4().hex[:16]}"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def ensure_instant(value: datetime, name: str = "instant") -> datetime:
    """An instant a query may ask about: with an offset, between 1900 and 2200."""
    if value.tzinfo is None:
        raise Invalid("invalid_instant", f"{name} needs a UTC offset, e.g. 2025-01-01T00:00:00+08:00")
    try:
        in_range = EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise Invalid("invalid_instant", f"{name} must lie between 1900 and 2200")
    return value


def as_of_instant(text: str, zone: tzinfo, name: str = "as_of") -> datetime:
    """`as_of` as a query gives it: an instant with offset, or a date (`2025-12-31`), which means
    the end of that day in `zone` (the policy's time zone): everything recorded by 24:00 then."""
    text = text.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise Invalid("invalid_instant", f"{name} is not a date (YYYY-MM-DD) nor an instant") from None
        try:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) - timedelta(microseconds=1)
        except OverflowError:
            raise Invalid("invalid_instant", f"{name} must lie between 1900 and 2200") from None
        return ensure_instant(end, name)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("invalid_instant", f"{name} is not an instant with offset (2025-07-01T00:00:00+08:00) "
                      "nor a date (2025-06-30)") from None
    return ensure_instant(instant, name)


def project_events(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's `project_aggregate` without its per-event `isinstance` check against a
    runtime Protocol (a third of the time of loading a teacher's year of events on Python 3.11):
    our stored events are all domain events that can mutate."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 24, 24.0 and 24.00 are the same request
    return str(value)


def fingerprint(payload: Any) -> str:
    """A stable digest of a command's input, to tell a retry from a different request."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

def describe_event(event: Any, aggregate: Aggregate) -> dict[str, Any]:
    """An event as a write answers it: id, type, teacher_no (for a teacher's event), recorded_at."""
    described: dict[str, Any] = {
        "id": event_id(event.originator_id, event.originator_version),
        "type": type(event).__name__,
    }
    if isinstance(aggregate, Teacher):
        described["teacher_no"] = aggregate.teacher_no
    described["recorded_at"] = event.timestamp.isoformat()
    return described


def json_safe(value: Any, sort_keys: bool = False) -> Any:
    """`value` as JSON values (text for dates, decimals …), members in name order if `sort_keys`."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, sort_keys=sort_keys))


def dated(request: dict[str, Any], occurred_on: date | None, late_reason: str | None) -> dict[str, Any]:
    """A command's request (what its idempotency key is bound to) with its effective date and late
    reason, when given: a request without them digests as it always has."""
    if occurred_on is not None:
        request = {**request, "occurred_on": occurred_on}
    if late_reason is not None:
        request = {**request, "late_reason": late_reason}
    return request
