"""Compliance shortfalls name their teachers (number, name, school), a unit's children may be asked
down to the schools (`depth=2`), and an answer stored in the older shape (numbers only) is not
served; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, SCHOOL_ADMIN, TOWN_SUP, Clock, define
from tests.helpers import refused


@pytest.fixture
def overdue(county: TrainRec, clock: Clock) -> TrainRec:
    """A001 (S1) and C001 (S3) enrolled in P90, which ended 2024-03-06: on 2024-03-20 both are overdue
    for an assessment."""
    define(county, "P90")
    county.enrol(ADMIN, "P90", "C001")
    county.enrol(ADMIN, "P90", "A001")
    clock.set(date(2024, 3, 20))
    return county


def shortfall(answer: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(s for s in answer["shortfalls"] if s["rule"] == rule)


def test_each_shortfall_names_its_teachers_and_their_schools(overdue: TrainRec) -> None:
    for _ in range(2):  # computed, then from the stored answer
        answer = overdue.compliance(COUNTY_SUP, "C1", 2024)
        assert shortfall(answer, "overdue_assessments") == {
            "rule": "overdue_assessments", "count": 2, "teacher_nos": ["A001", "C001"],
            "teachers": [{"teacher_no": "A001", "name": "张伟", "school_id": "S1"},
                         {"teacher_no": "C001", "name": "陈静", "school_id": "S3"}], "teachers_next": None}
        hours = shortfall(answer, "avg_hours_per_teacher")
        assert [t["teacher_no"] for t in hours["teachers"]] == hours["teacher_nos"] == [
            "A001", "A002", "A003", "B001", "C001", "C002"]
        assert [t["name"] for t in hours["teachers"]] == ["张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳娜娜"]
    school = overdue.compliance(ADMIN, "S3", 2024)
    assert shortfall(school, "overdue_assessments")["teachers"] == [
        {"teacher_no": "C001", "name": "陈静", "school_id": "S3"}]


def test_depth_two_gives_each_childs_children(overdue: TrainRec) -> None:
    answer = overdue.compliance(COUNTY_SUP, "C1", 2024, depth=2)
    tree = {kid["org_id"]: [(grandkid["org_id"], grandkid["name"], grandkid["teachers"])
                            for grandkid in kid["children"]] for kid in answer["children"]}
    assert tree == {"T1": [("S1", "城关第一小学", 3), ("S2", "城关中学", 1)], "T2": [("S3", "河西小学", 2)]}
    s3 = answer["children"][1]["children"][0]
    overdue_figure = next(f for f in s3["figures"] if f["rule"] == "overdue_assessments")
    assert overdue_figure["value"] == 1  # C001
    assert "shortfalls" not in s3  # children give figures; the unit asked about lists the teachers
    one = overdue.compliance(COUNTY_SUP, "C1", 2024)
    assert all("children" not in kid for kid in one["children"])
    assert {k: v for k, v in answer.items() if k != "children"} == {k: v for k, v in one.items() if k != "children"}
    schools = overdue.compliance(TOWN_SUP, "T1", 2024, depth=2)
    assert [kid["children"] for kid in schools["children"]] == [[], []]  # schools have no children
    then = overdue.compliance(COUNTY_SUP, "C1", 2024, as_of=overdue.clock(), depth=2)
    assert [[g["org_id"] for g in kid["children"]] for kid in then["children"]] == [["S1", "S2"], ["S3"]]


def test_depth_is_one_or_two(overdue: TrainRec) -> None:
    for depth in (0, 3):
        with refused(overdue, "invalid_depth"):
            overdue.compliance(COUNTY_SUP, "C1", 2024, depth=depth)
        with refused(overdue, "invalid_depth"):
            overdue.compliance_json(COUNTY_SUP, "C1", 2024, depth=depth)


def test_an_answer_stored_in_the_older_shape_is_computed_again(overdue: TrainRec) -> None:
    """Stored by a trainrec before shortfalls named their teachers: under the bare policy version."""
    named = overdue.compliance(ADMIN, "C1", 2024)
    older = {**named, "shortfalls": [{"rule": s["rule"], "teacher_nos": s["teacher_nos"]}
                                     for s in named["shortfalls"]]}
    with overdue.read_model.db.transaction() as tx:
        tx.execute("UPDATE rm_unit_years SET policy_version = ?, answer = ?",
                   (overdue.policy.version, orjson.dumps(older).decode()))
    assert overdue.compliance(ADMIN, "C1", 2024) == named


def test_a_corrected_name_is_named_in_the_next_answer_and_as_it_was_before_it(overdue: TrainRec, clock: Clock) -> None:
    overdue.compliance(COUNTY_SUP, "C1", 2024)  # stored
    before = overdue.clock()
    clock.tick()
    overdue.correct_teacher(ADMIN, "C001", "陈晶", None, "录入有误")
    now = overdue.compliance(COUNTY_SUP, "C1", 2024)
    assert shortfall(now, "overdue_assessments")["teachers"][1] == {"teacher_no": "C001", "name": "陈晶",
                                                                     "school_id": "S3"}
    then = overdue.compliance(COUNTY_SUP, "C1", 2024, as_of=before)
    assert shortfall(then, "overdue_assessments")["teachers"][1]["name"] == "陈静"


def test_an_answer_names_the_first_page_of_each_shortfall_and_the_rest_are_paged(
        overdue: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("projections.reports.SHORTFALL_PAGE", 2)
    with overdue.read_model.db.transaction() as tx:
        tx.execute("DELETE FROM rm_unit_years")
    hours = shortfall(overdue.compliance(COUNTY_SUP, "C1", 2024), "avg_hours_per_teacher")
    assert hours["teacher_nos"] == ["A001", "A002", "A003", "B001", "C001", "C002"]  # all of them, as before
    assert hours["teachers"] == [{"teacher_no": "A001", "name": "张伟", "school_id": "S1"},
                                 {"teacher_no": "A002", "name": "王芳", "school_id": "S1"}]
    pages, after = [], hours["teachers_next"]
    while after is not None:
        page = overdue.compliance_shortfall(COUNTY_SUP, "C1", 2024, "avg_hours_per_teacher", after=after, limit=3)
        pages.append([(t["teacher_no"], t["name"], t["school_id"]) for t in page["items"]])
        after = page["next"]
    assert pages == [[("A003", "李娜", "S1"), ("B001", "刘洋", "S2"), ("C001", "陈静", "S3")],
                     [("C002", "欧阳娜娜", "S3")]]
    whole = overdue.compliance_shortfall(COUNTY_SUP, "C1", 2024, "overdue_assessments")
    assert whole == {"items": [{"teacher_no": "A001", "name": "张伟", "school_id": "S1"},
                               {"teacher_no": "C001", "name": "陈静", "school_id": "S3"}], "next": None}


def test_a_shortfall_page_refuses_an_unknown_rule_a_foreign_cursor_and_a_unit_outside_scope(
        overdue: TrainRec) -> None:
    with refused(overdue, "invalid_rule"):
        overdue.compliance_shortfall(COUNTY_SUP, "C1", 2024, "avg_hours")
    with refused(overdue, "invalid_cursor"):
        overdue.compliance_shortfall(COUNTY_SUP, "C1", 2024, "avg_hours_per_teacher", after="not-a-cursor")
    with refused(overdue, "invalid_limit"):
        overdue.compliance_shortfall(COUNTY_SUP, "C1", 2024, "avg_hours_per_teacher", limit=501)
    with refused(overdue, "forbidden_scope"):
        overdue.compliance_shortfall(SCHOOL_ADMIN, "S3", 2024, "avg_hours_per_teacher")


def test_the_summary_is_the_answer_without_every_teachers_number_computed_or_stored(overdue: TrainRec) -> None:
    """What the unit page reads: each shortfall counted and its first teachers named, no `teacher_nos`;
    the same whether computed (nothing stored) or read from the summary stored beside the answer."""
    with overdue.read_model.db.transaction() as tx:
        tx.execute("DELETE FROM rm_unit_years")
    computed = overdue.compliance_summary(COUNTY_SUP, "C1", 2024)
    stored = overdue.compliance_summary(COUNTY_SUP, "C1", 2024)
    rows = overdue.read_model.db.query("SELECT summary FROM rm_unit_years WHERE org_id = 'C1'")
    assert len(rows) == 1
    assert "teacher_nos" not in str(rows[0][0])
    answer = overdue.compliance(COUNTY_SUP, "C1", 2024)
    assert computed == stored == {**answer, "shortfalls": [
        {k: v for k, v in s.items() if k != "teacher_nos"} for s in answer["shortfalls"]]}
    assert shortfall(stored, "overdue_assessments") == {
        "rule": "overdue_assessments", "count": 2,
        "teachers": [{"teacher_no": "A001", "name": "张伟", "school_id": "S1"},
                     {"teacher_no": "C001", "name": "陈静", "school_id": "S3"}], "teachers_next": None}
    assert shortfall(stored, "avg_hours_per_teacher")["count"] == 6
    school = overdue.compliance_summary(ADMIN, "S3", 2024)  # a school's: computed each time, the same shape
    assert shortfall(school, "overdue_assessments")["count"] == 1
    assert "teacher_nos" not in shortfall(
        school, "overdue_assessments")
    with refused(overdue, "forbidden_scope"):
        overdue.compliance_summary(SCHOOL_ADMIN, "C1", 2024)
