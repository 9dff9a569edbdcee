"""Issuing an hours certificate (学时证明): an event on the teacher's own record, and an index entry so
the public check page finds the teacher from the certificate's number alone.

Who may issue (docs/decisions.md): whoever manages the teacher's school (its school admin, a
supervisor above it, an admin) and the teacher themself; the certificate names the org it was issued
for: the caller's own unit, or the teacher's school for an admin or the teacher.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from domain.actor import Actor
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.auth.scopes import SELF_OR_STAFF
from service.records import CertificateIndex
from service.transparency.log import latest_checkpoint


class CertificateCommands(TrainRecBase):
    def issuing_checkpoint(self) -> tuple[int, str]:
        """The transparency log's checkpoint (size, root) a certificate is issued under: its latest,
        signed now if the log grew since (service/transparency/log.py). Taken before the command runs,
        outside its transaction; the certificate's own event comes after it."""
        checkpoint = latest_checkpoint(self)
        return int(checkpoint["size"]), str(checkpoint["root"])

    def issue_certificate(
        self,
        actor: Actor,
        teacher_no: str,
        year: int | None = None,
        programme_code: str | None = None,
        purpose: str = "",
        idempotency_key: str | None = None,
    ) -> CommandResult:
        self.scopes.gate(actor, SELF_OR_STAFF)
        checkpoint = self.issuing_checkpoint()

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SELF_OR_STAFF)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_teacher_self_or_staff(actor, teacher)
            school = unit.org(teacher.school_id, scoped=False)
            issuer = school if actor.org_id in (None, school.org_id) else unit.org(actor.org_id or "", scoped=False)
            number = self.new_id("ZM").upper()
            names = {"school_name": school.name, "issuer_org_id": issuer.org_id, "issuer_org_name": issuer.name}
            certificate = teacher.issue_certificate(number, year, programme_code, names, purpose, self.policy, actor,
                                                    unit.now, checkpoint)
            unit.add(teacher)
            unit.add(CertificateIndex.index(number, teacher_no, actor, unit.now))
            return 201, {
                "certificate_no": number,
                "hours": float(certificate.hours) if certificate.hours % 1 else int(certificate.hours),
                "pdf": f"/api/v1/certificates/{quote(number)}.pdf",
                "verify": f"/verify/{quote(number)}",
                # the teacher's transcript as a signed credential (service/credentials/), fetched when wanted
                "credential": f"/api/v1/teachers/{quote(teacher_no)}/credential",
                "checkpoint": {"size": checkpoint[0], "root": checkpoint[1]},
            }

        request = {"op": "certificate", "teacher_no": teacher_no, "year": year, "programme_code": programme_code,
                   "purpose": purpose}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
