"""Transfers between schools: to another school, dated, in order, not in the future."""

from __future__ import annotations

from datetime import date

from domain.errors import Conflict
from domain.teacher_records import Posting


def ensure_transfer_in_order(postings: list[Posting], to_school_id: str, effective_on: date, today: date) -> None:
    current = postings[-1]
    if current.school_id == to_school_id:
        raise Conflict("same_school", f"the teacher is already at {to_school_id}")
    if effective_on > today:
        raise Conflict("transfer_in_future", f"record the transfer on or after {effective_on}")
    if current.from_date is not None and effective_on < current.from_date:
        raise Conflict(
            "transfer_out_of_order",
            f"the teacher joined {current.school_id} on {current.from_date}, after {effective_on}",
        )
