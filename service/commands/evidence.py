"""Evidence files (证明材料): kept content-addressed by their sha256, the name disputes and earlier
hours cite them by, and read only by those whose scope covers a record citing them (or who
uploaded them). The bytes live in the store's database (service/storage/evidence.py)."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from dataclasses import dataclass
from typing import ClassVar

from domain.actor import Actor
from domain.errors import DomainError, Forbidden, Invalid, NotFound
from domain.rules.disputes import SHA256
from domain.vocabulary import Role
from service.auth.scopes import EVIDENCE_READ, EVIDENCE_UPLOAD
from service.queries.reports import ReportQueries
from service.storage.evidence import EvidenceFile, EvidenceStore

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class TooLarge(DomainError):
    """More bytes than the service keeps."""

    kind: ClassVar[str] = "too_large"


class Unsupported(DomainError):
    """Content of a type the service does not keep."""

    kind: ClassVar[str] = "unsupported"


def sniff(content: bytes) -> str | None:
    """The media type the bytes themselves show (their magic), whatever the file is called: PDF, PNG,
    JPEG, or a Word/Excel document (a zip holding word/document.xml or xl/workbook.xml)."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def clean_name(name: str | None, media_type: str) -> str:
    """The uploaded file's own name (no folders, no control or direction characters, at most 255
    characters), or `evidence` with the type's extension."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = _CONTROL.sub("", base).strip()[:255]
    return base or f"evidence{MEDIA_TYPES[media_type]}"


@dataclass(frozen=True)
class Kept:
    file: EvidenceFile
    new: bool


_OPENING = threading.Lock()


@dataclass(frozen=True)
class _Cited:
    teacher_no: str
    school_id: str


class EvidenceFiles(ReportQueries):
    _evidence: EvidenceStore | None = None

    @property
    def evidence(self) -> EvidenceStore:
        if self._evidence is None:
            with _OPENING:
                if self._evidence is None:
                    self._evidence = EvidenceStore(self.read_model.db)
        return self._evidence

    def keep_evidence(self, actor: Actor, name: str | None, content: bytes, stated_sha256: str | None = None) -> Kept:
        """Keep an evidence file: at most MAX_EVIDENCE_BYTES of PDF, PNG, JPEG, DOCX or XLSX (by its
        bytes, not its name); refused when `stated_sha256` is given and is not the bytes' sha256."""
        self.scopes.gate(actor, EVIDENCE_UPLOAD)
        if len(content) > MAX_EVIDENCE_BYTES:
            raise TooLarge("evidence_too_large", f"an evidence file is at most {MAX_EVIDENCE_BYTES} bytes")
        digest = hashlib.sha256(content).hexdigest()
        if stated_sha256 is not None and stated_sha256.strip().lower() != digest:
            raise Invalid("evidence_mismatch",
                          f"the file's sha256 is {digest}, not the {stated_sha256.strip()!r} stated")
        media_type = sniff(content)
        if media_type is None:
            raise Unsupported("evidence_type_refused", "evidence is kept as PDF, PNG, JPEG, DOCX or XLSX only")
        file = EvidenceFile(digest, clean_name(name, media_type), media_type, len(content), content)
        new = self.evidence.keep(file, actor.subject, self.clock())
        return Kept(file, new)

    def evidence_file(self, actor: Actor, sha256: str) -> EvidenceFile:
        """A kept file, for an admin, its uploader, and those whose scope covers a teacher with a
        dispute or earlier hours citing it. Anyone else is refused in the same words whether or not
        a file is kept under that sha256 (scope before existence)."""
        self.scopes.gate(actor, EVIDENCE_READ)
        digest = sha256.lower()
        if not SHA256.match(digest):
            raise NotFound("evidence_not_found", f"{sha256!r} is not a sha256 (64 hex digits)")
        if not (actor.role is Role.ADMIN or self.evidence.uploaded_by(digest, actor.subject)
                or self._cited_in_scope(actor, digest)):
            raise Forbidden("forbidden_scope", f"evidence {digest} is outside your scope")
        file = self.evidence.get(digest)
        if file is None:
            raise NotFound("evidence_not_found", f"no evidence file {digest} is kept (it was named, not uploaded)")
        return file

    def _cited_in_scope(self, actor: Actor, digest: str) -> bool:
        self.fresh_reports()  # the caller's own writes (a dispute just opened) are read
        prefix = self.read_model.prefix
        statement = (f"SELECT c.teacher_no, t.school_id FROM {prefix}citations c "  # noqa: S608 - the table prefix
                     f"JOIN {prefix}teachers t ON t.teacher_no = c.teacher_no WHERE c.sha256 = ?")
        rows = self.read_model.db.query(statement, (digest,))
        return any(school is not None and self.scopes.covers_teacher(actor, _Cited(str(no), str(school)))
                   for no, school in rows)
