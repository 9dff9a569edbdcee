"""rm_unit_years, the stored compliance answers of units above the schools: an answer is used only
while no later page touched a school under the unit or changed an org, for the same day and policy,
and it is always the answer computed with nothing stored at all."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.vocabulary import OrgKind
from projections.db import Tx
from projections.school_years import SchoolYears, State
from projections.unit_answers import answer_version, store_answer
from projections.view import ReadModel
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, require_postgres
from tests.projections.compliance_caches import computed_afresh, county_with_an_enrolment, mark_present


def answers(app: TrainRec, year: int = 2024) -> dict[str, tuple[str, int, str]]:
    """unit → (today, position, policy_version) of its stored answer for `year`."""
    return {str(r[0]): (str(r[1]), int(r[2]), str(r[3])) for r in app.read_model.db.query(
        "SELECT org_id, today, position, policy_version FROM rm_unit_years WHERE year = ?", (year,))}


class Computations:
    """Counts the reads that roll up school rows (a read answered from a stored answer does not)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        original = SchoolYears.read_in

        def counted(school_years: SchoolYears, *args: Any) -> Any:
            self.paths.append(args[2])
            return original(school_years, *args)

        monkeypatch.setattr(SchoolYears, "read_in", counted)


@pytest.fixture
def county(app: TrainRec, clock: Clock) -> TrainRec:
    return county_with_an_enrolment(app, clock)


def test_a_county_answer_is_stored_and_used_until_a_school_under_it_changes(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = county.compliance(ADMIN, "C1", 2024)
    assert set(answers(county)) == {"C1"}
    computations = Computations(monkeypatch)
    assert county.compliance(ADMIN, "C1", 2024) == first
    assert computations.paths == []  # answered from the stored answer
    mark_present(county, "B001")  # a teacher of S2, under C1
    second = county.compliance(ADMIN, "C1", 2024)
    assert computations.paths == ["/C1/"]
    participation = next(f for f in second["figures"] if f["rule"] == "participation_rate")
    assert (participation["numerator"], participation["denominator"]) == (2, 3)  # B001 now attended
    assert county.compliance(ADMIN, "C1", 2024) == second == computed_afresh(county, "C1")


def test_a_stored_answer_is_the_computed_one_to_the_letter(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    stored = county.compliance(ADMIN, "C1", 2024)
    assert stored["name"] == "示范县"
    assert [kid["name"] for kid in stored["children"]] == ["城关镇", "河西镇"]
    assert stored == computed_afresh(county, "C1")


def test_a_change_under_one_town_leaves_the_other_towns_answer_in_use(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    county.compliance(ADMIN, "T1", 2024)
    county.compliance(ADMIN, "T2", 2024)
    computations = Computations(monkeypatch)
    mark_present(county, "C001")  # of S3, in T2
    county.compliance(ADMIN, "T1", 2024)
    t2 = county.compliance(ADMIN, "T2", 2024)
    assert computations.paths == ["/C1/T2/"]
    assert t2 == computed_afresh(county, "T2")


def test_an_org_change_makes_the_answers_stale(county: TrainRec) -> None:
    county.compliance(ADMIN, "C1", 2024)
    county.put_org(ADMIN, "T1", "城关街道", OrgKind.TOWN, "C1")  # renamed: a child's name in the answer
    renamed = county.compliance(ADMIN, "C1", 2024)
    assert [kid["name"] for kid in renamed["children"]] == ["城关街道", "河西镇"]
    county.put_org(ADMIN, "T3", "新城镇", OrgKind.TOWN, "C1")  # a new town: a new child, no school yet
    grown = county.compliance(ADMIN, "C1", 2024)
    assert [kid["org_id"] for kid in grown["children"]] == ["T1", "T2", "T3"]
    assert grown == computed_afresh(county, "C1")


def test_an_answer_of_another_day_or_policy_version_is_computed_again(county: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 3, 11))  # the assessment of P90 (ended 2024-03-06) is due within 5 days
    quiet = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in quiet["figures"] if f["rule"] == "overdue_assessments")["value"] == 0
    clock.set(date(2024, 3, 12))  # no event since: only the day changed
    late = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in late["figures"] if f["rule"] == "overdue_assessments")["value"] == 3  # A001 B001 C001
    assert answers(county)["C1"][0] == "2024-03-12"
    with county.read_model.db.transaction() as tx:
        tx.execute("UPDATE rm_unit_years SET policy_version = 'older', answer = '{}'")
    assert county.compliance(ADMIN, "C1", 2024) == late
    assert answers(county)["C1"][2] == answer_version(county.policy.version)


def test_pages_applied_without_marking_leave_no_answer_in_use(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages applied by a trainrec that marks nothing (an older follower during an upgrade)."""
    county.compliance(ADMIN, "C1", 2024)
    monkeypatch.setattr("projections.records.mark_changed", lambda *_, **__: None)
    mark_present(county, "B001")  # of S2, applied without marking
    county.read_model.catch_up()
    monkeypatch.undo()
    before = answers(county)
    unmarked = county.compliance(ADMIN, "C1", 2024)
    assert next(f for f in unmarked["figures"] if f["rule"] == "participation_rate")["numerator"] == 2
    assert answers(county) == before  # computed, not stored
    mark_present(county, "C001")  # marked again
    assert county.compliance(ADMIN, "C1", 2024) == computed_afresh(county, "C1")


def test_pages_of_an_older_follower_leave_no_answer_in_use(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trainrec before stored answers marked schools and moved `/marker`, not org changes."""

    def marked_the_old_way(tx: Tx, prefix: str, teacher_nos: Iterable[str], position: int, orgs: bool = False) -> None:
        tx.execute(f"INSERT INTO {prefix}school_changes (school_id, position) VALUES ('/marker', ?) "
                   "ON CONFLICT (school_id) DO UPDATE SET position = excluded.position", (position,))

    county.compliance(ADMIN, "C1", 2024)
    monkeypatch.setattr("projections.records.mark_changed", marked_the_old_way)
    county.put_org(ADMIN, "T1", "城关街道", OrgKind.TOWN, "C1")
    county.read_model.catch_up()
    monkeypatch.undo()
    renamed = county.compliance(ADMIN, "C1", 2024)
    assert [kid["name"] for kid in renamed["children"]] == ["城关街道", "河西镇"]


def test_a_school_answer_is_not_stored(county: TrainRec) -> None:
    county.compliance(ADMIN, "S1", 2024)
    assert answers(county) == {}


def test_answers_of_replaced_tables_or_older_positions_are_not_written(county: TrainRec) -> None:
    db = county.read_model.db
    today = county.read_model.today()
    county.read_model.catch_up()
    with db.snapshot() as tx:
        state = State.read(tx, "rm_")
    other = State(state.position, state.generation + 1, state.valid_from)
    assert not store_answer(db, "rm_", other, "C1", 2024, today, county.policy.version, '{"replaced": true}', '{}')
    assert answers(county) == {}
    assert store_answer(db, "rm_", state, "C1", 2024, today, county.policy.version, '{"newer": true}', '{}')
    older = State(state.position - 1, state.generation, state.valid_from)
    assert store_answer(db, "rm_", older, "C1", 2024, today, county.policy.version, '{"older": true}', '{}')
    assert db.query("SELECT position, answer FROM rm_unit_years") == [(state.position, '{"newer": true}')]


def test_a_follower_computes_the_stale_answers_again(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    county.compliance(ADMIN, "C1", 2024)
    county.compliance(ADMIN, "T2", 2024)
    mark_present(county, "B001")  # of S2: C1's answer is stale, T2's is not
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=0) == 2  # S2's row and C1's answer
    computations = Computations(monkeypatch)
    fresh = county.compliance(ADMIN, "C1", 2024)
    assert computations.paths == []
    monkeypatch.undo()
    assert fresh == computed_afresh(county, "C1")


def test_a_follower_finds_answers_stale_by_org_change_and_day(county: TrainRec, clock: Clock) -> None:
    county.compliance(ADMIN, "C1", 2024)
    county.compliance(ADMIN, "T2", 2024)
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=0) == 0
    county.put_org(ADMIN, "T1", "城关街道", OrgKind.TOWN, "C1")  # no school row changes; both answers do
    county.read_model.catch_up()
    assert county.read_model.refresh_compliance(every=0) == 2
    assert county.read_model.refresh_compliance(every=0) == 0
    rows = county.read_model.db.query("SELECT COUNT(*) FROM rm_school_years")[0][0]
    clock.set(date(2024, 2, 21))  # every stored school row and answer is of yesterday
    assert county.read_model.refresh_compliance(every=0) == rows + 2


def test_a_rebuild_leaves_every_units_answer_computed(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    county.read_model.rebuild()
    assert set(answers(county)) == {"C1", "T1", "T2"}  # the units above the schools; no school
    computations = Computations(monkeypatch)
    answer = county.compliance(ADMIN, "T1", 2024)
    assert computations.paths == []
    monkeypatch.undo()
    assert answer == computed_afresh(county, "T1")


def test_a_store_without_the_answers_table_gets_it_without_a_rebuild(
    durable_backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    app.compliance(ADMIN, "C1", 2024)
    with app.read_model.db.transaction() as tx:  # what the trainrec before this table left
        tx.execute("DROP TABLE rm_unit_years")
    app.close()

    def refuse(*_: Any) -> None:
        raise AssertionError("rebuilt the read model for a cache")

    monkeypatch.setattr(ReadModel, "_rebuild", refuse)
    again = TrainRec(storage, clock=clock)
    try:
        assert again.compliance(ADMIN, "C1", 2024)["teachers"] == 6
        assert set(answers(again)) == {"C1"}
    finally:
        again.close()


@pytest.mark.postgres
def test_answers_are_compressed_with_lz4_on_postgres_where_it_has_it(tmp_path: Path, clock: Clock) -> None:
    require_postgres()
    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)
    try:
        db = app.read_model.db
        has_lz4 = bool(db.query("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                                "AND 'lz4' = ANY(enumvals)"))
        query = ("SELECT attcompression FROM pg_attribute WHERE attrelid = 'rm_unit_years'::regclass "
                 "AND attname = 'answer'")
        expected = [("l",)] if has_lz4 else [("",)]
        assert db.query(query) == expected
        build_county(app)
        app.read_model.rebuild()  # a new generation of tables
        assert db.query(query) == expected
    finally:
        app.close()
