"""The trainee's evaluation of a programme: after it ends, once, scores 1–5, late after the deadline
(domain/rules/evaluation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.policy import DEFAULT_POLICY
from tests.domain.rules.builders import END, START, TRAINEE, assessed, at, enrolled, evaluate, on_leave, refused


def test_an_evaluation_within_ten_days_is_recorded_on_time() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, "  收获很大 ", DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=10)))
    evaluation = teacher.enrolment(programme.code).evaluation
    assert evaluation is not None
    assert (evaluation["form"], evaluation["instructors"], evaluation["management"]) == (5, 4, 3)
    assert evaluation["comment"] == "收获很大"
    assert evaluation["due_on"] == END + timedelta(days=10)
    assert evaluation["late"] is False


def test_an_evaluation_more_than_ten_days_after_the_end_is_flagged_late_but_recorded() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, None, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=11)))
    evaluation = teacher.enrolment(programme.code).evaluation
    assert evaluation is not None
    assert evaluation["late"] is True


def test_a_blank_comment_is_recorded_as_none() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, "   ", DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))
    assert teacher.enrolment(programme.code).evaluation["comment"] is None  # type: ignore[index]


def test_an_overlong_comment_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "comment_too_long"):
        teacher.evaluate(programme.code, 5, 4, 3, "好" * 2001, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))


def test_an_evaluation_before_the_programme_ends_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "programme_not_ended"):
        teacher.evaluate(programme.code, 5, 4, 3, None, DEFAULT_POLICY, TRAINEE, at(START))


def test_a_second_evaluation_is_refused() -> None:
    teacher, programme = assessed()
    evaluate(teacher, programme)
    with refused(teacher, "already_evaluated"):
        evaluate(teacher, programme, after=3)


def test_an_excused_trainee_cannot_evaluate() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_approved"):
        evaluate(teacher, programme)


@pytest.mark.parametrize("scores", [(0, 3, 3), (3, 6, 3), (3, 3, -1), (3, 3, False)])
def test_evaluation_scores_must_be_integers_from_one_to_five(scores: tuple[Any, Any, Any]) -> None:
    teacher, programme = assessed()
    with refused(teacher, "invalid_score"):
        teacher.evaluate(programme.code, *scores, None, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))
