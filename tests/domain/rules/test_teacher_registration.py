"""Registering a teacher: number and name (domain/teacher.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import DomainError
from domain.teacher import Teacher
from tests.domain.rules.builders import ADMIN, at


def test_a_teacher_is_registered_at_a_school() -> None:
    teacher = Teacher.register("A001", "  张伟 ", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    assert (teacher.teacher_no, teacher.name, teacher.school_id) == ("A001", "张伟", "S1")
    assert teacher.school_on(date(2015, 9, 1)) == "S1"


@pytest.mark.parametrize("bad", ["", " A001", "A/001", "A" * 33])
def test_a_teacher_number_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        Teacher.register(bad, "张伟", "S1", None, ADMIN, at(date(2024, 1, 2)))
    assert caught.value.code == "invalid_teacher_no"


@pytest.mark.parametrize("bad", ["", "  ", "名" * 51])
def test_a_teacher_name_must_be_1_to_50_characters(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        Teacher.register("A001", bad, "S1", None, ADMIN, at(date(2024, 1, 2)))
    assert caught.value.code == "invalid_name"
