"""Hours certificates (学时证明): what one may certify, and which of the teacher's hours it counts.

A certificate names a reporting year or one programme, never both. It counts the valid credits
(and, for a year, the valid earlier hours) of that year or programme, leaving out a programme whose
assessment still awaits the trainee's evaluation: a certificate never shows hours the trainee may not
yet see (R6, docs/domain.md). A certificate of no hours is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from domain.errors import Invalid
from domain.teacher_records import Credit, PriorHours

FIRST_YEAR = 1990
MAX_PURPOSE = 200


def ensure_subject(year: int | None, programme_code: str | None, current_year: int) -> None:
    """Exactly one of a reporting year (1990 to the current one) or a programme code."""
    if (year is None) == (programme_code is None):
        raise Invalid("certificate_subject_required", "a certificate names a year or a programme, exactly one")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                             or not FIRST_YEAR <= year <= current_year):
        raise Invalid("invalid_year", f"a certificate is for a reporting year from {FIRST_YEAR} to {current_year}")
    if programme_code is not None and (not programme_code.strip() or len(programme_code) > 64):
        raise Invalid("invalid_programme_code", "a programme code is 1–64 characters")


def ensure_purpose(purpose: str) -> str:
    """What the certificate is for (职称评审, 教师资格定期注册, …): optional, at most 200 characters."""
    purpose = purpose.strip()
    if len(purpose) > MAX_PURPOSE:
        raise Invalid("invalid_purpose", f"a certificate's purpose is at most {MAX_PURPOSE} characters")
    return purpose


def certified_lines(
    awarded: Iterable[Credit],
    prior: Iterable[PriorHours],
    pending: set[str],
    year: int | None,
    programme_code: str | None,
) -> list[dict[str, Any]]:
    """The lines a certificate counts, oldest first; refused when they add up to no hours."""
    lines: list[dict[str, Any]] = []
    for credit in sorted(awarded, key=lambda c: (c.awarded_at, c.credit_id)):
        if credit.revoked or credit.programme_code in pending:
            continue
        if (year is not None and credit.year != year) or (
                programme_code is not None and credit.programme_code != programme_code):
            continue
        lines.append({"kind": "credit", "id": credit.credit_id, "programme_code": credit.programme_code,
                      "title": credit.title, "level": credit.level, "form": credit.form, "hours": credit.hours,
                      "year": credit.year, "awarded_on": credit.awarded_on,
                      "certified_by": credit.certified_by.get("sub")})
    if year is not None:
        for record in sorted(prior, key=lambda r: (r.recorded_at, r.record_id)):
            if record.revoked or record.year != year:
                continue
            lines.append({"kind": "prior", "id": record.record_id, "programme_code": None, "title": record.source,
                          "level": None, "form": None, "hours": record.hours, "year": record.year,
                          "awarded_on": record.recorded_at.date(), "certified_by": record.recorded_by.get("sub")})
    if sum((line["hours"] for line in lines), Decimal(0)) <= 0:
        what = f"year {year}" if year is not None else f"programme {programme_code}"
        raise Invalid("nothing_to_certify", f"the teacher has no valid hours to certify for {what}")
    return lines
