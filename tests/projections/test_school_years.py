"""rm_school_years, the per-school compliance rows a county's read adds up: a stored row is used
only while no later event touched its school, for the same day and policy; every answer equals
the one computed with no stored row at all."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.vocabulary import Form
from projections.school_years import SchoolYear, SchoolYears
from projections.view import ReadModel
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, define


def stored(app: TrainRec, year: int = 2024) -> dict[str, tuple[str, int, str]]:
    """school → (today, position, policy_version) of its stored row for `year`."""
    return {str(r[0]): (str(r[1]), int(r[2]), str(r[3])) for r in app.read_model.db.query(
        "SELECT school_id, today, position, policy_version FROM rm_school_years WHERE year = ?", (year,))}


def computed_afresh(app: TrainRec, org_id: str, year: int = 2024) -> dict[str, Any]:
    """The answer with every stored row thrown away first (what a read computes from the tables)."""
    with app.read_model.db.transaction() as tx:
        tx.execute("DELETE FROM rm_school_years")
    return app.compliance(ADMIN, org_id, year)


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: answer[key] for key in ("teachers", "figures", "shortfalls", "children")}


@pytest.fixture
def county(app: TrainRec, clock: Clock) -> TrainRec:
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "P90", starts_on=date(2024, 3, 4), days=3, form=Form.CONCENTRATED)  # ends 2024-03-06
    app.enrol(ADMIN, "P90", "A001")
    return app


def test_a_row_is_used_until_an_event_touches_a_teacher_of_its_school(county: TrainRec) -> None:
    first = county.compliance(ADMIN, "C1", 2024)
    before = stored(county)
    assert set(before) == {"C1", "T1", "T2", "S1", "S2", "S3", "P1"}  # every org under the county
    county.enrol(ADMIN, "P90", "B001")  # a teacher of S2
    second = county.compliance(ADMIN, "C1", 2024)
    after = stored(county)
    assert after["S2"][1] > before["S2"][1]  # recomputed
    assert {k: v for k, v in after.items() if k != "S2"} == {k: v for k, v in before.items() if k != "S2"}
    assert figures(second) != figures(first)  # B001's enrolment counts
    assert figures(second) == figures(computed_afresh(county, "C1"))


def test_a_transfer_makes_both_schools_rows_stale(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    before = stored(county)
    county.transfer_teacher(ADMIN, "C001", "S1", date(2024, 1, 10))  # S3 → S1, back-dated
    answer = county.compliance(ADMIN, "C1", 2024)
    after = stored(county)
    assert {school for school in after if after[school][1] > before[school][1]} == {"S1", "S3"}
    children = {kid["org_id"]: kid["teachers"] for kid in answer["children"]}
    assert children == {"T1": 5, "T2": 1}
    assert figures(answer) == figures(computed_afresh(county, "C1"))


def test_a_row_of_another_day_is_recomputed(county: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 3, 11))  # the assessment of P90 (ended 2024-03-06) is due within 5 days
    quiet = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in quiet["figures"] if f["rule"] == "overdue_assessments")["value"] == 0
    clock.set(date(2024, 3, 12))  # no event since: only the day changed
    late = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in late["figures"] if f["rule"] == "overdue_assessments")["value"] == 1
    assert {today for today, _, _ in stored(county).values()} == {"2024-03-12"}
    assert figures(late) == figures(computed_afresh(county, "C1"))


def test_a_row_of_another_policy_version_is_recomputed(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    with county.read_model.db.transaction() as tx:
        tx.execute("UPDATE rm_school_years SET policy_version = 'older', teachers = 99")
    answer = county.compliance(ADMIN, "C1", 2024)
    assert answer["teachers"] == 6
    assert {version for _, _, version in stored(county).values()} == {county.policy.version}


def test_a_page_applied_while_a_row_was_computed_leaves_it_stale(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row is tagged with the position read before it was computed: an event applied between the
    computation and the write makes the row look older than the tables, never newer."""
    original = SchoolYears.compute
    calls: list[int] = []

    def compute_then_an_event(self: SchoolYears, year: int, today: date, schools: list[str] | None,
                              path: str) -> dict[str, SchoolYear]:
        sums = original(self, year, today, schools, path)
        if not calls:
            county.enrol(ADMIN, "P90", "B001")  # recorded and applied after the sums were computed
            county.read_model.catch_up()
        calls.append(year)
        return sums

    monkeypatch.setattr(SchoolYears, "compute", compute_then_an_event)
    county.compliance(ADMIN, "C1", 2024)  # sums without B001's enrolment
    monkeypatch.setattr(SchoolYears, "compute", original)
    answer = county.compliance(ADMIN, "C1", 2024)
    participation = next(f for f in answer["figures"] if f["rule"] == "participation_rate")
    assert participation["denominator"] == 2  # A001's and B001's enrolments
    assert figures(answer) == figures(computed_afresh(county, "C1"))


def test_refresh_recomputes_only_the_stale_rows(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    county.enrol(ADMIN, "P90", "B001")
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=0) == 1  # S2's row
    assert county.read_model.refresh_compliance(every=0) == 0  # nothing new since
    county.enrol(ADMIN, "P90", "C001")
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=3600) == 0  # refreshed too recently: a read computes it
    assert county.read_model.refresh_compliance(every=0) == 1  # S3's row


def test_a_rebuild_leaves_every_year_on_record_computed(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    county.read_model.rebuild()
    assert set(stored(county)) >= {"C1", "S1", "S2", "S3"}

    def refuse(*_: Any) -> None:
        raise AssertionError("a read after a rebuild computed sums")

    monkeypatch.setattr(SchoolYears, "compute", refuse)
    answer = county.compliance(ADMIN, "C1", 2024)
    monkeypatch.undo()
    assert figures(answer) == figures(computed_afresh(county, "C1"))


def test_a_store_without_these_tables_gets_them_empty_without_a_rebuild(
    durable_backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    app.read_model.catch_up()
    app.compliance(ADMIN, "C1", 2024)
    with app.read_model.db.transaction() as tx:  # what the trainrec before these tables left
        tx.execute("DROP TABLE rm_school_years")
        tx.execute("DROP TABLE rm_school_changes")
    app.close()

    def refuse(*_: Any) -> None:
        raise AssertionError("rebuilt the read model for a cache")

    monkeypatch.setattr(ReadModel, "_rebuild", refuse)
    again = TrainRec(storage, clock=clock)
    try:
        assert again.read_model.position() == again.read_model.head()
        assert again.compliance(ADMIN, "C1", 2024)["teachers"] == 6
        assert set(stored(again)) >= {"S1", "S2", "S3"}
    finally:
        again.close()
