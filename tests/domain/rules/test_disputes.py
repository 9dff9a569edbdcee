"""Disputes: opening with a claim and evidence, and resolving them, an upheld one possibly replacing the credit
(domain/rules/disputes.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.ids import event_id
from domain.vocabulary import AssessmentResult, DisputeDecision
from tests.domain.rules.builders import (
    END,
    EVIDENCE,
    SHA,
    SUPERVISOR,
    TRAINEE,
    assessed,
    at,
    credited,
    enrol,
    enrolled,
    make_programme,
    make_teacher,
    open_dispute,
    refused,
    resolve,
)


def test_a_dispute_is_opened_with_its_claim_and_evidence() -> None:
    teacher, programme = credited(hours=Decimal(16))
    teacher.open_dispute("D-1", programme.code, " 少认定了8学时 ", [{"name": " 签到表.pdf ", "sha256": SHA.upper()}],
                         TRAINEE, at(END + timedelta(days=20)))
    dispute = teacher.dispute("D-1")
    assert dispute.open
    assert dispute.claim == "少认定了8学时"
    assert dispute.evidence == [{"name": "签到表.pdf", "sha256": SHA}]
    assert dispute.event_id == event_id(teacher.id, teacher.version)


def test_a_dispute_may_have_no_evidence() -> None:
    teacher, programme = enrolled()
    teacher.open_dispute("D-1", programme.code, "漏记学时", [], TRAINEE, at(END + timedelta(days=20)))
    assert teacher.dispute("D-1").evidence == []


def test_a_dispute_without_a_claim_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "claim_required"):
        teacher.open_dispute("D-1", programme.code, "  ", EVIDENCE, TRAINEE, at(END))


def test_a_dispute_with_an_overlong_claim_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "claim_too_long"):
        teacher.open_dispute("D-1", programme.code, "诉" * 4001, EVIDENCE, TRAINEE, at(END))


@pytest.mark.parametrize(
    "evidence",
    [
        [{"name": "a.pdf", "sha256": "ab" * 31}],
        [{"name": "a.pdf", "sha256": "zz" * 32}],
        [{"name": "", "sha256": SHA}],
        [{"name": "a" * 256, "sha256": SHA}],
        [{"sha256": SHA}],
        [{"name": "a.pdf"}],
        [{"name": f"{i}.pdf", "sha256": SHA} for i in range(51)],
    ],
)
def test_malformed_evidence_is_refused(evidence: list[dict[str, str]]) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_evidence"):
        teacher.open_dispute("D-1", programme.code, "漏记学时", evidence, TRAINEE, at(END))


def test_a_dispute_about_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        open_dispute(teacher, make_programme())


def test_a_second_open_dispute_about_the_same_programme_is_refused() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    with refused(teacher, "dispute_already_open"):
        open_dispute(teacher, programme, "D-2")


def test_a_new_dispute_may_follow_a_resolved_one() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    resolve(teacher, programme, DisputeDecision.REJECTED)
    open_dispute(teacher, programme, "D-2")
    assert teacher.dispute("D-2").open


def test_open_disputes_about_different_programmes_may_coexist() -> None:
    teacher, programme = enrolled()
    other = make_programme("P-2024-02", starts_on=date(2024, 3, 11))
    enrol(teacher, other)
    open_dispute(teacher, programme, "D-1")
    open_dispute(teacher, other, "D-2")
    assert teacher.dispute("D-1").open
    assert teacher.dispute("D-2").open


def test_a_rejected_dispute_records_its_reason_and_nothing_else() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, DisputeDecision.REJECTED, reason="证据不足") is None
    assert len(teacher.pending_events) == before + 1
    dispute = teacher.dispute("D-1")
    assert (dispute.decision, dispute.resolution_reason, dispute.open) == ("rejected", "证据不足", False)
    assert teacher.credit("C-1").status == "valid"


def test_an_upheld_dispute_without_hours_records_only_the_resolution() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, DisputeDecision.UPHELD) is None
    assert len(teacher.pending_events) == before + 1
    assert teacher.dispute("D-1").decision == "upheld"


def test_an_upheld_dispute_with_hours_replaces_the_credit_both_pointing_at_the_dispute() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, award_hours=Decimal(24), new_credit_id="C-2") == "C-2"
    resolved, revoked, awarded = teacher.pending_events[before:]
    assert type(resolved).__name__ == "DisputeResolved"
    assert (resolved.dispute_id, resolved.award_hours) == ("D-1", Decimal(24))
    assert type(revoked).__name__ == "CreditRevoked"
    assert (revoked.credit_id, revoked.dispute_id) == ("C-1", "D-1")
    assert "D-1" in revoked.reason
    assert type(awarded).__name__ == "CreditAwarded"
    assert awarded.credit_id == "C-2"
    assert awarded.evidence == {"dispute_id": "D-1"}
    assert teacher.credit("C-1").status == "revoked"
    assert teacher.credit("C-2").hours == Decimal(24)
    assert teacher.credit("C-2").certified_by == SUPERVISOR.as_record()


def test_an_upheld_dispute_can_award_hours_where_no_credit_was_given() -> None:
    teacher, programme = assessed(AssessmentResult.FAIL)
    open_dispute(teacher, programme)
    resolve(teacher, programme, award_hours=Decimal(8), new_credit_id="C-9")
    credit = teacher.credit("C-9")
    assert (credit.hours, credit.evidence, credit.status) == (Decimal(8), {"dispute_id": "D-1"}, "valid")


def test_hours_awarded_on_a_dispute_cannot_exceed_the_programme() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "hours_exceed_programme"):
        resolve(teacher, programme, award_hours=Decimal(25))
    assert teacher.dispute("D-1").open


def test_hours_awarded_on_a_dispute_must_be_valid() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "invalid_hours"):
        resolve(teacher, programme, award_hours=Decimal("0"))


def test_a_rejected_dispute_cannot_award_hours() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "award_needs_upheld"):
        resolve(teacher, programme, DisputeDecision.REJECTED, award_hours=Decimal(24))


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_resolution_without_a_reason_is_refused(reason: str) -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    with refused(teacher, "reason_required"):
        resolve(teacher, programme, DisputeDecision.REJECTED, reason=reason)


def test_a_dispute_cannot_be_resolved_twice() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    resolve(teacher, programme, DisputeDecision.REJECTED)
    with refused(teacher, "dispute_already_resolved"):
        resolve(teacher, programme, DisputeDecision.UPHELD)


def test_resolving_an_unknown_dispute_is_not_found() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "dispute_not_found"):
        resolve(teacher, programme, dispute_id="D-404")


def test_an_upheld_dispute_refused_for_a_taken_credit_id_records_nothing() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "credit_exists"):
        resolve(teacher, programme, award_hours=Decimal(24), new_credit_id="C-1")
    assert teacher.dispute("D-1").open
    assert teacher.credit("C-1").status == "valid"


def test_a_dispute_id_cannot_be_reused() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme, "D-1")
    resolve(teacher, programme, DisputeDecision.REJECTED)
    with refused(teacher, "dispute_exists"):
        open_dispute(teacher, programme, "D-1")
    assert teacher.dispute("D-1").decision == "rejected"
