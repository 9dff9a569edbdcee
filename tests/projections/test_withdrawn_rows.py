"""A withdrawn enrolment's row is deleted, and written anew when the teacher enrols again, whether
the events arrive in one page or one at a time (projections/rows.py `delete`)."""

from __future__ import annotations

import pytest

from projections.check import check
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, define


@pytest.mark.parametrize("page", [1, 1000])
def test_enrolled_withdrawn_and_enrolled_again_in_one_page_or_many(
    backend: Backend, clock: Clock, page: int
) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        define(app, "K1", capacity=2)
        app.read_model.catch_up()
        for _ in range(2):
            app.enrol(ADMIN, "K1", "A001")
            app.withdraw_enrolment(ADMIN, "K1", "A001", "冲突")
        app.enrol(ADMIN, "K1", "A001")
        app.enrol(ADMIN, "K1", "A002")
        app.withdraw_enrolment(ADMIN, "K1", "A002", "冲突")
        app.read_model.catch_up(page=page)
        assert check(app.read_model)[1] == []
        rows = app.read_model.db.query(f"SELECT teacher_no FROM {app.read_model.prefix}enrolments")
        assert [r[0] for r in rows] == ["A001"]
    finally:
        app.close()
