"""Assessment, evaluation, credit recognition, revocation and disputes, on every backend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.vocabulary import AssessmentResult, DisputeDecision
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_TOWN_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    define,
    teacher_actor,
)
from tests.helpers import refused, types_of

EVIDENCE = [{"name": "结业证书.pdf", "sha256": "a" * 64}]


def _finished(county: TrainRec, clock: Clock, result: AssessmentResult | None = AssessmentResult.GOOD) -> None:
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    county.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    if result is not None:
        county.assess(PROVIDER, "K1", "A001", 4, 5, result)


def test_assessment_on_time_and_late(county: TrainRec, clock: Clock) -> None:
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    county.enrol(ADMIN, "K1", "A002")
    clock.set(date(2024, 3, 11))  # ends 03-06, due 03-11
    assert county.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS).body["late"] is False
    clock.set(date(2024, 3, 12))
    assert county.assess(PROVIDER, "K1", "A002", 4, 4, AssessmentResult.PASS).body["late"] is True


def test_assessment_refusals(county: TrainRec, clock: Clock) -> None:
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 5))
    with refused(county, "programme_not_ended"):
        county.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    clock.set(date(2024, 3, 6))
    with refused(county, "invalid_score"):
        county.assess(PROVIDER, "K1", "A001", 6, 4, AssessmentResult.PASS)
    with refused(county, "forbidden_scope"):
        county.assess(SCHOOL_ADMIN, "K1", "A001", 4, 4, AssessmentResult.PASS)
    with refused(county, "not_enrolled"):
        county.assess(ADMIN, "K1", "A002", 4, 4, AssessmentResult.PASS)
    county.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    with refused(county, "already_assessed"):
        county.assess(PROVIDER, "K1", "A001", 5, 5, AssessmentResult.EXCELLENT)


def test_evaluation_by_the_trainee_only_once_and_late_flagged(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock)
    with refused(county, "forbidden_scope"):
        county.evaluate(SCHOOL_ADMIN, "K1", "A001", 5, 5, 5)
    clock.set(date(2024, 3, 17))  # due 03-16
    result = county.evaluate(teacher_actor("A001"), "K1", "A001", 5, 4, 3, "讲师水平高，管理有待加强")
    assert result.body["late"] is True
    with refused(county, "already_evaluated"):
        county.evaluate(teacher_actor("A001"), "K1", "A001", 5, 4, 3)


def test_credit_needs_a_passing_assessment(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock, result=None)
    with refused(county, "assessment_required"):
        county.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    county.assess(PROVIDER, "K1", "A001", 2, 2, AssessmentResult.FAIL)
    with refused(county, "assessment_failed"):
        county.award_credit(PROVIDER, "K1", "A001", Decimal(24))


def test_credit_cannot_exceed_programme_hours_and_is_once(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock)
    with refused(county, "hours_exceed_programme"):
        county.award_credit(PROVIDER, "K1", "A001", Decimal("24.5"))
    with refused(county, "invalid_hours"):
        county.award_credit(PROVIDER, "K1", "A001", Decimal(0))
    with refused(county, "forbidden_scope"):
        county.award_credit(SCHOOL_ADMIN, "K1", "A001", Decimal(24))
    result = county.award_credit(PROVIDER, "K1", "A001", Decimal("22.5"))
    assert types_of(result.body) == ["CreditAwarded"]
    with refused(county, "credit_already_awarded"):
        county.award_credit(PROVIDER, "K1", "A001", Decimal(1))
    line = county.transcript(ADMIN, "A001")["lines"][0]
    assert line["hours"] == 22.5
    assert line["certified_by"] == "p1"
    assert line["event_id"] == result.body["events"][0]["id"]
    assert line["year"] == 2024


def test_revocation_by_supervisor_with_reason_then_replacement(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock)
    credit_id = county.award_credit(PROVIDER, "K1", "A001", Decimal(24)).body["credit_id"]
    with refused(county, "forbidden_scope"):
        county.revoke_credit(OTHER_TOWN_SUP, "A001", credit_id, "重复登记")
    with refused(county, "forbidden_scope"):
        county.revoke_credit(AUDITOR, "A001", credit_id, "重复登记")
    with refused(county, "reason_required"):
        county.revoke_credit(TOWN_SUP, "A001", credit_id, "")
    with refused(county, "credit_not_found"):
        county.revoke_credit(TOWN_SUP, "A001", "C-nope", "重复登记")
    county.revoke_credit(TOWN_SUP, "A001", credit_id, "学时登记有误")
    with refused(county, "credit_already_revoked"):
        county.revoke_credit(TOWN_SUP, "A001", credit_id, "学时登记有误")
    transcript = county.transcript(ADMIN, "A001")
    assert transcript["lines"][0]["status"] == "revoked"
    assert transcript["totals"]["by_year"] == {}
    county.award_credit(PROVIDER, "K1", "A001", Decimal(20))
    assert county.transcript(ADMIN, "A001")["totals"]["by_year"]["2024"]["hours"] == 20


def test_dispute_upheld_with_hours_replaces_the_credit(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock)
    old = county.award_credit(PROVIDER, "K1", "A001", Decimal(16)).body["credit_id"]
    opened = county.open_dispute(teacher_actor("A001"), "A001", "K1", "实际参加24学时", EVIDENCE)
    dispute_id = opened.body["dispute_id"]
    assert county.transcript(ADMIN, "A001")["open_disputes"] == [dispute_id]
    with refused(county, "dispute_already_open"):
        county.open_dispute(SCHOOL_ADMIN, "A001", "K1", "同一事项", EVIDENCE)
    with refused(county, "forbidden_scope"):
        county.resolve_dispute(SCHOOL_ADMIN, dispute_id, DisputeDecision.UPHELD, "核实", Decimal(24))
    with refused(county, "hours_exceed_programme"):
        county.resolve_dispute(COUNTY_SUP, dispute_id, DisputeDecision.UPHELD, "核实", Decimal(25))
    result = county.resolve_dispute(COUNTY_SUP, dispute_id, DisputeDecision.UPHELD, "核实签到表", Decimal(24))
    assert types_of(result.body) == ["DisputeResolved", "CreditRevoked", "CreditAwarded"]
    lines = {line["credit_id"]: line for line in county.transcript(ADMIN, "A001")["lines"]}
    assert lines[old]["status"] == "revoked"
    assert lines[result.body["credit_id"]]["hours"] == 24
    history = county.teacher_history(ADMIN, "A001")
    assert history[-2]["data"]["dispute_id"] == dispute_id
    assert history[-1]["data"]["evidence"] == {"dispute_id": dispute_id}
    with refused(county, "dispute_already_resolved"):
        county.resolve_dispute(COUNTY_SUP, dispute_id, DisputeDecision.REJECTED, "再议")


def test_dispute_refusals(county: TrainRec, clock: Clock) -> None:
    _finished(county, clock)
    with refused(county, "not_enrolled"):
        county.open_dispute(teacher_actor("A002"), "A002", "K1", "我也参加了", EVIDENCE)
    with refused(county, "invalid_evidence"):
        county.open_dispute(teacher_actor("A001"), "A001", "K1", "学时不对", [{"name": "x", "sha256": "zz"}])
    with refused(county, "claim_required"):
        county.open_dispute(teacher_actor("A001"), "A001", "K1", " ", EVIDENCE)
    with refused(county, "forbidden_scope"):
        county.open_dispute(teacher_actor("A002"), "A001", "K1", "代人申诉", EVIDENCE)
    dispute_id = county.open_dispute(teacher_actor("A001"), "A001", "K1", "学时不对", EVIDENCE).body["dispute_id"]
    with refused(county, "award_needs_upheld"):
        county.resolve_dispute(COUNTY_SUP, dispute_id, DisputeDecision.REJECTED, "证据不足", Decimal(4))
    with refused(county, "dispute_not_found"):
        county.resolve_dispute(ADMIN, "D-nope", DisputeDecision.REJECTED, "证据不足")
    result = county.resolve_dispute(COUNTY_SUP, dispute_id, DisputeDecision.REJECTED, "证据不足")
    assert types_of(result.body) == ["DisputeResolved"]
    assert county.transcript(ADMIN, "A001")["open_disputes"] == []
