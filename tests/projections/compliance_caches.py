"""What the tests of the compliance caches (rm_school_years, rm_unit_years) share: their county,
and the answer computed with nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.vocabulary import Form
from service.app import TrainRec
from tests.conftest import ADMIN, Clock, build_county, define


def county_with_an_enrolment(app: TrainRec, clock: Clock) -> TrainRec:
    """build_county on 2024-02-20, with P90 (concentrated, ends 2024-03-06) and A001, B001 (of S2)
    and C001 (of S3) enrolled; on 2024-03-10, after P90 ended, A001 is marked present at session 1:
    participation 1 attended / 3 counted. `mark_present` then changes a figure of one school."""
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "P90", starts_on=date(2024, 3, 4), days=3, form=Form.CONCENTRATED)
    for teacher_no in ("A001", "B001", "C001"):
        app.enrol(ADMIN, "P90", teacher_no)
    clock.set(date(2024, 3, 10))
    mark_present(app, "A001")
    return app


def mark_present(app: TrainRec, teacher_no: str) -> None:
    """`teacher_no` marked present at P90's first session: one more attended enrolment."""
    app.record_attendance(ADMIN, "P90", 1, [teacher_no], [])


def computed_afresh(app: TrainRec, org_id: str, year: int = 2024) -> dict[str, Any]:
    """The answer with every stored school row and unit answer thrown away first (what a read
    computes from the tables)."""
    with app.read_model.db.transaction() as tx:
        tx.execute("DELETE FROM rm_school_years")
        tx.execute("DELETE FROM rm_unit_years")
    return app.compliance(ADMIN, org_id, year)
