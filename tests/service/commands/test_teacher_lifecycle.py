"""Registration details corrected (POST …/corrections) and the teacher's departure (POST …/departure):
names follow wherever they are served; a departed teacher belongs to no school from the effective
day, so counts in no unit's current year, and nothing gives them a school again. On memory, SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.vocabulary import AbsenceKind, AssessmentResult, DepartureKind
from projections.check import check
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    PROVIDER,
    SCHOOL_ADMIN,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.helpers import refused


def _no_differences(app: TrainRec) -> None:
    app.read_model.catch_up()
    assert check(app.read_model)[1] == []


def test_a_corrected_name_is_served_in_rosters_transcripts_and_history(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    answer = app.correct_teacher(SCHOOL_ADMIN, "A001", "张 伟伟", None, "身份证姓名为张伟伟")
    assert answer.status == 201
    assert answer.body["name"] == "张 伟伟"
    assert [e["type"] for e in answer.body["events"]] == ["Corrected"]
    roster = app.roster(PROVIDER, "K1")
    assert [(e["teacher_no"], e["name"]) for e in roster["enrolled"]] == [("A001", "张 伟伟")]
    assert app.transcript(ADMIN, "A001")["name"] == "张 伟伟"
    assert app.transcript_replay("A001")["name"] == "张 伟伟"
    corrected = app.teacher_history(ADMIN, "A001")[-1]
    assert (corrected["type"], corrected["reason"], corrected["actor"]["sub"]) == ("Corrected", "身份证姓名为张伟伟",
                                                                                   "s1-admin")
    assert corrected["data"] == {"name": "张 伟伟", "hired_on": None}
    _no_differences(app)


def test_a_corrected_hire_date_starts_the_first_posting(app: TrainRec, clock: Clock) -> None:
    build_county(app)  # hired 2015-09-01
    assert app.correct_teacher(COUNTY_SUP, "A001", None, date(2016, 9, 1), "入职日期登记错误").status == 201
    with refused(app, "transfer_out_of_order"):  # the first posting now starts 2016-09-01
        app.transfer_teacher(ADMIN, "A001", "S2", date(2016, 1, 1))
    app.transfer_teacher(ADMIN, "A001", "S2", date(2020, 9, 1))
    with refused(app, "hired_on_out_of_order"):  # not after the transfer
        app.correct_teacher(ADMIN, "A001", None, date(2021, 1, 1), "入职日期")
    _no_differences(app)


def test_correction_refusals(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    with refused(app, "correction_unchanged"):
        app.correct_teacher(ADMIN, "A001", "张伟", date(2015, 9, 1), "无变化")
    with refused(app, "correction_unchanged"):
        app.correct_teacher(ADMIN, "A001", None, None, "无变化")
    with refused(app, "invalid_name"):
        app.correct_teacher(ADMIN, "A001", "   ", None, "姓名")
    with refused(app, "invalid_hired_on"):
        app.correct_teacher(ADMIN, "A001", None, date(1949, 12, 31), "入职日期")
    with refused(app, "reason_required"):
        app.correct_teacher(ADMIN, "A001", "张伟伟", None, " ")
    with refused(app, "forbidden_scope"):
        app.correct_teacher(OTHER_SCHOOL_ADMIN, "A001", "张伟伟", None, "姓名")
    with refused(app, "forbidden_scope"):
        app.correct_teacher(teacher_actor("A001"), "A001", "张伟伟", None, "姓名")
    with refused(app, "teacher_not_found"):
        app.correct_teacher(ADMIN, "NOPE", "张伟伟", None, "姓名")


def test_a_departed_teacher_leaves_the_current_years_denominator_not_an_earlier_ones(
    app: TrainRec, clock: Clock
) -> None:
    """C1 has 6 teachers. A001 earns 24 h in 2024 (K1, 2024-03-04..06) and retires on 2025-02-01.
    2024 (reference day 2024-12-31, before the departure): 24 h / 6 teachers, S1 has 3.
    2025 (reference day today, 2025-03-01, after it): 0 h / 5 teachers, S1 has 2."""
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 7))
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    app.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    clock.set(date(2025, 3, 1))
    assert app.compliance(ADMIN, "C1", 2024)["teachers"] == 6  # (a cached answer, before the departure)
    answer = app.record_departure(SCHOOL_ADMIN, "A001", DepartureKind.RETIRED, date(2025, 2, 1), "退休")
    assert answer.status == 201
    assert [e["type"] for e in answer.body["events"]] == ["Departed"]
    before = app.compliance(ADMIN, "C1", 2024)
    figure = {f["rule"]: f for f in before["figures"]}["avg_hours_per_teacher"]
    assert (before["teachers"], figure["numerator"], figure["denominator"]) == (6, 24, 6)
    assert app.compliance(ADMIN, "S1", 2024)["teachers"] == 3
    now = app.compliance(ADMIN, "C1", 2025)
    figure = {f["rule"]: f for f in now["figures"]}["avg_hours_per_teacher"]
    assert (now["teachers"], figure["numerator"], figure["denominator"]) == (5, 0, 5)
    assert app.compliance(ADMIN, "S1", 2025)["teachers"] == 2
    _no_differences(app)


def test_after_departure_nothing_gives_the_teacher_a_school_and_reads_still_work(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A002")
    app.record_departure(ADMIN, "A001", DepartureKind.LEFT, date(2024, 2, 1), "调离教育系统")
    with refused(app, "teacher_departed"):
        app.enrol(ADMIN, "K1", "A001")
    with refused(app, "teacher_departed"):
        app.transfer_teacher(ADMIN, "A001", "S2", date(2024, 2, 20))
    with refused(app, "teacher_departed"):
        app.request_absence(ADMIN, "K1", "A002", AbsenceKind.SUBSTITUTION, "外出学习", "A001")
    departure = {"kind": "left", "effective_on": "2024-02-01"}
    assert app.transcript(SCHOOL_ADMIN, "A001")["departure"] == departure
    assert app.transcript_replay("A001")["departure"] == departure
    assert app.transcript(ADMIN, "A002")["departure"] is None
    last = app.teacher_history(SCHOOL_ADMIN, "A001")[-1]
    assert (last["type"], last["reason"], last["data"]["kind"]) == ("Departed", "调离教育系统", "left")
    _no_differences(app)


def test_departure_refusals(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    app.transfer_teacher(ADMIN, "A001", "S2", date(2024, 1, 1))
    with refused(app, "departure_in_future"):
        app.record_departure(ADMIN, "A001", DepartureKind.RETIRED, date(2024, 2, 21), "退休")
    with refused(app, "departure_out_of_order"):  # before the posting at S2 began
        app.record_departure(ADMIN, "A001", DepartureKind.RETIRED, date(2023, 12, 31), "退休")
    with refused(app, "reason_required"):
        app.record_departure(ADMIN, "A001", DepartureKind.RETIRED, date(2024, 2, 1), "")
    with refused(app, "forbidden_scope"):  # S1 no longer manages A001
        app.record_departure(SCHOOL_ADMIN, "A001", DepartureKind.RETIRED, date(2024, 2, 1), "退休")
    assert app.record_departure(ADMIN, "A001", DepartureKind.DECEASED, date(2024, 2, 1), "病故").status == 201
    with refused(app, "already_departed"):
        app.record_departure(ADMIN, "A001", DepartureKind.OTHER, date(2024, 2, 10), "重复")
    with refused(app, "hired_on_out_of_order"):  # the first posting ends where S2's begins (2024-01-01)
        app.correct_teacher(ADMIN, "A001", None, date(2024, 1, 2), "入职日期")
