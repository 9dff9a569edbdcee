"""rm_school_years, the per-school compliance rows a county's read adds up: a stored row is used
only while no later event touched its school, for the same day and policy; every answer equals
the one computed with no stored row at all."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.vocabulary import Form, OrgKind
from projections.db import Tx
from projections.school_years import SchoolYear, SchoolYears, State
from projections.unit_answers import answer_version
from projections.view import ReadModel
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, define
from tests.projections.compliance_caches import computed_afresh, county_with_an_enrolment, mark_present


def stored(app: TrainRec, year: int = 2024) -> dict[str, tuple[str, int, str]]:
    """school → (today, position, policy_version) of its stored row for `year`."""
    return {str(r[0]): (str(r[1]), int(r[2]), str(r[3])) for r in app.read_model.db.query(
        "SELECT school_id, today, position, policy_version FROM rm_school_years WHERE year = ?", (year,))}


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: answer[key] for key in ("teachers", "figures", "shortfalls", "children")}


@pytest.fixture
def county(app: TrainRec, clock: Clock) -> TrainRec:
    return county_with_an_enrolment(app, clock)


def test_a_row_is_used_until_an_event_touches_a_teacher_of_its_school(county: TrainRec) -> None:
    first = county.compliance(ADMIN, "C1", 2024)
    before = stored(county)
    assert set(before) == {"C1", "T1", "T2", "S1", "S2", "S3", "P1"}  # every org under the county
    mark_present(county, "B001")  # a teacher of S2
    second = county.compliance(ADMIN, "C1", 2024)
    after = stored(county)
    assert after["S2"][1] > before["S2"][1]  # recomputed
    assert {k: v for k, v in after.items() if k != "S2"} == {k: v for k, v in before.items() if k != "S2"}
    assert figures(second) != figures(first)  # B001 now counts as attended
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
    assert next(f for f in late["figures"] if f["rule"] == "overdue_assessments")["value"] == 3  # A001 B001 C001
    assert {today for today, _, _ in stored(county).values()} == {"2024-03-12"}
    assert figures(late) == figures(computed_afresh(county, "C1"))


def test_a_row_of_another_policy_version_is_recomputed(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    with county.read_model.db.transaction() as tx:
        tx.execute("UPDATE rm_school_years SET policy_version = 'older', teachers = 99")
        tx.execute("UPDATE rm_unit_years SET policy_version = 'older'")  # the county's answer was of it too
    answer = county.compliance(ADMIN, "C1", 2024)
    assert answer["teachers"] == 6
    assert {version for _, _, version in stored(county).values()} == {county.policy.version}
    assert county.read_model.db.query("SELECT policy_version FROM rm_unit_years") == [
        (answer_version(county.policy.version),)]


def test_a_page_applied_while_a_row_was_computed_leaves_it_stale(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row is tagged with the position of the snapshot it was computed in: an event applied between
    the computation and the write makes the row look older than the tables, never newer."""
    original = SchoolYears.compute
    calls: list[int] = []

    def compute_then_an_event(self: SchoolYears, tx: Tx, year: int, today: date, schools: list[str] | None,
                              path: str) -> dict[str, SchoolYear]:
        sums = original(self, tx, year, today, schools, path)
        if not calls:
            mark_present(county, "B001")  # recorded and applied after the sums were computed
            county.read_model.catch_up()
        calls.append(year)
        return sums

    monkeypatch.setattr(SchoolYears, "compute", compute_then_an_event)
    county.compliance(ADMIN, "C1", 2024)  # sums without B001's enrolment
    monkeypatch.setattr(SchoolYears, "compute", original)
    answer = county.compliance(ADMIN, "C1", 2024)
    participation = next(f for f in answer["figures"] if f["rule"] == "participation_rate")
    assert (participation["numerator"], participation["denominator"]) == (2, 3)  # A001 and B001 attended
    assert figures(answer) == figures(computed_afresh(county, "C1"))


def test_refresh_recomputes_only_the_stale_rows(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    mark_present(county, "B001")
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=0) == 2  # S2's row, then the county's stored answer
    assert county.read_model.refresh_compliance(every=0) == 0  # nothing new since
    mark_present(county, "C001")
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=3600) == 0  # refreshed too recently: a read computes it
    assert county.read_model.refresh_compliance(every=0) == 2  # S3's row and the county's answer


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
        monkeypatch.setattr(SchoolYears, "compute", refuse)  # the rows stored are used from the start
        assert again.compliance(ADMIN, "C1", 2024)["teachers"] == 6
    finally:
        again.close()


def test_caches_left_beside_tables_of_another_generation_are_not_used_then_started_again(
    durable_backend: Backend, clock: Clock
) -> None:
    """What a rebuild by a trainrec that did not keep these rows leaves: its new tables, our caches."""
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    app.compliance(ADMIN, "C1", 2024)
    with app.read_model.db.transaction() as tx:
        tx.execute("UPDATE rm_tracking SET position = position - 1 WHERE name = 'generation'")
        tx.execute("UPDATE rm_school_years SET teachers = 99")  # figures of the replaced tables
    before = stored(app)
    assert app.compliance(ADMIN, "C1", 2024)["teachers"] == 6
    assert stored(app) == before  # computed, not stored: nothing would tell when they go stale
    assert app.read_model.refresh_compliance(every=0) == 0
    app.close()
    again = TrainRec(storage, clock=clock)  # started again beside this generation
    try:
        assert not stored(again)
        assert again.compliance(ADMIN, "C1", 2024)["teachers"] == 6
        assert set(stored(again)) >= {"S1", "S2", "S3"}
    finally:
        again.close()


def test_pages_applied_without_marking_leave_no_row_in_use(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages applied by a trainrec that does not keep these rows (an older follower still running
    during an upgrade) mark no school: until a page marks again, and for the rows computed before
    it, no stored row is used."""
    county.compliance(ADMIN, "C1", 2024)
    monkeypatch.setattr("projections.records.mark_changed", lambda *_, **__: None)
    mark_present(county, "B001")  # of S2, applied without marking
    county.read_model.catch_up()
    monkeypatch.undo()
    before = stored(county)
    unmarked = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in unmarked["figures"] if f["rule"] == "participation_rate")["numerator"] == 2
    assert stored(county) == before  # computed, not stored: nothing would tell when they go stale
    mark_present(county, "C001")  # of S3, marked: the first marked page after unmarked ones
    marked = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in marked["figures"] if f["rule"] == "participation_rate")["numerator"] == 3
    assert figures(marked) == figures(computed_afresh(county, "C1"))


def test_rows_of_replaced_tables_are_not_written(county: TrainRec) -> None:
    """A rebuild's swap between a computation and its write: the rows describe the replaced tables."""
    school_years = SchoolYears(county.read_model.db, "rm_", county.policy)
    today = county.read_model.today()
    with county.read_model.db.snapshot() as tx:
        state = State.read(tx, "rm_")
        sums = school_years.compute(tx, 2024, today, ["S1"], "")
    other = State(state.position, state.generation + 1, state.valid_from)
    assert not school_years.store(other, 2024, today, sums)
    assert "S1" not in stored(county)
    assert school_years.store(state, 2024, today, sums)
    assert "S1" in stored(county)
    county.read_model.rebuild()
    assert State.read(county.read_model.db, "rm_").generation != state.generation  # type: ignore[arg-type]


def test_one_read_sees_one_state_of_the_tables(
    durable_backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored rows and computed ones come from one snapshot: a back-dated transfer applied while a
    read computes its stale schools counts the teacher in neither both schools nor none."""
    app = TrainRec(durable_backend.fresh(), clock=clock)
    try:
        clock.set(date(2024, 2, 20))
        build_county(app)
        define(app, "P90", starts_on=date(2024, 3, 4), days=3, form=Form.CONCENTRATED)
        app.compliance(ADMIN, "C1", 2024)
        app.enrol(ADMIN, "P90", "C001")  # S3's row is stale, S1's fresh
        original = SchoolYears.compute

        def transfer_then_compute(self: SchoolYears, tx: Tx, year: int, today: date, schools: list[str] | None,
                                  path: str) -> dict[str, SchoolYear]:
            if not moved:
                moved.append(app.transfer_teacher(ADMIN, "A001", "S3", date(2024, 1, 10)))  # S1 → S3
                app.read_model.catch_up()
            return original(self, tx, year, today, schools, path)

        moved: list[Any] = []
        monkeypatch.setattr(SchoolYears, "compute", transfer_then_compute)
        during = app.compliance(ADMIN, "C1", 2024)
        monkeypatch.undo()
        assert moved
        assert during["teachers"] == 6
        assert {kid["org_id"]: kid["teachers"] for kid in during["children"]} == {"T1": 4, "T2": 2}
        after = app.compliance(ADMIN, "C1", 2024)
        assert {kid["org_id"]: kid["teachers"] for kid in after["children"]} == {"T1": 3, "T2": 3}
        assert figures(after) == figures(computed_afresh(app, "C1"))
    finally:
        app.close()


def test_a_school_registered_after_rows_were_stored_is_counted(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    county.put_org(ADMIN, "S4", "河西中学", OrgKind.SCHOOL, "T2")
    county.register_teacher(ADMIN, "D001", "赵敏", "S4", date(2016, 9, 1))
    answer = county.compliance(ADMIN, "C1", 2024)
    assert answer["teachers"] == 7
    assert {kid["org_id"]: kid["teachers"] for kid in answer["children"]} == {"T1": 4, "T2": 3}
    assert "S4" in stored(county)
    assert figures(answer) == figures(computed_afresh(county, "C1"))
