"""What an hours certificate may name and which hours it counts (domain/rules/certificates.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.errors import Invalid
from domain.rules.certificates import certified_lines, ensure_purpose, ensure_subject
from domain.teacher_records import Credit, PriorHours

AT = datetime(2024, 3, 6, 9, tzinfo=UTC)


def credit(credit_id: str, code: str, hours: int, year: int, *, revoked: bool = False) -> Credit:
    return Credit(credit_id, code, f"项目{code}", "county", "concentrated", "self_selected", None, Decimal(hours),
                  Decimal(hours), year, AT, date(2024, 3, 6), "S1", {"sub": "p1"}, "e", "v", {}, revoked=revoked)


def prior(record_id: str, hours: int, year: int, *, revoked: bool = False) -> PriorHours:
    return PriorHours(record_id, year, Decimal(hours), Decimal(0), Decimal(0), Decimal(0), "旧平台", [], AT,
                      {"sub": "sup"}, "e", "迁移", revoked=revoked)


def test_a_certificate_names_a_year_or_a_programme_exactly_once() -> None:
    ensure_subject(2024, None, 2024)
    ensure_subject(None, "K1", 2024)
    for year, code, expected in ((None, None, "certificate_subject_required"),
                                 (2024, "K1", "certificate_subject_required"),
                                 (1989, None, "invalid_year"), (2025, None, "invalid_year"),
                                 (None, "  ", "invalid_programme_code")):
        with pytest.raises(Invalid) as caught:
            ensure_subject(year, code, 2024)
        assert caught.value.code == expected
    assert ensure_purpose("  职称评审 ") == "职称评审"
    with pytest.raises(Invalid) as caught:
        ensure_purpose("x" * 201)
    assert caught.value.code == "invalid_purpose"


def test_a_certificate_counts_valid_hours_of_its_year_but_not_those_awaiting_evaluation() -> None:
    awarded = [credit("C1", "K1", 24, 2024), credit("C2", "K2", 16, 2024, revoked=True),
               credit("C3", "K3", 8, 2024), credit("C4", "K4", 40, 2023)]
    earlier = [prior("H1", 80, 2024), prior("H2", 10, 2024, revoked=True), prior("H3", 5, 2023)]
    lines = certified_lines(awarded, earlier, {"K3"}, 2024, None)
    # K1 24 and H1 80: K2 and H2 are revoked, K3 awaits the trainee's evaluation, K4 and H3 are of 2023
    assert [(line["kind"], line["id"], line["hours"]) for line in lines] == [
        ("credit", "C1", Decimal(24)), ("prior", "H1", Decimal(80))]
    by_programme = certified_lines(awarded, earlier, set(), None, "K4")
    assert [(line["id"], line["hours"]) for line in by_programme] == [("C4", Decimal(40))]
    for year, code in ((2022, None), (None, "K2"), (None, "K3"), (None, "NOPE")):
        with pytest.raises(Invalid) as caught:
            certified_lines(awarded, earlier, {"K3"}, year, code)
        assert caught.value.code == "nothing_to_certify"

