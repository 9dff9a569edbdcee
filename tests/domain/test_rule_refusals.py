"""Each rule of domain/rules/*.py called directly: the refusal's code and its exact detail (both
reach the API's answer), and the last value still allowed beside the first one refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.policy import DEFAULT_POLICY
from domain.rules.absence import ensure_absence_can_be_filed, ensure_absence_decidable, ensure_reason
from domain.rules.assessment import ensure_assessable, ensure_programme_ended, ensure_score
from domain.rules.attendance import ensure_not_excused, ensure_session_held, ensure_session_of_enrolment
from domain.rules.credits import (
    ensure_credit_once_per_programme,
    ensure_credit_within_programme_hours,
    ensure_passing_assessment,
)
from domain.rules.disputes import ensure_claim, ensure_evidence, ensure_no_open_dispute, ensure_resolvable
from domain.rules.enrolment import (
    ensure_evaluations_done_before_new_term,
    ensure_not_already_enrolled,
    ensure_school_based_for_own_staff,
    evaluations_pending_before,
)
from domain.rules.evaluation import ensure_comment, ensure_evaluable
from domain.rules.hours import ensure_valid_hours
from domain.rules.programme_definition import (
    SessionPlan,
    ensure_capacity,
    ensure_programme_dates,
    ensure_provider_kind,
    ensure_school_based_content,
    ensure_school_based_level,
    ensure_session_hours_add_up,
    ensure_sessions_within_programme,
    needs_approval,
)
from domain.rules.transfers import ensure_transfer_in_order
from domain.teacher_records import Absence, Attendance, Credit, Dispute, Enrolment, Posting
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    DisputeDecision,
    Form,
    Level,
    OrgKind,
    SchoolBasedContent,
    Selection,
)

AT = datetime(2024, 3, 1, 2, tzinfo=UTC)
START, END = date(2024, 3, 4), date(2024, 3, 6)
SHA = "ab" * 32


def enrolment(code: str = "P1", *, ends_on: date = END, absence: Absence | None = None,
              assessment: dict[str, Any] | None = None, evaluation: dict[str, Any] | None = None,
              programme: dict[str, Any] | None = None) -> Enrolment:
    facts = {"code": code, "starts_on": START, "ends_on": ends_on, "hours": Decimal(24), "session_nos": [1, 2, 3],
             "selection": "self_selected", "form": "concentrated", "owner_org_id": "C1", **(programme or {})}
    return Enrolment(facts, AT, "e-1", None, absence=absence, assessment=assessment, evaluation=evaluation)


def absence(kind: AbsenceKind = AbsenceKind.LEAVE, **decisions: str) -> Absence:
    return Absence(kind.value, "病假", None, "e-2", AT, decisions=dict(decisions))


def refused(kind: type[DomainError], call: Callable[..., Any], *args: Any) -> tuple[str, str]:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert type(caught.value) is kind
    return caught.value.code, caught.value.detail


# --- absence ------------------------------------------------------------------------------------

def test_a_reason_is_trimmed_and_at_most_2000_characters() -> None:
    assert ensure_reason("  病假  ", "an absence") == "病假"
    assert ensure_reason("x" * 2000, "an absence") == "x" * 2000
    assert refused(Invalid, ensure_reason, "x" * 2001, "an absence") == (
        "reason_too_long", "a reason is at most 2000 characters")
    assert refused(Invalid, ensure_reason, " \n ", "a revocation") == ("reason_required", "a revocation needs a reason")


def test_an_absence_is_filed_once_before_the_end_and_before_assessment() -> None:
    ensure_absence_can_be_filed(enrolment(), AbsenceKind.LEAVE, None, END)  # on the last day still
    ensure_absence_can_be_filed(enrolment(absence=absence(school="rejected")), AbsenceKind.LEAVE, None, END)
    assert refused(Conflict, ensure_absence_can_be_filed, enrolment(absence=absence(school="approved")),
                   AbsenceKind.LEAVE, None, START) == ("absence_exists", "an absence for P1 is already pending")
    assert refused(Conflict, ensure_absence_can_be_filed, enrolment(assessment={"result": "pass"}),
                   AbsenceKind.LEAVE, None, START) == ("already_assessed", "P1 is already assessed")
    assert refused(Conflict, ensure_absence_can_be_filed, enrolment(), AbsenceKind.LEAVE, None, date(2024, 3, 7)) == (
        "programme_ended", "P1 ended on 2024-03-06")
    assert refused(Invalid, ensure_absence_can_be_filed, enrolment(), AbsenceKind.SUBSTITUTION, None, START) == (
        "substitute_required", "a substitution names the substitute_teacher_no")
    assert refused(Invalid, ensure_absence_can_be_filed, enrolment(), AbsenceKind.LEAVE, "A002", START) == (
        "substitute_not_allowed", "leave has no substitute; file a substitution")
    ensure_absence_can_be_filed(enrolment(), AbsenceKind.SUBSTITUTION, "A002", START)


def test_each_approver_decides_a_pending_absence_once() -> None:
    ensure_absence_decidable(enrolment(absence=absence(school="approved")), Approver.PROVIDER)
    assert refused(Conflict, ensure_absence_decidable, enrolment(), Approver.SCHOOL) == (
        "absence_not_found", "no pending absence for P1")
    assert refused(Conflict, ensure_absence_decidable, enrolment(absence=absence(provider="rejected")),
                   Approver.SCHOOL) == ("absence_not_found", "no pending absence for P1")
    assert refused(Conflict, ensure_absence_decidable, enrolment(absence=absence(school="approved")),
                   Approver.SCHOOL) == ("absence_already_decided", "the school already decided this absence")


# --- assessment, attendance, evaluation ------------------------------------------------------------

@pytest.mark.parametrize("score", [1, 5])
def test_scores_from_1_to_5_are_allowed(score: int) -> None:
    ensure_score(score, "attitude")


@pytest.mark.parametrize("score", [0, 6, True, "3", 3.0])
def test_other_scores_are_refused(score: Any) -> None:
    assert refused(Invalid, ensure_score, score, "form") == ("invalid_score", "form must be an integer from 1 to 5")


def test_assessment_starts_on_the_last_day_of_an_attended_programme() -> None:
    ensure_programme_ended(enrolment(), END, "assessment")
    assert refused(Conflict, ensure_programme_ended, enrolment(), date(2024, 3, 5), "evaluation") == (
        "programme_not_ended", "evaluation of P1 can start on 2024-03-06")
    ensure_assessable(enrolment(absence=absence(school="approved")), "A001")  # one approval is not enough
    assert refused(Conflict, ensure_assessable, enrolment(absence=absence(school="approved", provider="approved")),
                   "A001") == ("absence_approved", "teacher A001 was excused from P1")
    assert refused(Conflict, ensure_assessable, enrolment(assessment={"result": "pass"}), "A001") == (
        "already_assessed", "teacher A001 is already assessed in P1")


def test_attendance_is_for_held_sessions_of_the_programme_and_not_for_the_excused() -> None:
    ensure_session_held({"no": 2, "on": date(2024, 3, 5)}, date(2024, 3, 5))
    assert refused(Conflict, ensure_session_held, {"no": 2, "on": date(2024, 3, 5)}, date(2024, 3, 4)) == (
        "session_not_held", "session 2 is on 2024-03-05, not held yet")
    ensure_session_of_enrolment(enrolment(), 3)
    assert refused(NotFound, ensure_session_of_enrolment, enrolment(), 4) == (
        "session_not_found", "P1 has no session 4")
    excused = enrolment(absence=absence(AbsenceKind.SUBSTITUTION, school="approved", provider="approved"))
    ensure_not_excused(excused, "A001", False)
    ensure_not_excused(enrolment(absence=absence(school="approved")), "A001", True)
    assert refused(Conflict, ensure_not_excused, excused, "A001", True) == (
        "absence_approved", "teacher A001 has an approved substitution for P1")


def test_an_evaluation_is_once_by_a_trainee_who_was_not_excused() -> None:
    ensure_evaluable(enrolment(), "A001")
    assert refused(Conflict, ensure_evaluable, enrolment(absence=absence(school="approved", provider="approved")),
                   "A001") == ("absence_approved", "teacher A001 was excused from P1")
    assert refused(Conflict, ensure_evaluable, enrolment(evaluation={"form": 5}), "A001") == (
        "already_evaluated", "teacher A001 already evaluated P1")


def test_a_comment_is_trimmed_empty_is_none_and_at_most_2000_characters() -> None:
    assert ensure_comment(None) is None
    assert ensure_comment("  ") is None
    assert ensure_comment(" 很好 ") == "很好"
    assert ensure_comment("x" * 2000) == "x" * 2000
    assert refused(Invalid, ensure_comment, "x" * 2001) == ("comment_too_long", "a comment is at most 2000 characters")


# --- credits and hours ---------------------------------------------------------------------------

def credit(code: str = "P1", *, revoked: bool = False) -> Credit:
    return Credit("C1", code, "t", "county", "concentrated", "self_selected", None, Decimal(24), Decimal(24), 2024,
                  AT, END, "S1", {"sub": "admin"}, "e-3", "v", {}, revoked=revoked)


def test_a_credit_is_at_most_the_programmes_hours_once_after_a_pass() -> None:
    ensure_credit_within_programme_hours(Decimal(24), enrolment())
    assert refused(Conflict, ensure_credit_within_programme_hours, Decimal("24.1"), enrolment()) == (
        "hours_exceed_programme", "24.1 学时 exceeds the 24 学时 of P1")
    ensure_credit_once_per_programme([credit(revoked=True), credit("P2")], "P1")
    assert refused(Conflict, ensure_credit_once_per_programme, [credit("P2"), credit()], "P1") == (
        "credit_already_awarded", "credit C1 already recognises P1")
    assert refused(Conflict, ensure_passing_assessment, enrolment(), DEFAULT_POLICY) == (
        "assessment_required", "P1 has no assessment yet")
    assert refused(Conflict, ensure_passing_assessment, enrolment(assessment={"result": "fail", "event_id": "e-4"}),
                   DEFAULT_POLICY) == ("assessment_failed", "the assessment in P1 was fail")
    passed = enrolment(assessment={"result": "pass", "event_id": "e-4"})
    assert ensure_passing_assessment(passed, DEFAULT_POLICY) == "e-4"


@pytest.mark.parametrize(("given", "hours"), [
    ("0.1", Decimal("0.1")), (0.1, Decimal("0.1")), ("8.0", Decimal(8)), ("7.50", Decimal("7.5")),
    (2000, Decimal(2000)), (Decimal("1999.9"), Decimal("1999.9")),
])
def test_hours_are_positive_tenths_up_to_2000(given: Any, hours: Decimal) -> None:
    result = ensure_valid_hours(given)
    assert result == hours
    assert str(result) == str(hours)  # 8, not 8.0: the stored text of whole hours has no decimals


@pytest.mark.parametrize(("given", "detail"), [
    ("abc", "hours must be a number"),
    ([8], "hours must be a number"),
    (0, "hours must be above 0 and at most 2000"),
    ("-0.1", "hours must be above 0 and at most 2000"),
    ("2000.1", "hours must be above 0 and at most 2000"),
    ("NaN", "hours must be above 0 and at most 2000"),
    ("Infinity", "hours must be above 0 and at most 2000"),
    ("1.25", "hours may have at most one decimal place"),
])
def test_other_hours_are_refused(given: Any, detail: str) -> None:
    assert refused(Invalid, ensure_valid_hours, given) == ("invalid_hours", detail)


def test_the_refusal_names_what_the_hours_are_of() -> None:
    assert refused(Invalid, ensure_valid_hours, "0", "session 2 hours") == (
        "invalid_hours", "session 2 hours must be above 0 and at most 2000")


# --- disputes ------------------------------------------------------------------------------------

def dispute(code: str = "P1", decision: str | None = None) -> Dispute:
    return Dispute("D1", code, "claim", [], AT, "e-5", decision=decision)


def test_a_claim_is_trimmed_and_at_most_4000_characters() -> None:
    assert ensure_claim(" 漏记学时 ") == "漏记学时"
    assert ensure_claim("x" * 4000) == "x" * 4000
    assert refused(Invalid, ensure_claim, "x" * 4001) == ("claim_too_long", "a claim is at most 4000 characters")
    assert refused(Invalid, ensure_claim, "\t") == ("claim_required", "a dispute states its claim")


def test_evidence_is_at_most_50_named_files_with_their_sha256() -> None:
    assert ensure_evidence([{"name": " 签到表.pdf ", "sha256": SHA.upper()}]) == [{"name": "签到表.pdf", "sha256": SHA}]
    assert len(ensure_evidence([{"name": f"f{i}", "sha256": SHA} for i in range(50)])) == 50
    assert ensure_evidence([{"name": "n" * 255, "sha256": SHA}])[0]["name"] == "n" * 255
    invalid = ("invalid_evidence", "evidence is a name and the 64-hex sha256 of the file")
    assert refused(Invalid, ensure_evidence, [{"name": f"f{i}", "sha256": SHA} for i in range(51)]) == (
        "invalid_evidence", "at most 50 pieces of evidence")
    assert refused(Invalid, ensure_evidence, [{"name": "n" * 256, "sha256": SHA}]) == invalid
    assert refused(Invalid, ensure_evidence, [{"name": " ", "sha256": SHA}]) == invalid
    assert refused(Invalid, ensure_evidence, [{"sha256": SHA}]) == invalid
    assert refused(Invalid, ensure_evidence, [{"name": "a"}]) == invalid
    assert refused(Invalid, ensure_evidence, [{"name": "a", "sha256": SHA[:-1]}]) == invalid
    assert refused(Invalid, ensure_evidence, [{"name": "a", "sha256": SHA + "0"}]) == invalid


def test_one_open_dispute_per_programme_resolved_once_with_hours_only_when_upheld() -> None:
    ensure_no_open_dispute([dispute(decision="rejected"), dispute("P2")], "P1")
    assert refused(Conflict, ensure_no_open_dispute, [dispute("P2"), dispute()], "P1") == (
        "dispute_already_open", "dispute D1 about P1 is still open")
    ensure_resolvable(dispute(), DisputeDecision.UPHELD, Decimal(8))
    ensure_resolvable(dispute(), DisputeDecision.REJECTED, None)
    assert refused(Conflict, ensure_resolvable, dispute(decision="rejected"), DisputeDecision.UPHELD, None) == (
        "dispute_already_resolved", "dispute D1 was already rejected")
    assert refused(Invalid, ensure_resolvable, dispute(), DisputeDecision.REJECTED, Decimal(8)) == (
        "award_needs_upheld", "hours are awarded only when a dispute is upheld")


# --- enrolment -----------------------------------------------------------------------------------

def assessed(code: str, ends_on: date, evaluated: bool = False) -> Enrolment:
    evaluation = {"form": 5} if evaluated else None
    return enrolment(code, ends_on=ends_on, assessment={"result": "pass"}, evaluation=evaluation)


def test_evaluations_pending_are_of_earlier_terms_only() -> None:
    past = [assessed("S24", date(2024, 7, 31)), assessed("A23", date(2024, 1, 31)),
            assessed("E", date(2024, 3, 1), evaluated=True), enrolment("N", ends_on=date(2023, 3, 1)),
            assessed("A24", date(2024, 8, 1))]
    # spring 2024 runs 02-01 … 07-31, autumn 2024 08-01 … 2025-01-31
    assert evaluations_pending_before(past, date(2024, 2, 1), DEFAULT_POLICY) == ["A23"]
    assert evaluations_pending_before(past, date(2024, 1, 31), DEFAULT_POLICY) == []
    assert evaluations_pending_before(past, date(2024, 8, 1), DEFAULT_POLICY) == ["A23", "S24"]
    assert evaluations_pending_before(past, date(2025, 2, 1), DEFAULT_POLICY) == ["A23", "A24", "S24"]
    assert refused(Conflict, ensure_evaluations_done_before_new_term, past, {"starts_on": date(2024, 9, 2)},
                   DEFAULT_POLICY) == (
        "evaluation_pending", "evaluate A23, S24 before enrolling in a programme of 2024 autumn")
    ensure_evaluations_done_before_new_term(past, {"starts_on": date(2024, 1, 2)}, DEFAULT_POLICY)


def test_enrolment_is_once_and_school_based_programmes_are_for_their_schools_staff() -> None:
    ensure_not_already_enrolled({"P2": enrolment("P2")}, "P1", "A001")
    assert refused(Conflict, ensure_not_already_enrolled, {"P1": enrolment()}, "P1", "A001") == (
        "already_enrolled", "teacher A001 is already enrolled in P1")
    for selection, form in (("school_based", "concentrated"), ("self_selected", "school_based")):
        programme = {"code": "SB1", "selection": selection, "form": form, "owner_org_id": "S2"}
        ensure_school_based_for_own_staff(programme, "S2")
        assert refused(Conflict, ensure_school_based_for_own_staff, programme, "S1") == (
            "outside_programme_school", "school-based programme SB1 is for staff of S2")
    ensure_school_based_for_own_staff({"code": "P", "selection": "mandated", "form": "online", "owner_org_id": "C1"},
                                      "S1")


# --- programme definition ------------------------------------------------------------------------

def plans(*days: int, hours: int = 8) -> list[SessionPlan]:
    return [SessionPlan(i + 1, date(2024, 3, day), Decimal(hours)) for i, day in enumerate(days)]


def test_a_programme_has_numbered_sessions_within_its_dates_adding_up_to_its_hours() -> None:
    ensure_programme_dates(START, START)
    assert refused(Invalid, ensure_programme_dates, START, date(2024, 3, 3)) == (
        "invalid_dates", "ends_on 2024-03-03 is before starts_on 2024-03-04")
    ensure_sessions_within_programme(plans(4, 6), START, END)
    assert refused(Invalid, ensure_sessions_within_programme, [], START, END) == (
        "sessions_required", "a programme needs at least one session")
    twice = [SessionPlan(1, START, Decimal(8)), SessionPlan(1, END, Decimal(8))]
    assert refused(Invalid, ensure_sessions_within_programme, twice, START, END) == (
        "duplicate_session", "session numbers must be unique")
    assert refused(Invalid, ensure_sessions_within_programme, [SessionPlan(0, START, Decimal(8))], START, END) == (
        "invalid_session", "session numbers start at 1")
    for day in (3, 7):
        assert refused(Invalid, ensure_sessions_within_programme, plans(4, day), START, END) == (
            "session_outside_programme", f"session 2 on 2024-03-0{day} is outside 2024-03-04–2024-03-06")
    ensure_session_hours_add_up(plans(4, 5, 6), Decimal(24))
    assert refused(Invalid, ensure_session_hours_add_up, plans(4, 5), Decimal(24)) == (
        "session_hours_mismatch", "sessions add up to 16 学时 but the programme has 24")


def test_school_based_content_is_said_by_school_based_programmes_only() -> None:
    required = ("school_based_content_required", "a school-based programme must say designated or elective content")
    assert refused(Invalid, ensure_school_based_content, Selection.SCHOOL_BASED, Form.CONCENTRATED, None) == required
    assert refused(Invalid, ensure_school_based_content, Selection.MANDATED, Form.SCHOOL_BASED, None) == required
    assert refused(Invalid, ensure_school_based_content, Selection.MANDATED, Form.ONLINE,
                   SchoolBasedContent.ELECTIVE) == (
        "school_based_content_not_allowed", "only school-based programmes have school_based_content")
    ensure_school_based_content(Selection.MANDATED, Form.SCHOOL_BASED, SchoolBasedContent.DESIGNATED)
    ensure_school_based_content(Selection.MANDATED, Form.ONLINE, None)


def test_who_may_own_provide_and_fill_a_programme() -> None:
    owner = ("school_based_owner", "a school-based programme has level 'school' and is owned by a school")
    ensure_school_based_level(Selection.SCHOOL_BASED, Level.SCHOOL, OrgKind.SCHOOL)
    ensure_school_based_level(Selection.MANDATED, Level.COUNTY, OrgKind.COUNTY)
    assert refused(Invalid, ensure_school_based_level, Selection.SCHOOL_BASED, Level.COUNTY, OrgKind.SCHOOL) == owner
    assert refused(Invalid, ensure_school_based_level, Selection.SCHOOL_BASED, Level.SCHOOL, OrgKind.TOWN) == owner
    ensure_provider_kind(OrgKind.PROVIDER)
    ensure_provider_kind(OrgKind.SCHOOL)
    assert refused(Invalid, ensure_provider_kind, OrgKind.TOWN) == (
        "invalid_provider", "provider_id must name a provider or a school")
    ensure_capacity(None)
    ensure_capacity(1)
    assert refused(Invalid, ensure_capacity, 0) == ("invalid_capacity", "capacity must be at least 1")
    assert [needs_approval(s, f) for s, f in (("school_based", "online"), ("mandated", "school_based"),
                                              ("self_selected", "concentrated"))] == [True, True, False]


# --- transfers -----------------------------------------------------------------------------------

def test_a_transfer_is_to_another_school_in_order_and_not_in_the_future() -> None:
    postings = [Posting("S1", None, "e-6"), Posting("S2", date(2024, 2, 1), "e-7")]
    today = date(2024, 3, 1)
    ensure_transfer_in_order(postings, "S3", date(2024, 2, 1), today)  # the day the current posting began
    ensure_transfer_in_order(postings, "S3", today, today)
    ensure_transfer_in_order(postings[:1], "S2", date(1990, 1, 1), today)  # no date to keep order with
    assert refused(Conflict, ensure_transfer_in_order, postings, "S2", today, today) == (
        "same_school", "the teacher is already at S2")
    assert refused(Conflict, ensure_transfer_in_order, postings, "S3", date(2024, 3, 2), today) == (
        "transfer_in_future", "record the transfer on or after 2024-03-02")
    assert refused(Conflict, ensure_transfer_in_order, postings, "S3", date(2024, 1, 31), today) == (
        "transfer_out_of_order", "the teacher joined S2 on 2024-02-01, after 2024-01-31")


def test_attendance_marks_are_kept_per_session() -> None:
    # the rate that assessments record: sessions present of the programme's sessions, to 4 places
    marked = enrolment()
    marked.attendance = {1: Attendance(True, "e-8", AT), 2: Attendance(False, "e-9", AT),
                         3: Attendance(True, "e-10", AT)}
    assert marked.attendance_rate() == Decimal("0.6667")
    assert enrolment(programme={"session_nos": []}).attendance_rate() == Decimal(0)
