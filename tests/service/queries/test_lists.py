"""Lists and search (docs/api.md "Lists and search"): teachers, programmes, disputes and approvals,
each scoped like every other read, searched, filtered and paged by cursor; on memory, SQLite and
PostgreSQL. Expected sets are worked out by hand from the county of tests/conftest.py:
C1 (T1: S1 A001 张伟, A002 王芳, A003 李娜; S2 B001 刘洋; T2: S3 C001 陈静, C002 欧阳娜娜), and C2
(S9 Z001 赵磊)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.actor import Actor
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    Decision,
    DepartureKind,
    DisputeDecision,
    Form,
    Level,
    SchoolBasedContent,
    Selection,
)
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    build_neighbour,
    define,
    teacher_actor,
)
from tests.helpers import refused

EVIDENCE = [{"name": "签到表.pdf", "sha256": "a" * 64}]
SCHOOL_BASED: dict[str, Any] = {"level": Level.SCHOOL, "form": Form.SCHOOL_BASED, "selection": Selection.SCHOOL_BASED,
                                "content": SchoolBasedContent.DESIGNATED}


def numbers(page: dict[str, Any]) -> list[str]:
    return [item["teacher_no"] for item in page["items"]]


def codes(page: dict[str, Any]) -> list[str]:
    return [item["code"] for item in page["items"]]


@pytest.fixture
def world(county: TrainRec) -> TrainRec:
    """The county and its neighbour; programmes K1 (C1 by P1, self-selected), MD (C1 by P1,
    mandated), SB1 (S1's school-based, pending), SB3 (S3's school-based, approved), K9 (C2 by P9),
    KX (C1 by P2, 2023)."""
    build_neighbour(county)
    define(county, "K1")
    define(county, "MD", selection=Selection.MANDATED)
    define(county, "SB1", owner_org_id="S1", provider_id="S1", **SCHOOL_BASED)
    define(county, "SB3", owner_org_id="S3", provider_id="S3", **SCHOOL_BASED)
    county.decide_programme(ADMIN, "SB3", Decision.APPROVED, "符合要求")
    define(county, "K9", owner_org_id="C2", provider_id="P9")
    return county


# --- teachers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("actor", "expected"), [
    (ADMIN, ["A001", "A002", "A003", "B001", "C001", "C002", "Z001"]),
    (COUNTY_SUP, ["A001", "A002", "A003", "B001", "C001", "C002"]),
    (AUDITOR, ["A001", "A002", "A003", "B001", "C001", "C002"]),
    (TOWN_SUP, ["A001", "A002", "A003", "B001"]),
    (SCHOOL_ADMIN, ["A001", "A002", "A003"]),
    (teacher_actor("C002"), ["C002"]),
], ids=["admin", "county", "auditor", "town", "school", "teacher"])
def test_teachers_are_those_of_the_callers_unit_and_below(world: TrainRec, actor: Actor, expected: list[str]) -> None:
    assert numbers(world.list_teachers(actor)) == expected


def test_teachers_carry_their_names_and_schools_and_narrow_to_a_unit(world: TrainRec) -> None:
    page = world.list_teachers(COUNTY_SUP, org_id="T2")
    assert page == {"next": None, "items": [
        {"teacher_no": "C001", "name": "陈静", "school_id": "S3", "school_name": "河西小学", "hired_on": "2015-09-01",
         "status": "active", "departure": None},
        {"teacher_no": "C002", "name": "欧阳娜娜", "school_id": "S3", "school_name": "河西小学",
         "hired_on": "2015-09-01", "status": "active", "departure": None},
    ]}
    assert numbers(world.list_teachers(teacher_actor("A001"), org_id="C1")) == ["A001"]  # their own, named above


def test_teachers_are_searched_by_chinese_name_or_by_number(world: TrainRec) -> None:
    assert numbers(world.list_teachers(COUNTY_SUP, q="娜")) == ["A003", "C002"]  # 李娜, 欧阳娜娜
    assert numbers(world.list_teachers(COUNTY_SUP, q="欧阳")) == ["C002"]
    assert numbers(world.list_teachers(COUNTY_SUP, q="A00")) == ["A001", "A002", "A003"]
    assert numbers(world.list_teachers(COUNTY_SUP, q="B001")) == ["B001"]
    assert numbers(world.list_teachers(COUNTY_SUP, q="001")) == []  # a number matches from its start
    assert numbers(world.list_teachers(COUNTY_SUP, q="赵磊")) == []  # C2's: outside the scope
    assert numbers(world.list_teachers(ADMIN, q="赵磊")) == ["Z001"]
    assert numbers(world.list_teachers(COUNTY_SUP, q="%")) == []  # taken literally
    assert numbers(world.list_teachers(COUNTY_SUP, q="_")) == []
    assert numbers(world.list_teachers(COUNTY_SUP, q="c00")) == ["C001", "C002"]  # Latin letters in any case


def test_teachers_by_status_departed_or_active(world: TrainRec) -> None:
    world.record_departure(ADMIN, "A002", DepartureKind.RETIRED, date(2024, 2, 1), "退休")
    departed = world.list_teachers(SCHOOL_ADMIN, status="departed")
    assert numbers(departed) == ["A002"]
    assert departed["items"][0]["departure"] == {"kind": "retired", "effective_on": "2024-02-01"}
    assert numbers(world.list_teachers(SCHOOL_ADMIN, status="active")) == ["A001", "A003"]
    assert numbers(world.list_teachers(SCHOOL_ADMIN)) == ["A001", "A002", "A003"]


def test_teachers_page_by_cursor_without_repeating_or_skipping(world: TrainRec) -> None:
    first = world.list_teachers(ADMIN, limit=3)
    assert numbers(first) == ["A001", "A002", "A003"]
    assert first["next"] is not None
    world.register_teacher(ADMIN, "A000", "新来的", "S1", date(2020, 9, 1))  # before the cursor: not on later pages
    second = world.list_teachers(ADMIN, limit=3, after=first["next"])
    assert numbers(second) == ["B001", "C001", "C002"]
    assert second["next"] is not None
    third = world.list_teachers(ADMIN, limit=3, after=second["next"])
    assert numbers(third) == ["Z001"]
    assert third["next"] is None
    exact = world.list_teachers(ADMIN, limit=8)
    assert len(exact["items"]) == 8
    assert exact["next"] is None


def test_teacher_lists_refuse_what_lies_outside_the_scope(world: TrainRec) -> None:
    with refused(world, "forbidden_scope"):
        world.list_teachers(PROVIDER)  # providers do not read teachers' records
    with refused(world, "forbidden_scope"):
        world.list_teachers(SCHOOL_ADMIN, org_id="S3")
    with refused(world, "forbidden_scope"):
        world.list_teachers(TOWN_SUP, org_id="C1")  # above the town
    with refused(world, "forbidden_scope"):
        world.list_teachers(COUNTY_SUP, org_id="NOPE")  # unknown: refused as any id outside the scope
    with refused(world, "forbidden_scope"):
        world.list_teachers(teacher_actor("A001"), org_id="S2")
    with refused(world, "org_not_found"):
        world.list_teachers(ADMIN, org_id="NOPE")


@pytest.mark.parametrize(("arguments", "code"), [
    ({"limit": 0}, "invalid_limit"), ({"limit": 501}, "invalid_limit"), ({"after": "not-a-cursor"}, "invalid_cursor"),
    ({"after": "WyJBMDAyIiwxXQ"}, "invalid_cursor"), ({"status": "retired"}, "invalid_status"),
    ({"q": "a\x00"}, "invalid_text"),
], ids=["limit-0", "limit-501", "garbage-cursor", "cursor-of-another-shape", "status", "control-character"])
def test_teacher_lists_refuse_bad_values(world: TrainRec, arguments: dict[str, Any], code: str) -> None:
    with refused(world, code):
        world.list_teachers(ADMIN, **arguments)


# --- programmes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("actor", "expected"), [
    (ADMIN, ["K1", "K9", "MD", "SB1", "SB3"]),
    (COUNTY_SUP, ["K1", "MD", "SB1", "SB3"]),  # owned or provided at or below C1
    (TOWN_SUP, ["SB1"]),  # S1's (C1's programmes are above the town)
    (PROVIDER, ["K1", "MD"]),  # its own
    (SCHOOL_ADMIN, ["K1", "MD", "SB1"]),  # its own and those owned above it
    (teacher_actor("C001"), ["K1", "MD", "SB3"]),  # the catalogue of S3's staff
], ids=["admin", "county", "town", "provider", "school", "teacher"])
def test_programmes_are_those_the_caller_reads(world: TrainRec, actor: Actor, expected: list[str]) -> None:
    assert codes(world.list_programmes(actor)) == expected


def test_programmes_carry_provider_and_owner_names(world: TrainRec) -> None:
    [item] = world.list_programmes(PROVIDER, q="K1")["items"]
    assert item == {
        "code": "K1", "title": "培训项目K1", "level": "county", "form": "concentrated", "selection": "self_selected",
        "school_based_content": None, "hours": 24, "provider_id": "P1", "provider_name": "县教师进修学校",
        "owner_org_id": "C1", "owner_name": "示范县", "starts_on": "2024-03-04", "ends_on": "2024-03-06",
        "sessions": 3, "capacity": None, "seats_taken": 0, "approval": "not_required",
    }
    assert [i["approval"] for i in world.list_programmes(ADMIN, q="SB")["items"]] == ["pending", "approved"]


def test_programmes_filter_by_level_form_selection_year_and_search(world: TrainRec) -> None:
    define(world, "KX", starts_on=date(2023, 5, 8), provider_id="P2")
    assert codes(world.list_programmes(ADMIN, level="school")) == ["SB1", "SB3"]
    assert codes(world.list_programmes(ADMIN, form="school_based", org_id="T2")) == ["SB3"]
    assert codes(world.list_programmes(ADMIN, selection="mandated")) == ["MD"]
    assert codes(world.list_programmes(COUNTY_SUP, year=2023)) == ["KX"]  # ends in 2023
    assert codes(world.list_programmes(COUNTY_SUP, year=2024)) == ["K1", "MD", "SB1", "SB3"]
    assert codes(world.list_programmes(COUNTY_SUP, q="培训项目S")) == ["SB1", "SB3"]  # in the title
    assert codes(world.list_programmes(COUNTY_SUP, q="M")) == ["MD"]  # the start of the code
    assert codes(world.list_programmes(COUNTY_SUP, q="sb")) == ["SB1", "SB3"]
    assert codes(world.list_programmes(COUNTY_SUP, org_id="P1")) == ["K1", "MD"]  # provided by P1
    assert codes(world.list_programmes(SCHOOL_ADMIN, org_id="C1")) == ["K1", "KX", "MD", "SB1"]  # its catalogue above


def test_open_for_enrolment_is_what_one_could_enrol_in_today(world: TrainRec, clock: Clock) -> None:
    define(world, "K2", capacity=1)
    define(world, "OLD", starts_on=date(2024, 1, 8))  # ended 2024-01-10
    world.enrol(ADMIN, "K2", "B001")  # its one seat taken
    world.enrol(ADMIN, "K1", "A001")
    # SB1 is not approved, K2 full, OLD ended
    assert codes(world.list_programmes(ADMIN, open_for_enrolment=True)) == ["K1", "K9", "MD", "SB3"]
    # 自主选课: self-selected, in their catalogue, not enrolled yet
    assert codes(world.list_programmes(teacher_actor("A001"), open_for_enrolment=True)) == []
    assert codes(world.list_programmes(teacher_actor("A002"), open_for_enrolment=True)) == ["K1"]
    world.decide_programme(ADMIN, "SB1", Decision.APPROVED, "符合要求")
    assert codes(world.list_programmes(SCHOOL_ADMIN, open_for_enrolment=True)) == ["K1", "MD", "SB1"]
    clock.set(date(2024, 3, 7))  # K1, MD, SB1 ended the day before
    assert codes(world.list_programmes(SCHOOL_ADMIN, open_for_enrolment=True)) == []


def test_programmes_page_by_code(world: TrainRec) -> None:
    first = world.list_programmes(ADMIN, limit=2)
    second = world.list_programmes(ADMIN, limit=2, after=first["next"])
    third = world.list_programmes(ADMIN, limit=2, after=second["next"])
    assert (codes(first), codes(second), codes(third)) == (["K1", "K9"], ["MD", "SB1"], ["SB3"])
    assert third["next"] is None


def test_programme_lists_refuse_bad_values_and_units_outside_the_scope(world: TrainRec) -> None:
    for arguments, code in (({"level": "town"}, "invalid_filter"), ({"form": "x"}, "invalid_filter"),
                            ({"selection": "elective"}, "invalid_filter"), ({"year": 1989}, "invalid_year"),
                            ({"limit": 501}, "invalid_limit"), ({"after": "%%"}, "invalid_cursor")):
        with refused(world, code):
            world.list_programmes(ADMIN, **arguments)
    for actor, org_id in ((PROVIDER, "C1"), (TOWN_SUP, "T2"), (teacher_actor("A001"), "S3"), (COUNTY_SUP, "C2")):
        with refused(world, "forbidden_scope"):
            world.list_programmes(actor, org_id=org_id)


# --- disputes --------------------------------------------------------------------------------------
@pytest.fixture
def disputes(world: TrainRec) -> dict[str, str]:
    """A001's dispute about K1 (open), C001's (resolved)."""
    ids = {}
    for teacher_no in ("A001", "C001"):
        world.enrol(ADMIN, "K1", teacher_no)
        opened = world.open_dispute(teacher_actor(teacher_no), teacher_no, "K1", "实际参加了全部课时", EVIDENCE)
        ids[teacher_no] = str(opened.body["dispute_id"])
    world.resolve_dispute(ADMIN, ids["C001"], DisputeDecision.REJECTED, "签到表不支持该主张")
    return ids


def dispute_teachers(page: dict[str, Any]) -> list[str]:
    return sorted(item["teacher_no"] for item in page["items"])


def test_disputes_are_those_of_the_teachers_the_caller_reads(world: TrainRec, disputes: dict[str, str]) -> None:
    assert dispute_teachers(world.list_disputes(COUNTY_SUP)) == ["A001", "C001"]
    assert dispute_teachers(world.list_disputes(AUDITOR, status="resolved")) == ["C001"]
    assert dispute_teachers(world.list_disputes(COUNTY_SUP, status="open")) == ["A001"]
    assert dispute_teachers(world.list_disputes(TOWN_SUP)) == ["A001"]
    assert dispute_teachers(world.list_disputes(OTHER_SCHOOL_ADMIN)) == ["C001"]
    assert dispute_teachers(world.list_disputes(teacher_actor("A001"))) == ["A001"]
    assert dispute_teachers(world.list_disputes(teacher_actor("A002"))) == []
    [item] = world.list_disputes(SCHOOL_ADMIN)["items"]
    assert item["dispute_id"] == disputes["A001"]
    assert {k: item[k] for k in ("name", "school_id", "school_name", "programme_code", "programme_title", "claim",
                                 "status", "decision")} == {
        "name": "张伟", "school_id": "S1", "school_name": "城关第一小学", "programme_code": "K1",
        "programme_title": "培训项目K1", "claim": "实际参加了全部课时", "status": "open", "decision": None}
    resolved = world.list_disputes(ADMIN, status="resolved")["items"][0]
    assert (resolved["status"], resolved["decision"]) == ("resolved", "rejected")
    assert resolved["reason"] == "签到表不支持该主张"
    first = world.list_disputes(ADMIN, limit=1)
    second = world.list_disputes(ADMIN, limit=1, after=first["next"])
    assert sorted([first["items"][0]["dispute_id"], second["items"][0]["dispute_id"]]) == sorted(disputes.values())
    assert second["next"] is None


def test_dispute_lists_refuse_providers_other_units_and_bad_values(world: TrainRec, disputes: dict[str, str]) -> None:
    with refused(world, "forbidden_scope"):
        world.list_disputes(PROVIDER)
    with refused(world, "forbidden_scope"):
        world.list_disputes(SCHOOL_ADMIN, org_id="S3")
    with refused(world, "invalid_status"):
        world.list_disputes(ADMIN, status="closed")


# --- approvals -------------------------------------------------------------------------------------
@pytest.fixture
def pending(world: TrainRec) -> TrainRec:
    """SB1 awaits approval; A001's leave from K1 awaits both the school's and the provider's decision,
    C001's the provider's only (its school approved)."""
    for teacher_no in ("A001", "C001"):
        world.enrol(ADMIN, "K1", teacher_no)
        world.request_absence(ADMIN, "K1", teacher_no, AbsenceKind.LEAVE, "生病")
    world.decide_absence(ADMIN, "K1", "C001", Approver.SCHOOL, Decision.APPROVED, "同意")
    return world


def awaiting(page: dict[str, Any]) -> list[tuple[str, ...]]:
    return [("absence", i["teacher_no"], i["side"]) if i["kind"] == "absence" else ("programme", i["code"])
            for i in page["items"]]


@pytest.mark.parametrize(("actor", "expected"), [
    (ADMIN, [("absence", "A001", "provider"), ("absence", "A001", "school"), ("absence", "C001", "provider"),
             ("programme", "SB1")]),
    (COUNTY_SUP, [("absence", "A001", "provider"), ("absence", "A001", "school"), ("absence", "C001", "provider"),
                  ("programme", "SB1")]),
    (TOWN_SUP, [("absence", "A001", "school"), ("programme", "SB1")]),  # K1 is C1's, provided by P1
    (SCHOOL_ADMIN, [("absence", "A001", "school")]),
    (OTHER_SCHOOL_ADMIN, []),  # S3 decided already
    (PROVIDER, [("absence", "A001", "provider"), ("absence", "C001", "provider")]),
], ids=["admin", "county", "town", "school", "other-school", "provider"])
def test_approvals_are_what_awaits_the_callers_decision(pending: TrainRec, actor: Actor,
                                                        expected: list[tuple[str, ...]]) -> None:
    assert awaiting(pending.list_approvals(actor)) == expected


def test_approvals_name_teachers_schools_and_programmes_and_page(pending: TrainRec) -> None:
    [item] = pending.list_approvals(SCHOOL_ADMIN)["items"]
    assert item == {"kind": "absence", "side": "school", "programme_code": "K1", "programme_title": "培训项目K1",
                    "teacher_no": "A001", "name": "张伟", "school_id": "S1", "school_name": "城关第一小学",
                    "provider_id": "P1", "provider_name": "县教师进修学校", "absence_kind": "leave",
                    "substitute_teacher_no": None}
    assert awaiting(pending.list_approvals(COUNTY_SUP, org_id="T2")) == []  # C001's provider side is P1's (C1)
    assert awaiting(pending.list_approvals(COUNTY_SUP, org_id="S1")) == [("absence", "A001", "school"),
                                                                         ("programme", "SB1")]
    first = pending.list_approvals(ADMIN, limit=3)
    second = pending.list_approvals(ADMIN, limit=3, after=first["next"])
    assert awaiting(second) == [("programme", "SB1")]
    assert second["next"] is None
    pending.decide_programme(ADMIN, "SB1", Decision.APPROVED, "符合要求")
    assert awaiting(pending.list_approvals(TOWN_SUP)) == [("absence", "A001", "school")]


def test_approvals_are_refused_to_teachers_auditors_and_outside_units(pending: TrainRec) -> None:
    for actor in (teacher_actor("A001"), AUDITOR):
        with refused(pending, "forbidden_scope"):
            pending.list_approvals(actor)
    with refused(pending, "forbidden_scope"):
        pending.list_approvals(PROVIDER, org_id="C1")
    with refused(pending, "forbidden_scope"):
        pending.list_approvals(SCHOOL_ADMIN, org_id="S3")
    with refused(pending, "invalid_cursor"):
        pending.list_approvals(ADMIN, after="WyJBMDAyIl0")  # a teacher list's cursor
