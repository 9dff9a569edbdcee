"""The late-entry rule (domain/rules/late_entry.py): when a fact may be dated, and when dating it
back makes it a late entry (补录) that needs a reason and staff."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.rules.late_entry import Occurrence, ensure_occurrence
from tests.domain.rules.builders import ADMIN, PROVIDER, SCHOOL, SUPERVISOR, TRAINEE

TODAY = date(2024, 5, 10)


def test_without_a_date_a_fact_happened_today() -> None:
    assert ensure_occurrence(None, None, TODAY, 30, SCHOOL) == Occurrence(TODAY, False, None)


def test_thirty_days_back_is_not_late_thirty_one_is() -> None:
    assert ensure_occurrence(TODAY - timedelta(days=30), None, TODAY, 30, PROVIDER).late_entry is False
    with pytest.raises(DomainError) as caught:
        ensure_occurrence(TODAY - timedelta(days=31), None, TODAY, 30, PROVIDER)
    assert caught.value.code == "late_reason_required"
    late = ensure_occurrence(TODAY - timedelta(days=31), "  原平台迁移  ", TODAY, 30, PROVIDER)
    assert late == Occurrence(date(2024, 4, 9), True, "原平台迁移")


def test_a_blank_late_reason_is_no_reason() -> None:
    with pytest.raises(DomainError) as caught:
        ensure_occurrence(date(2024, 1, 2), " \n ", TODAY, 30, ADMIN)
    assert caught.value.code == "late_reason_required"


def test_the_policy_sets_the_late_entry_window() -> None:
    assert ensure_occurrence(TODAY - timedelta(days=1), "补录", TODAY, 0, SCHOOL).late_entry is True
    assert ensure_occurrence(TODAY - timedelta(days=89), None, TODAY, 90, SCHOOL).late_entry is False


def test_nothing_happens_tomorrow() -> None:
    with pytest.raises(DomainError) as caught:
        ensure_occurrence(TODAY + timedelta(days=1), "补录", TODAY, 30, SUPERVISOR)
    assert caught.value.code == "occurred_in_future"


def test_a_teacher_dates_only_today() -> None:
    assert ensure_occurrence(TODAY, None, TODAY, 30, TRAINEE).on == TODAY
    for back in (1, 31):
        with pytest.raises(DomainError) as caught:
            ensure_occurrence(TODAY - timedelta(days=back), "补录", TODAY, 30, TRAINEE)
        assert caught.value.code == "late_entry_forbidden"
        assert caught.value.kind == "forbidden"


@given(
    back=st.integers(min_value=-3, max_value=400),
    window=st.integers(min_value=0, max_value=120),
    reason=st.sampled_from([None, "", "补录"]),
    staff=st.sampled_from([ADMIN, SCHOOL, PROVIDER, SUPERVISOR]),
)
def test_late_exactly_when_more_days_back_than_the_window(
    back: int, window: int, reason: str | None, staff: object
) -> None:
    on = TODAY - timedelta(days=back)
    if back < 0 or (back > window and not reason):
        with pytest.raises(DomainError) as refusal:
            ensure_occurrence(on, reason, TODAY, window, staff)  # type: ignore[arg-type]
        assert refusal.value.code == ("occurred_in_future" if back < 0 else "late_reason_required")
        return
    occurrence = ensure_occurrence(on, reason, TODAY, window, staff)  # type: ignore[arg-type]
    assert occurrence.on == on
    assert occurrence.late_entry is (back > window)
    assert occurrence.late_reason == (reason or None)
