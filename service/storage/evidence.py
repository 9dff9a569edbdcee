"""Evidence files kept content-addressed: the bytes under their sha256, in a table beside the read
model's (the SQLite file, or the events' PostgreSQL schema; in memory for a memory store).

The table is not a projection: no event holds the bytes (events name files by sha256), so a
rebuild of the read model leaves it alone. A file is never changed or deleted once kept; keeping the
same bytes again only adds its uploader.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from projections.db import ReadModelDB


@dataclass(frozen=True)
class EvidenceFile:
    sha256: str
    name: str
    media_type: str
    size: int
    content: bytes


class EvidenceStore:
    def __init__(self, db: ReadModelDB) -> None:
        self.db = db
        self._ready = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            blob = "BYTEA" if self.db.backend == "postgres" else "BLOB"
            with self.db.exclusive("evidence_tables"), self.db.transaction() as tx:
                tx.execute(f"CREATE TABLE IF NOT EXISTS evidence_files (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, "
                           f"media_type TEXT NOT NULL, size BIGINT NOT NULL, content {blob} NOT NULL, "
                           f"kept_at TEXT NOT NULL)")
                tx.execute("CREATE TABLE IF NOT EXISTS evidence_uploads (sha256 TEXT NOT NULL, uploader TEXT NOT NULL, "
                           "uploaded_at TEXT NOT NULL, PRIMARY KEY (sha256, uploader))")
            self._ready = True

    def keep(self, file: EvidenceFile, uploader: str, at: datetime) -> bool:
        """Keep the file (if new) and note its uploader; True when the bytes were not kept before."""
        self._ensure()
        with self.db.transaction() as tx:
            new = not tx.query("SELECT 1 FROM evidence_files WHERE sha256 = ?", (file.sha256,))
            tx.execute("INSERT INTO evidence_files (sha256, name, media_type, size, content, kept_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                       (file.sha256, file.name, file.media_type, file.size, file.content, at.isoformat()))
            tx.execute("INSERT INTO evidence_uploads (sha256, uploader, uploaded_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (sha256, uploader) DO NOTHING", (file.sha256, uploader, at.isoformat()))
        return new

    def get(self, sha256: str) -> EvidenceFile | None:
        self._ensure()
        rows = self.db.query("SELECT sha256, name, media_type, size, content FROM evidence_files WHERE sha256 = ?",
                             (sha256,))
        if not rows:
            return None
        sha, name, media_type, size, content = rows[0]
        return EvidenceFile(str(sha), str(name), str(media_type), int(size), bytes(content))

    def uploaded_by(self, sha256: str, uploader: str) -> bool:
        self._ensure()
        return bool(self.db.query("SELECT 1 FROM evidence_uploads WHERE sha256 = ? AND uploader = ?",
                                  (sha256, uploader)))
