"""What the Teacher, Programme and OrgUnit aggregates record: every event at the instant the
command was given, with the reason given (or none), and the refusals that name what was refused.
Driven on the aggregates themselves, no store."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.actor import Actor
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY, Conversion, Match
from domain.programme import Programme
from domain.rules.programme_definition import SessionPlan
from domain.teacher import Teacher
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DisputeDecision,
    Form,
    Level,
    OrgKind,
    Role,
    SchoolBasedContent,
    Selection,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("admin", Role.ADMIN)
SHA = "cd" * 32


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


def programme(code: str = "P1", *, level: Level = Level.COUNTY, capacity: int | None = None,
              starts_on: date = date(2024, 3, 4)) -> Programme:
    return Programme.define(
        code=code, title=f"培训{code}", level=level, form=Form.CONCENTRATED, selection=Selection.SELF_SELECTED,
        school_based_content=None, hours=Decimal(24), provider_id="P1", owner_org_id="C1", starts_on=starts_on,
        ends_on=starts_on + timedelta(days=2),
        sessions=[SessionPlan(i + 1, starts_on + timedelta(days=i), Decimal(8)) for i in range(3)],
        capacity=capacity, actor=ADMIN, now=at(starts_on - timedelta(days=30)))


def teacher(*programmes: Programme) -> Teacher:
    registered = Teacher.register("A001", "张伟", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    for p in programmes:
        registered.enrol(p.facts(), DEFAULT_POLICY, ADMIN, at(p.starts_on - timedelta(days=7)))
    return registered


def credited(t: Teacher, p: Programme, hours: str = "24", policy: Any = DEFAULT_POLICY) -> str:
    ends = p.ends_on
    t.assess(p.code, 4, 4, AssessmentResult.PASS, policy, ADMIN, at(ends + timedelta(days=1)))
    credit_id = f"C-{p.code}"
    t.award_credit(credit_id, p.code, Decimal(hours), policy, ADMIN, at(ends + timedelta(days=1), 11))
    return credit_id


def new_events(aggregate: Any) -> list[Any]:
    return list(aggregate.collect_events())


def refused(kind: type[DomainError], call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert type(caught.value) is kind
    return caught.value.code, caught.value.detail


def test_teacher_events_are_at_the_instant_given_with_the_reason_given() -> None:
    p1, p2 = programme("P1"), programme("P2", starts_on=date(2024, 3, 11))
    t = teacher(p1, p2)
    new_events(t)
    now = at(date(2024, 3, 1))
    t.transfer("S2", date(2024, 3, 1), ADMIN, now, date(2024, 3, 1))
    t.request_absence("P2", AbsenceKind.LEAVE, " 病假 ", None, ADMIN, now, date(2024, 3, 1))
    t.decide_absence("P2", Approver.SCHOOL, Decision.APPROVED, " 同意 ", ADMIN, now)
    t.open_dispute("D1", "P1", "漏记学时", [{"name": "签到表.pdf", "sha256": SHA}], ADMIN, now)
    events = new_events(t)
    assert [type(e).__name__ for e in events] == ["Transferred", "AbsenceRequested", "AbsenceDecided", "DisputeOpened"]
    assert [e.timestamp for e in events] == [now] * 4
    assert [e.reason for e in events] == ["", "病假", "同意", "漏记学时"]


def test_an_upheld_dispute_replaces_the_credit_of_its_programme_only() -> None:
    p1, p2 = programme("P1"), programme("P2", starts_on=date(2024, 3, 11))
    t = teacher(p1, p2)
    c1, c2 = credited(t, p1), credited(t, p2)
    now = at(date(2024, 4, 1))
    t.open_dispute("D1", "P1", "少记了学时", [], ADMIN, now)
    new_events(t)
    assert t.resolve_dispute("D1", DisputeDecision.UPHELD, " 属实 ", Decimal(20), "C-new", DEFAULT_POLICY, ADMIN,
                             now) == "C-new"
    resolved, revoked, awarded = new_events(t)
    assert (type(resolved).__name__, type(revoked).__name__, type(awarded).__name__) == (
        "DisputeResolved", "CreditRevoked", "CreditAwarded")
    assert [e.timestamp for e in (resolved, revoked, awarded)] == [now] * 3
    assert (resolved.reason, revoked.reason, awarded.reason) == ("属实", "replaced on dispute D1: 属实", "属实")
    assert (revoked.credit_id, revoked.dispute_id) == (c1, "D1")
    assert (t.credits[c1].revoked, t.credits[c2].revoked, t.credits["C-new"].hours) == (True, False, Decimal(20))
    assert awarded.evidence == {"dispute_id": "D1"}


def test_a_credit_awarded_without_a_reason_records_none() -> None:
    p1 = programme()
    t = teacher(p1)
    credited(t, p1)
    assert new_events(t)[-1].reason == ""


def test_a_revocation_is_at_the_instant_given() -> None:
    p1 = programme()
    t = teacher(p1)
    credit_id = credited(t, p1)
    new_events(t)
    now = at(date(2024, 5, 1))
    t.revoke_credit(credit_id, "签到记录不实", ADMIN, now)
    (revoked,) = new_events(t)
    assert (revoked.timestamp, revoked.reason, revoked.dispute_id) == (now, "签到记录不实", None)


def test_credits_convert_by_the_first_conversion_matching_the_programmes_level() -> None:
    policy = DEFAULT_POLICY.model_copy(update={"conversions": (
        Conversion(match=Match(level=Level.PROVINCIAL), hours_per_credit=Decimal(4)),
        Conversion(match=Match(level=Level.COUNTY), hours_per_credit=Decimal(10)),
    )})
    p1 = programme()
    t = teacher(p1)
    credited(t, p1, "24", policy)
    assert t.credits["C-P1"].credits == Decimal("2.40")  # 24 h at 10 h a credit (county)
    assert policy.credit_value(Decimal(24), "provincial", "online", "mandated", "pass") == Decimal("6.00")
    assert policy.credit_value(Decimal(24), "school", "online", "mandated", "pass") == Decimal(24)  # none matches


def test_the_school_before_the_first_posting_is_the_first_school() -> None:
    t = teacher()
    t.transfer("S2", date(2020, 9, 1), ADMIN, at(date(2024, 1, 3)), date(2024, 1, 3))
    assert [t.school_on(d) for d in (date(2015, 8, 31), date(2015, 9, 1), date(2020, 8, 31), date(2020, 9, 1))] == [
        "S1", "S1", "S1", "S2"]


def test_teacher_refusals_name_what_was_refused() -> None:
    p1 = programme()
    t = teacher(p1)
    now = at(date(2024, 3, 2))
    assert refused(Invalid, t.request_absence, "P1", AbsenceKind.SUBSTITUTION, "r", "A001", ADMIN, now,
                   date(2024, 3, 2)) == ("invalid_substitute", "a teacher cannot substitute for themself")
    assert refused(Invalid, t.request_absence, "P1", AbsenceKind.LEAVE, " ", None, ADMIN, now, date(2024, 3, 2)) == (
        "reason_required", "an absence needs a reason")
    assert refused(Conflict, t.enrolment, "P9") == ("not_enrolled", "teacher A001 is not enrolled in P9")
    assert refused(NotFound, t.credit, "C9") == ("credit_not_found", "teacher A001 has no credit C9")
    assert refused(NotFound, t.dispute, "D9") == ("dispute_not_found", "no dispute D9")
    t.request_absence("P1", AbsenceKind.LEAVE, "病假", None, ADMIN, now, date(2024, 3, 2))
    t.decide_absence("P1", Approver.SCHOOL, Decision.APPROVED, "", ADMIN, now)
    t.decide_absence("P1", Approver.PROVIDER, Decision.APPROVED, "", ADMIN, now)
    assert refused(Conflict, t.record_attendance, "P1", 1, True, ADMIN, at(date(2024, 3, 4), 18)) == (
        "absence_approved", "teacher A001 has an approved leave for P1")


def test_credit_and_dispute_refusals_name_what_was_refused() -> None:
    p1 = programme()
    t = teacher(p1)
    credit_id = credited(t, p1)
    later = at(date(2024, 4, 1))
    assert refused(Conflict, t.award_credit, credit_id, "P1", Decimal(1), DEFAULT_POLICY, ADMIN, later) == (
        "credit_already_awarded", "credit C-P1 already recognises P1")
    assert refused(Invalid, t.revoke_credit, credit_id, "", ADMIN, later) == (
        "reason_required", "a revocation needs a reason")
    t.revoke_credit(credit_id, "重复认定", ADMIN, later)
    assert refused(Conflict, t.revoke_credit, credit_id, "again", ADMIN, later) == (
        "credit_already_revoked", "credit C-P1 was already revoked")
    assert refused(Conflict, t.award_credit, credit_id, "P1", Decimal(1), DEFAULT_POLICY, ADMIN, later) == (
        "credit_exists", "credit C-P1 already exists")
    t.open_dispute("D1", "P1", "claim", [], ADMIN, later)
    assert refused(Conflict, t.open_dispute, "D1", "P1", "claim", [], ADMIN, later) == (
        "dispute_exists", "dispute D1 already exists")
    assert refused(Invalid, t.resolve_dispute, "D1", DisputeDecision.UPHELD, " ", None, "C-x", DEFAULT_POLICY, ADMIN,
                   later) == ("reason_required", "a resolution needs a reason")
    assert refused(Conflict, t.resolve_dispute, "D1", DisputeDecision.UPHELD, "ok", Decimal(8), credit_id,
                   DEFAULT_POLICY, ADMIN, later) == ("credit_exists", "credit C-P1 already exists")


def test_programme_events_are_at_the_instant_given_and_refusals_name_the_programme() -> None:
    p = programme(capacity=2)
    new_events(p)
    now = at(date(2024, 2, 20))
    p.decide(Decision.APPROVED, " 合格 ", ADMIN, now)
    p.take_seat("A001", ADMIN, now)
    p.pass_seat("A001", "A002", ADMIN, now, "换人")
    events = new_events(p)
    assert [(type(e).__name__, e.timestamp, e.reason) for e in events] == [
        ("Decided", now, "合格"), ("SeatTaken", now, ""), ("SeatPassed", now, "换人")]
    assert p.seats == {"A002"}
    assert refused(Conflict, p.decide, Decision.REJECTED, "no", ADMIN, now) == (
        "programme_already_decided", "programme P1 was already approved")
    assert refused(Invalid, programme("P2").decide, Decision.REJECTED, "  ", ADMIN, now) == (
        "reason_required", "a rejection needs a reason")
    assert refused(NotFound, p.session, 4) == ("session_not_found", "programme P1 has no session 4")
    assert p.session(3) == {"no": 3, "on": date(2024, 3, 6), "hours": Decimal(8)}


def test_a_rename_is_at_the_instant_given_and_the_structure_stays() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2)))
    new_events(county)
    now = at(date(2024, 2, 1))
    assert county.rename(" 新县 ", OrgKind.COUNTY, None, ADMIN, now) is True
    assert county.rename("新县", OrgKind.COUNTY, None, ADMIN, now) is False
    (renamed,) = new_events(county)
    assert (renamed.timestamp, renamed.reason, renamed.name) == (now, "", "新县")
    assert refused(Conflict, county.rename, "新县", OrgKind.CITY, None, ADMIN, now) == (
        "org_structure_fixed", "org C1 is a county under None; kind and parent cannot change")


def test_a_domain_errors_text_is_its_detail() -> None:
    error = Invalid("invalid_hours", "hours must be a number")
    assert (str(error), error.code, error.detail, error.kind) == (
        "hours must be a number", "invalid_hours", "hours must be a number", "invalid")
    assert (Conflict("c", "d").kind, NotFound("c", "d").kind) == ("conflict", "not_found")


def test_registration_limits_and_its_event() -> None:
    now = at(date(2024, 1, 2))  # 2024-01-02 02:00 UTC: a year from now is 2025-01-02
    teacher_no = "A" * 32
    registered = Teacher.register(teacher_no, "张" * 50, "S1", date(1950, 1, 1), ADMIN, now)
    (event,) = new_events(registered)
    assert (event.timestamp, event.reason, event.teacher_no, event.name) == (now, "", teacher_no, "张" * 50)
    Teacher.register("A002", "李娜", "S1", date(2025, 1, 2), ADMIN, now)
    hired = ("invalid_hired_on", "hired_on lies between 1950 and a year from now")
    assert refused(Invalid, Teacher.register, "A003", "李娜", "S1", date(1949, 12, 31), ADMIN, now) == hired
    assert refused(Invalid, Teacher.register, "A003", "李娜", "S1", date(2025, 1, 3), ADMIN, now) == hired
    assert refused(Invalid, Teacher.register, "A" * 33, "李娜", "S1", None, ADMIN, now) == (
        "invalid_teacher_no", "teacher_no must be 1–32 characters, no '/'")
    assert refused(Invalid, Teacher.register, "A003", "张" * 51, "S1", None, ADMIN, now) == (
        "invalid_name", "name must be 1–50 characters")


def test_assessment_and_evaluation_refusals_name_the_score_and_the_step() -> None:
    p1 = programme()
    t = teacher(p1)
    after = at(date(2024, 3, 7))
    early = at(date(2024, 3, 5))
    pass_ = AssessmentResult.PASS
    assert refused(Invalid, t.assess, "P1", 0, 4, pass_, DEFAULT_POLICY, ADMIN, after) == (
        "invalid_score", "attitude must be an integer from 1 to 5")
    assert refused(Invalid, t.assess, "P1", 4, 6, pass_, DEFAULT_POLICY, ADMIN, after) == (
        "invalid_score", "assignments must be an integer from 1 to 5")
    assert refused(Conflict, t.assess, "P1", 4, 4, pass_, DEFAULT_POLICY, ADMIN, early) == (
        "programme_not_ended", "assessment of P1 can start on 2024-03-06")
    new_events(t)
    t.assess("P1", 3, 5, pass_, DEFAULT_POLICY, ADMIN, after)
    (assessed,) = new_events(t)
    assert (assessed.timestamp, assessed.attitude, assessed.assignments, assessed.reason) == (after, 3, 5, "")
    for scores, name in (((0, 4, 4), "form"), ((4, 0, 4), "instructors"), ((4, 4, 0), "management")):
        assert refused(Invalid, t.evaluate, "P1", *scores, None, DEFAULT_POLICY, ADMIN, after) == (
            "invalid_score", f"{name} must be an integer from 1 to 5")
    assert refused(Conflict, t.evaluate, "P1", 5, 5, 5, None, DEFAULT_POLICY, ADMIN, early) == (
        "programme_not_ended", "evaluation of P1 can start on 2024-03-06")
    t.evaluate("P1", 5, 4, 3, " 好 ", DEFAULT_POLICY, ADMIN, after)
    (evaluated,) = new_events(t)
    assert (evaluated.timestamp, evaluated.policy_version, evaluated.reason, evaluated.comment) == (
        after, "seeds-default-1", "", "好")


def test_an_excused_trainee_is_named_when_refused_assessment_or_evaluation() -> None:
    p1 = programme()
    t = teacher(p1)
    now = at(date(2024, 3, 1))
    t.request_absence("P1", AbsenceKind.LEAVE, "病假", None, ADMIN, now, date(2024, 3, 1))
    t.decide_absence("P1", Approver.SCHOOL, Decision.APPROVED, "", ADMIN, now)
    t.decide_absence("P1", Approver.PROVIDER, Decision.APPROVED, "", ADMIN, now)
    after = at(date(2024, 3, 7))
    excused = ("absence_approved", "teacher A001 was excused from P1")
    assert refused(Conflict, t.assess, "P1", 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, ADMIN, after) == excused
    assert refused(Conflict, t.evaluate, "P1", 4, 4, 4, None, DEFAULT_POLICY, ADMIN, after) == excused


def test_an_enrolment_records_no_reason_unless_given_and_is_once() -> None:
    p1 = programme()
    t = teacher()
    new_events(t)
    t.enrol(p1.facts(), DEFAULT_POLICY, ADMIN, at(date(2024, 2, 1)))
    (enrolled,) = new_events(t)
    assert (enrolled.reason, enrolled.substitutes_for) == ("", None)
    assert refused(Conflict, t.enrol, p1.facts(), DEFAULT_POLICY, ADMIN, at(date(2024, 2, 1))) == (
        "already_enrolled", "teacher A001 is already enrolled in P1")


def test_hours_awarded_on_a_dispute_need_no_assessment_and_convert_by_form_and_selection() -> None:
    by_form = DEFAULT_POLICY.model_copy(update={"conversions": (
        Conversion(match=Match(form=Form.ONLINE), hours_per_credit=Decimal(20)),
        Conversion(match=Match(form=Form.CONCENTRATED), hours_per_credit=Decimal(10)),
    )})
    by_selection = DEFAULT_POLICY.model_copy(update={"conversions": (
        Conversion(match=Match(selection=Selection.MANDATED), hours_per_credit=Decimal(20)),
        Conversion(match=Match(selection=Selection.SELF_SELECTED), hours_per_credit=Decimal(8)),
    )})
    p1, p2 = programme("P1"), programme("P2", starts_on=date(2024, 3, 11))
    t = teacher(p1, p2)
    now = at(date(2024, 4, 1))
    t.open_dispute("D1", "P1", "未评定", [], ADMIN, now)  # P1 was never assessed
    t.resolve_dispute("D1", DisputeDecision.UPHELD, "属实", Decimal(20), "C-1", by_form, ADMIN, now)
    assert (t.credits["C-1"].hours, t.credits["C-1"].credits) == (Decimal(20), Decimal("2.00"))  # 20 h / 10
    credited(t, p2, "20", by_selection)
    assert t.credits["C-P2"].credits == Decimal("2.50")  # 20 h / 8


def test_programme_definition_limits_and_its_event() -> None:
    now = at(date(2024, 2, 1))
    sessions = [SessionPlan(1, date(2024, 3, 4), Decimal(8))]

    def define(code: str = "P1", title: str = "培训", plans: list[SessionPlan] = sessions) -> Programme:
        return Programme.define(
            code=code, title=title, level=Level.COUNTY, form=Form.ONLINE, selection=Selection.MANDATED,
            school_based_content=None, hours=Decimal(8), provider_id="P1", owner_org_id="C1",
            starts_on=date(2024, 3, 4), ends_on=date(2024, 3, 4), sessions=plans, capacity=None, actor=ADMIN, now=now)

    (defined,) = new_events(define("P" * 64, "题" * 200))
    assert (defined.timestamp, defined.reason, defined.code, defined.title) == (now, "", "P" * 64, "题" * 200)
    assert refused(Invalid, define, "P" * 65) == ("invalid_code", "programme code must be 1–64 characters, no '/'")
    assert refused(Invalid, define, "P1", "题" * 201) == ("invalid_title", "title must be 1–200 characters")
    bad_session = [SessionPlan(1, date(2024, 3, 4), Decimal(8)), SessionPlan(2, date(2024, 3, 4), Decimal(0))]
    assert refused(Invalid, define, "P1", "培训", bad_session) == (
        "invalid_hours", "session 2 hours must be above 0 and at most 2000")


def test_enrolment_in_a_programme_refusals_name_the_programme() -> None:
    rejected = programme()
    rejected.decide(Decision.REJECTED, "不合格", ADMIN, at(date(2024, 2, 1)))
    assert refused(Conflict, rejected.ensure_open_for_enrolment, date(2024, 2, 1)) == (
        "programme_rejected", "programme P1 was rejected")
    assert refused(Conflict, programme().ensure_open_for_enrolment, date(2024, 3, 7)) == (
        "programme_ended", "programme P1 ended on 2024-03-06")
    programme().ensure_open_for_enrolment(date(2024, 3, 6))
    school_based = Programme.define(
        code="SB1", title="校本", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
        school_based_content=SchoolBasedContent.DESIGNATED, hours=Decimal(8), provider_id="S1", owner_org_id="S1",
        starts_on=date(2024, 3, 4), ends_on=date(2024, 3, 4), sessions=[SessionPlan(1, date(2024, 3, 4), Decimal(8))],
        capacity=None, actor=ADMIN, now=at(date(2024, 2, 1)))
    assert refused(Conflict, school_based.ensure_open_for_enrolment, date(2024, 2, 1)) == (
        "programme_not_approved", "school-based programme SB1 is not approved yet")
    full = programme(capacity=1)
    full.take_seat("A001", ADMIN, at(date(2024, 2, 1)))
    full.take_seat("A001", ADMIN, at(date(2024, 2, 1)))  # a seat holder is not refused for the seat it holds
    assert refused(Conflict, full.take_seat, "A002", ADMIN, at(date(2024, 2, 1))) == (
        "programme_full", "programme P1 is full (1)")


def test_what_an_enrolment_keeps_of_the_programme() -> None:
    assert programme().facts() == {
        "code": "P1", "title": "培训P1", "level": "county", "form": "concentrated", "selection": "self_selected",
        "school_based_content": None, "hours": Decimal(24), "provider_id": "P1", "owner_org_id": "C1",
        "starts_on": date(2024, 3, 4), "ends_on": date(2024, 3, 6), "session_nos": [1, 2, 3]}


def test_org_registration_limits_and_its_event() -> None:
    now = at(date(2024, 1, 2))
    province = OrgUnit.register("X" * 64, "省" * 200, OrgKind.PROVINCE, None, ADMIN, now)
    (event,) = new_events(province)
    assert (event.timestamp, event.reason, event.org_id, event.name, event.parent_id) == (
        now, "", "X" * 64, "省" * 200, None)
    assert refused(Invalid, OrgUnit.register, "X" * 65, "省", OrgKind.PROVINCE, None, ADMIN, now) == (
        "invalid_org_id", "org id must be 1–64 characters, no '/' or edge spaces")
    assert refused(Invalid, OrgUnit.register, "P2", "省" * 201, OrgKind.PROVINCE, None, ADMIN, now) == (
        "invalid_name", "name must be 1–200 characters")
    assert refused(Invalid, OrgUnit.register, "T1", "镇", OrgKind.TOWN, None, ADMIN, now) == (
        "invalid_parent", "a town cannot sit under nothing")
    assert refused(Invalid, OrgUnit.register, "S1", "校", OrgKind.SCHOOL, province, ADMIN, now) == (
        "invalid_parent", "a school cannot sit under province")
