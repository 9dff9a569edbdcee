"""Late entry (补录) through the service, on memory, SQLite and PostgreSQL: a county adopting trainrec
records last term's enrolment, attendance, assessment, evaluation and credit with the dates they
happened; each event keeps both times; the audit feed lists late entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.ids import programme_uuid, teacher_uuid
from domain.policy import DEFAULT_POLICY
from domain.vocabulary import AbsenceKind, Approver, AssessmentResult, Decision
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    PROVIDER,
    SCHOOL_ADMIN,
    Backend,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.helpers import refused

WHY = "县平台上线前的记录，据签到表补录"


def _county_in_may(app: TrainRec, clock: Clock) -> None:
    """K1 ran 2024-03-04 … 03-06 (3 × 8 h, provider P1); trainrec arrives on 2024-05-10."""
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "K1")
    clock.set(date(2024, 5, 10))


def _last_event(app: TrainRec, teacher_no: str) -> Any:
    return list(app.events.get(teacher_uuid(teacher_no)))[-1]


def test_last_terms_programme_is_recorded_as_it_happened(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    with refused(app, "programme_ended"):  # dated today, the programme is over
        app.enrol(SCHOOL_ADMIN, "K1", "A001")
    with refused(app, "late_reason_required"):  # 2024-03-01 is 70 days ago
        app.enrol(SCHOOL_ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1))
    assert app.enrol(SCHOOL_ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason=WHY).status == 201
    enrolled = _last_event(app, "A001")
    assert (enrolled.occurred_on, enrolled.late_entry, enrolled.late_reason) == (date(2024, 3, 1), True, WHY)
    assert DEFAULT_POLICY.local_date(enrolled.timestamp) == date(2024, 5, 10)

    # the marks happened on the session's day (2024-03-04): a late entry, whatever is sent
    with refused(app, "late_reason_required"):
        app.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    assert app.record_attendance(PROVIDER, "K1", 1, ["A001"], [], late_reason="纸质签到表").body["recorded"] == 1
    mark = _last_event(app, "A001")
    assert (mark.occurred_on, mark.late_entry, mark.late_reason) == (date(2024, 3, 4), True, "纸质签到表")

    with refused(app, "programme_not_ended"):  # the day before its last day
        app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD, occurred_on=date(2024, 3, 5), late_reason=WHY)
    assessed = app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD, occurred_on=date(2024, 3, 8),
                          late_reason=WHY)
    assert assessed.body["late"] is False  # on 03-08, within the five days after 03-06
    credit = app.award_credit(PROVIDER, "K1", "A001", Decimal(24), occurred_on=date(2024, 3, 20), late_reason=WHY)
    line = app.transcript(ADMIN, "A001")["lines"][0]
    assert line["credit_id"] == credit.body["credit_id"]
    assert line["awarded_on"] == "2024-03-20"
    assert line["year"] == 2024


def test_a_late_deadline_is_judged_on_the_day_it_happened(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    app.enrol(SCHOOL_ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason=WHY)
    assessed = app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS, occurred_on=date(2024, 3, 12),
                          late_reason=WHY)
    assert assessed.body["late"] is True  # due 03-11
    # the teacher evaluates today (05-10): late for its deadline (03-16), not a late entry
    evaluated = app.evaluate(teacher_actor("A001"), "K1", "A001", 5, 5, 5)
    assert evaluated.body["late"] is True
    event = _last_event(app, "A001")
    assert (event.occurred_on, event.late_entry) == (date(2024, 5, 10), False)


def test_a_teacher_cannot_date_their_own_records_back(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    define(app, "K2", starts_on=date(2024, 6, 3))
    me = teacher_actor("A001")
    with refused(app, "late_entry_forbidden"):
        app.enrol(me, "K2", "A001", occurred_on=date(2024, 5, 9))
    app.enrol(me, "K2", "A001")
    with refused(app, "late_entry_forbidden"):
        app.request_absence(me, "K2", "A001", AbsenceKind.LEAVE, "住院", occurred_on=date(2024, 4, 1),
                            late_reason=WHY)
    with refused(app, "occurred_in_future"):
        app.request_absence(me, "K2", "A001", AbsenceKind.LEAVE, "住院", occurred_on=date(2024, 5, 11))


def test_nothing_is_recorded_as_happening_tomorrow(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    define(app, "K2", starts_on=date(2024, 6, 3))
    with refused(app, "occurred_in_future"):
        app.enrol(ADMIN, "K2", "A001", occurred_on=date(2024, 5, 11), late_reason=WHY)


def test_a_recent_date_needs_no_reason(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    define(app, "K3", starts_on=date(2024, 4, 15))  # ended 04-17
    assert app.enrol(SCHOOL_ADMIN, "K3", "A002", occurred_on=date(2024, 4, 12)).status == 201
    event = _last_event(app, "A002")
    assert (event.occurred_on, event.late_entry, event.late_reason) == (date(2024, 4, 12), False, None)


def test_a_back_dated_absence_is_judged_on_its_date_and_keeps_the_marks_recorded(
    app: TrainRec, clock: Clock
) -> None:
    """Leave filed late for a programme already marked: accepted when dated before the end; the marks
    recorded stay (what the sheet said), no present mark can be added once the leave is approved."""
    _county_in_may(app, clock)
    app.enrol(SCHOOL_ADMIN, "K1", "A001", occurred_on=date(2024, 2, 28), late_reason=WHY)
    app.record_attendance(PROVIDER, "K1", 1, [], ["A001"], late_reason="纸质签到表")
    with refused(app, "programme_ended"):
        app.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "病假", occurred_on=date(2024, 3, 7),
                            late_reason=WHY)
    app.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "病假", occurred_on=date(2024, 3, 3),
                        late_reason=WHY)
    app.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED, occurred_on=date(2024, 3, 3),
                       late_reason=WHY)
    app.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED, occurred_on=date(2024, 3, 3),
                       late_reason=WHY)
    with refused(app, "absence_approved"):
        app.record_attendance(PROVIDER, "K1", 2, ["A001"], [], late_reason="纸质签到表")
    history = app.teacher_history(ADMIN, "A001")
    assert [(e["type"], e["occurred_on"], e["late_entry"]) for e in history[1:]] == [
        ("Enrolled", "2024-02-28", True),
        ("AttendanceRecorded", "2024-03-04", True),
        ("AbsenceRequested", "2024-03-03", True),
        ("AbsenceDecided", "2024-03-03", True),
        ("AbsenceDecided", "2024-03-03", True),
    ]
    assert history[0]["type"] == "Registered"
    assert history[0]["late_entry"] is False
    assert history[1]["late_reason"] == WHY
    assert "occurred_on" not in history[1]["data"]


def test_the_audit_feed_shows_both_times_and_lists_late_entries(app: TrainRec, clock: Clock) -> None:
    _county_in_may(app, clock)
    app.enrol(SCHOOL_ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason=WHY)
    define(app, "K2", starts_on=date(2024, 6, 3))
    app.enrol(SCHOOL_ADMIN, "K2", "A002", occurred_on=date(2024, 5, 1))  # back-dated, not late
    app.read_model.catch_up()
    late = app.audit_events(AUDITOR, late_entry=True)["events"]
    assert [(e["type"], e["teacher_no"], e["occurred_on"], e["late_entry"], e["late_reason"]) for e in late] == [
        ("Enrolled", "A001", "2024-03-01", True, WHY)
    ]
    assert late[0]["recorded_at"].startswith("2024-05-10T02:00:00")
    others = app.audit_events(AUDITOR, late_entry=False)["events"]
    assert ("Enrolled", "A002", "2024-05-01") in [(e["type"], e["teacher_no"], e["occurred_on"]) for e in others]
    assert all(not e["late_entry"] for e in others)
    everything = app.audit_events(AUDITOR)["events"]
    assert len(everything) == len(late) + len(others)
    assert "occurred_on" not in everything[-1]["data"]


def test_events_stored_before_effective_dates_load_as_happening_the_day_they_were_recorded(
    backend: Backend, clock: Clock
) -> None:
    """Stored bytes of release v1 (no effective date, no class_version) load through the upcasters,
    verify, and show the day they were recorded; a rebuilt read model equals the replay."""
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        define(app, "K1")
        clock.set(date(2024, 2, 25), hour=23)  # 23:00 Shanghai = 15:00 UTC: the Shanghai date counts
        v1 = {
            "timestamp": clock.now, "actor": {"sub": "admin", "role": "admin"}, "reason": "",
            "programme": app.repository.get(programme_uuid("K1")).facts(), "substitutes_for": None,
        }
        _store_v1(app, "A001", "domain.teacher:Teacher.Enrolled", v1)
        teacher = app.repository.get(teacher_uuid("A001"))
        assert "K1" in teacher.enrolments
        history = app.teacher_history(ADMIN, "A001")
        assert (history[-1]["occurred_on"], history[-1]["late_entry"], history[-1]["late_reason"]) == (
            "2024-02-25", False, None)
        assert app.verify(AUDITOR, full=True).ok is True
        from projections.check import check

        app.read_model.catch_up()
        assert check(app.read_model)[1] == []
    finally:
        app.close()


def _store_v1(app: TrainRec, teacher_no: str, topic: str, state: dict[str, Any]) -> None:
    from eventsourcing.persistence import StoredEvent

    from domain.canonical import canonical_bytes, chain_digest

    teacher = app.repository.get(teacher_uuid(teacher_no))
    version = teacher.version + 1
    state = {**state, "prev_hash": teacher.chain_head, "chain_hash": ""}
    state["chain_hash"] = chain_digest(teacher.chain_head, canonical_bytes(topic, teacher.id, version, state))
    app.recorder.insert_events([StoredEvent(originator_id=teacher.id, originator_version=version, topic=topic,
                                            state=app.mapper.transcoder.encode(state))])
