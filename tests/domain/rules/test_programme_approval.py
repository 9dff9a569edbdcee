"""Deciding on a programme that needs approval: once, and a rejection gives its reason (domain/programme.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.vocabulary import Decision
from tests.domain.rules.builders import SUPERVISOR, at, last_event, refused, school_based


def test_a_school_based_programme_is_approved_once() -> None:
    programme = school_based()
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    assert programme.is_approved
    assert last_event(programme).actor == SUPERVISOR.as_record()


def test_a_programme_cannot_be_decided_twice() -> None:
    programme = school_based()
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    with refused(programme, "programme_already_decided"):
        programme.decide(Decision.REJECTED, "重复", SUPERVISOR, at(date(2024, 2, 21)))


def test_a_rejection_with_a_reason_is_recorded() -> None:
    programme = school_based()
    programme.decide(Decision.REJECTED, " 内容不符合要求 ", SUPERVISOR, at(date(2024, 2, 20)))
    assert programme.decision == "rejected"
    assert last_event(programme).reason == "内容不符合要求"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_without_a_reason_is_refused(reason: str) -> None:
    programme = school_based()
    with refused(programme, "reason_required"):
        programme.decide(Decision.REJECTED, reason, SUPERVISOR, at(date(2024, 2, 20)))
