"""The printed records and the public check of a certificate.

- `transcript_pdf`: the transcript query's answer (read model now, or a replay `as_of`), printed.
- `certificate_pdf`: a certificate as issued, printed, for whoever may read the teacher's transcript.
- `certificate_check`: what the public check page (`GET /verify/{certificate_no}`, no sign-in) shows:
  the name masked, the school, the hours, and whether the certificate still holds (it does not once a
  line it counted was revoked, each revocation shown with its dates). Nothing else of the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from domain.actor import Actor
from domain.errors import NotFound
from domain.ids import certificate_uuid
from domain.org import OrgUnit
from domain.teacher import Teacher
from domain.teacher_records import Certificate
from service.auth.scopes import TEACHER_READ, Kind
from service.printing.certificate_pdf import CertificatePrint, render_certificate
from service.printing.transcript_pdf import TranscriptPrint, render_transcript
from service.printing.words import hours
from service.queries.replay import Queries
from service.records import CertificateIndex


def masked(name: str) -> str:
    """张*明, 王*, 欧**娜: the first and last characters, each other one a star."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class PrintQueries(Queries):
    def _org_name(self, org_id: str) -> str:
        try:
            return self.lookup(None, OrgUnit, Kind.ORG, org_id).name
        except NotFound:
            return org_id

    def transcript_pdf(self, actor: Actor, teacher_no: str, as_of: datetime | None, base_url: str
                       ) -> tuple[bytes, str]:
        """The transcript as of `as_of` (default now) as a PDF, and its document number. Its QR code
        opens the transcript's page as of the same instant."""
        instant = as_of or self.clock()
        transcript = self.transcript(actor, teacher_no, as_of)
        check = (f"{base_url}/teachers/{quote(teacher_no, safe='')}/transcript"
                 f"?as_of={quote(instant.isoformat(), safe='')}")
        printed = TranscriptPrint(transcript, self._org_name(str(transcript["school_id"])), instant, self.clock(),
                                  check, self.policy.zone)
        return render_transcript(printed), printed.document_no

    def _certificate(self, certificate_no: str) -> tuple[Teacher, Certificate]:
        index = self.load(CertificateIndex, certificate_uuid(certificate_no), "certificate_not_found",
                          f"no certificate {certificate_no}")
        teacher = self._teacher(index.teacher_no)
        return teacher, teacher.certificates()[certificate_no]

    def certificate_pdf(self, actor: Actor, certificate_no: str, base_url: str) -> bytes:
        """A certificate as issued, printed: for those who may read the teacher's transcript."""
        self.scopes.gate(actor, TEACHER_READ)
        teacher, certificate = self._certificate(certificate_no)
        self.scopes.ensure_teacher_read(actor, teacher)
        verify = f"{base_url}/verify/{quote(certificate_no, safe='')}"
        return render_certificate(CertificatePrint(certificate, teacher.teacher_no, verify))

    def certificate_check(self, certificate_no: str) -> dict[str, Any]:
        """What anyone may learn of a certificate from its number (no sign-in)."""
        teacher, c = self._certificate(certificate_no)
        credits_revoked = {line["id"] for line in c.lines if line["kind"] == "credit"
                           and teacher.credits[line["id"]].revoked}
        prior_revoked = {line["id"] for line in c.lines if line["kind"] == "prior"
                         and teacher.prior()[line["id"]].revoked}
        revoked_at: dict[str, dict[str, str]] = {}
        if credits_revoked or prior_revoked:
            for event in self.events.get(teacher.id):
                if isinstance(event, Teacher.CreditRevoked) and event.credit_id in credits_revoked:
                    key = event.credit_id
                elif isinstance(event, Teacher.PriorHoursRevoked) and event.record_id in prior_revoked:
                    key = event.record_id
                else:
                    continue
                occurred = getattr(event, "occurred_on", None) or self.policy.local_date(event.timestamp)
                revoked_at[key] = {"revoked_on": occurred.isoformat(),
                                   "recorded_on": self.policy.local_date(event.timestamp).isoformat()}
        revocations = [{"title": line["title"], "programme_code": line["programme_code"],
                        "hours": float(line["hours"]) if line["hours"] % 1 else int(line["hours"]),
                        **revoked_at.get(line["id"], {})}
                       for line in c.lines if line["id"] in revoked_at]
        subject: dict[str, Any] = ({"year": c.year} if c.year is not None else
                                   {"programme_code": c.programme_code, "title": c.lines[0]["title"]})
        return {
            "certificate_no": c.certificate_no,
            "holds": not revocations,
            "name": masked(c.teacher_name),
            "school": c.school_name,
            **subject,
            "hours": float(c.hours) if c.hours % 1 else int(c.hours),
            "hours_text": hours(c.hours),
            "issued_on": c.issued_on.isoformat(),
            "issuer": c.issuer_org_name,
            "revocations": revocations,
            # the transparency log's checkpoint it was issued under (none for one issued before the log)
            "checkpoint": None if c.checkpoint_size is None else {"size": c.checkpoint_size,
                                                                  "root": c.checkpoint_root},
        }
