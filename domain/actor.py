"""Who acted, in which role, on whose authority: recorded on every event."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    subject: str
    role: Role
    org_id: str | None = None
    teacher_no: str | None = None

    def as_record(self) -> dict[str, str]:
        """The form stored in events: subject, role and the authority (org scope) acted under."""
        record = {"sub": self.subject, "role": str(self.role)}
        if self.org_id is not None:
            record["org"] = self.org_id
        if self.teacher_no is not None:
            record["teacher_no"] = self.teacher_no
        return record


SYSTEM = Actor(subject="system", role=Role.ADMIN)
