"""Org units, teacher registration and transfers, on every backend."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.ids import teacher_uuid
from domain.vocabulary import OrgKind
from service.app import TrainRec
from tests.conftest import ADMIN, AUDITOR, COUNTY_SUP, OTHER_SCHOOL_ADMIN, SCHOOL_ADMIN, TOWN_SUP, Clock, define
from tests.helpers import refused, types_of


def test_put_org_registers_then_renames_then_is_unchanged(app: TrainRec) -> None:
    first = app.put_org(ADMIN, "C9", "某县", OrgKind.COUNTY, None)
    assert first.status == 201
    renamed = app.put_org(ADMIN, "C9", "某某县", OrgKind.COUNTY, None)
    assert renamed.status == 200
    assert types_of(renamed.body) == ["Renamed"]
    same = app.put_org(ADMIN, "C9", "某某县", OrgKind.COUNTY, None)
    assert same.status == 200
    assert same.body["events"] == []
    assert app.org(ADMIN, "C9")["name"] == "某某县"


def test_org_kind_and_parent_cannot_change(county: TrainRec) -> None:
    with refused(county, "org_structure_fixed"):
        county.put_org(ADMIN, "S1", "城关第一小学", OrgKind.SCHOOL, "T2")


def test_a_school_must_sit_under_a_town_county_or_city(app: TrainRec) -> None:
    with refused(app, "invalid_parent"):
        app.put_org(ADMIN, "S9", "孤立小学", OrgKind.SCHOOL, None)


def test_unknown_parent_is_not_found(app: TrainRec) -> None:
    with refused(app, "org_not_found"):
        app.put_org(ADMIN, "T9", "某镇", OrgKind.TOWN, "nowhere")


def test_supervisor_registers_orgs_only_below_its_own(county: TrainRec) -> None:
    assert county.put_org(TOWN_SUP, "S4", "城关二小", OrgKind.SCHOOL, "T1").status == 201
    with refused(county, "forbidden_scope"):
        county.put_org(TOWN_SUP, "S5", "河西二小", OrgKind.SCHOOL, "T2")
    with refused(county, "forbidden_scope"):
        county.put_org(AUDITOR, "S6", "审计小学", OrgKind.SCHOOL, "T1")


def test_register_teacher_with_chinese_name(county: TrainRec) -> None:
    result = county.register_teacher(SCHOOL_ADMIN, "A100", "司马相如", "S1", date(2020, 9, 1))
    assert result.status == 201
    assert result.body["events"][0]["teacher_no"] == "A100"
    assert county.transcript(ADMIN, "A100")["name"] == "司马相如"


def test_teacher_number_is_unique(county: TrainRec) -> None:
    with refused(county, "teacher_exists"):
        county.register_teacher(ADMIN, "A001", "张伟", "S1")


def test_teacher_belongs_to_a_school(county: TrainRec) -> None:
    with refused(county, "not_a_school"):
        county.register_teacher(ADMIN, "X001", "赵六", "T1")
    with refused(county, "org_not_found"):
        county.register_teacher(ADMIN, "X001", "赵六", "S404")


def test_school_admin_registers_only_its_own_staff(county: TrainRec) -> None:
    with refused(county, "forbidden_scope"):
        county.register_teacher(OTHER_SCHOOL_ADMIN, "X002", "孙七", "S1")


def test_blank_name_is_invalid(county: TrainRec) -> None:
    with refused(county, "invalid_name"):
        county.register_teacher(ADMIN, "X003", "   ", "S1")


def test_transfer_moves_the_teacher_and_keeps_history(county: TrainRec, clock: Clock) -> None:
    result = county.transfer_teacher(SCHOOL_ADMIN, "A001", "S3", date(2024, 2, 19))
    assert types_of(result.body) == ["Transferred"]
    assert county.transcript(COUNTY_SUP, "A001")["school_id"] == "S3"
    history = county.teacher_history(ADMIN, "A001")
    assert [h["type"] for h in history] == ["Registered", "Transferred"]
    assert history[1]["data"]["from_school_id"] == "S1"


def test_transfer_refusals(county: TrainRec) -> None:
    with refused(county, "same_school"):
        county.transfer_teacher(ADMIN, "A001", "S1", date(2024, 2, 1))
    with refused(county, "transfer_in_future"):
        county.transfer_teacher(ADMIN, "A001", "S2", date(2024, 3, 1))
    with refused(county, "transfer_out_of_order"):
        county.transfer_teacher(ADMIN, "A001", "S2", date(2010, 1, 1))
    with refused(county, "not_a_school"):
        county.transfer_teacher(ADMIN, "A001", "T2", date(2024, 2, 1))
    with refused(county, "forbidden_scope"):
        county.transfer_teacher(OTHER_SCHOOL_ADMIN, "A001", "S3", date(2024, 2, 1))
    with refused(county, "teacher_not_found"):
        county.transfer_teacher(ADMIN, "Z999", "S3", date(2024, 2, 1))


def test_a_new_registration_reads_nothing_back_and_a_duplicate_is_still_refused(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[UUID] = []
    select = county.recorder.select_events

    def counting(originator_id: UUID, **kwargs: Any) -> Any:
        read.append(originator_id)
        return select(originator_id, **kwargs)

    monkeypatch.setattr(county.recorder, "select_events", counting)
    assert county.register_teacher(ADMIN, "N001", "新教师", "S1").status == 201
    assert teacher_uuid("N001") not in read
    before = county.recorder.max_notification_id()
    with refused(county, "teacher_exists"):
        county.register_teacher(ADMIN, "N001", "又一位", "S1", idempotency_key="dup-1")
    assert teacher_uuid("N001") in read  # the second attempt looked
    assert county.recorder.max_notification_id() == before  # and nothing of the refused one was kept
    assert county.transcript(ADMIN, "N001")["name"] == "新教师"


def test_hired_on_lies_between_1950_and_a_year_from_today(county: TrainRec) -> None:
    """Today is 2024-02-20 (the clock's day); a year from it is 2025-02-20."""
    for hired_on in (date(1949, 12, 31), date(2025, 2, 21)):
        with refused(county, "invalid_hired_on"):
            county.register_teacher(ADMIN, "H001", "何平", "S1", hired_on)
    for number, hired_on in (("H001", date(1950, 1, 1)), ("H002", date(2025, 2, 20))):
        assert county.register_teacher(ADMIN, number, "何平", "S1", hired_on).status == 201


def test_text_with_control_characters_is_refused_in_any_event(county: TrainRec) -> None:
    """The check is on every event before it is sealed: names, reasons, claims alike; tabs and
    line breaks are text."""
    with refused(county, "invalid_text"):
        county.put_org(ADMIN, "S7", "城关\x07小学", OrgKind.SCHOOL, "T1")
    with refused(county, "invalid_text"):
        county.register_teacher(ADMIN, "N001", "张\x00伟", "S1")
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    with refused(county, "invalid_text"):
        county.open_dispute(ADMIN, "A001", "K1", "学时\x1b不对", [])
    assert county.put_org(ADMIN, "S7", "城关\t小学", OrgKind.SCHOOL, "T1").status == 201
