"""Revoking a credit: with a reason, once (domain/teacher.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import NotFound
from domain.ids import event_id
from tests.domain.rules.builders import END, SUPERVISOR, at, credited, last_event, refused


def test_a_revocation_records_who_and_why() -> None:
    teacher, _ = credited()
    teacher.revoke_credit("C-1", "  重复登记 ", SUPERVISOR, at(END + timedelta(days=5)))
    credit = teacher.credit("C-1")
    assert credit.revoked
    assert credit.revoked_reason == "重复登记"
    assert credit.revoked_event_id == event_id(teacher.id, teacher.version)
    event = last_event(teacher)
    assert (event.credit_id, event.dispute_id, event.actor) == ("C-1", None, SUPERVISOR.as_record())


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_revocation_without_a_reason_is_refused(reason: str) -> None:
    teacher, _ = credited()
    with refused(teacher, "reason_required"):
        teacher.revoke_credit("C-1", reason, SUPERVISOR, at(END + timedelta(days=5)))


def test_a_revoked_credit_cannot_be_revoked_again() -> None:
    teacher, _ = credited()
    teacher.revoke_credit("C-1", "重复登记", SUPERVISOR, at(END + timedelta(days=5)))
    with refused(teacher, "credit_already_revoked"):
        teacher.revoke_credit("C-1", "再次撤销", SUPERVISOR, at(END + timedelta(days=6)))


def test_revoking_an_unknown_credit_is_not_found() -> None:
    teacher, _ = credited()
    with refused(teacher, "credit_not_found") as caught:
        teacher.revoke_credit("C-404", "重复登记", SUPERVISOR, at(END + timedelta(days=5)))
    assert isinstance(caught.value, NotFound)
