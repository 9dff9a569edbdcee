"""Disputes (申诉): a claim with evidence about one programme, resolved once with a reason."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from domain.errors import Conflict, Invalid
from domain.teacher_records import Dispute
from domain.vocabulary import DisputeDecision

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_CLAIM = 4000
MAX_EVIDENCE = 50


def ensure_claim(claim: str) -> str:
    claim = claim.strip()
    if not claim:
        raise Invalid("claim_required", "a dispute states its claim")
    if len(claim) > MAX_CLAIM:
        raise Invalid("claim_too_long", f"a claim is at most {MAX_CLAIM} characters")
    return claim


def ensure_evidence(evidence: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    if len(evidence) > MAX_EVIDENCE:
        raise Invalid("invalid_evidence", f"at most {MAX_EVIDENCE} pieces of evidence")
    checked = []
    for item in evidence:
        name = str(item.get("name", "")).strip()
        digest = str(item.get("sha256", "")).lower()
        if not name or len(name) > 255 or not SHA256.match(digest):
            raise Invalid("invalid_evidence", "evidence is a name and the 64-hex sha256 of the file")
        checked.append({"name": name, "sha256": digest})
    return checked


def ensure_no_open_dispute(disputes: Sequence[Dispute], code: str) -> None:
    for d in disputes:
        if d.open and d.programme_code == code:
            raise Conflict("dispute_already_open", f"dispute {d.dispute_id} about {code} is still open")


def ensure_resolvable(dispute: Dispute, decision: DisputeDecision, award_hours: Decimal | None) -> None:
    if not dispute.open:
        raise Conflict("dispute_already_resolved", f"dispute {dispute.dispute_id} was already {dispute.decision}")
    if award_hours is not None and decision is not DisputeDecision.UPHELD:
        raise Invalid("award_needs_upheld", "hours are awarded only when a dispute is upheld")
