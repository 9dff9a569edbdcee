"""Against an earlier checkpoint, three acts the hash chains cannot see are detected, on SQLite and
PostgreSQL: a teacher's chain suffix rewritten with recomputed hashes, a teacher's last events
deleted, the log's last events deleted. Each passes the full chain check (as today's `/audit/verify`
does) and fails both `check_store` (`trainrec audit verify --checkpoint`) and `check_consistency`
(`trainrec audit verify-checkpoint OLD NEW`), which rehash the stored events, not the stored tree."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.canonical import canonical_bytes, chain_digest
from domain.ids import teacher_uuid
from service.app import TrainRec
from service.cli.main import main
from service.storage.config import Storage
from service.transparency.checks import check_consistency, check_store, checkpoint_keys
from tests.conftest import ADMIN, Backend, Clock, define
from tests.service.queries.test_tamper_evidence import StoredBytes, _history, _uuid_key


class EventTable(StoredBytes):
    """The event table as someone with database access edits it."""

    def rows(self, originator: str) -> list[tuple[int, str, bytes]]:
        """(version, topic, state) of one aggregate, in version order."""
        sql = "SELECT originator_version, topic, state FROM {} WHERE originator_id = {} ORDER BY originator_version"
        if self.storage.backend == "sqlite":
            with sqlite3.connect(self.storage.env["SQLITE_DBNAME"]) as conn:
                found = conn.execute(sql.format("stored_events", "?"), (originator,)).fetchall()
        else:
            with psycopg.connect(self._pg_dsn()) as conn:
                found = conn.execute(sql.format(self._pg_table(), "%s"), (originator,)).fetchall()
        return [(int(v), str(t), bytes(s)) for v, t, s in found]

    def delete(self, where: str, params: tuple[Any, ...]) -> int:
        if self.storage.backend == "sqlite":
            with sqlite3.connect(self.storage.env["SQLITE_DBNAME"]) as conn:
                return conn.execute(f"DELETE FROM stored_events WHERE {where}", params).rowcount
        with psycopg.connect(self._pg_dsn()) as conn:
            pg_where = where.replace("?", "%s").replace("rowid", "notification_id")
            return conn.execute(f"DELETE FROM {self._pg_table()} WHERE {pg_where}", params).rowcount


def rewrite_suffix(app: TrainRec, table: EventTable, key: str, teacher_no: str, first: int) -> None:
    """Re-encode a teacher's events from version `first` on, the first with a changed reason, each
    with its chain hash recomputed and linked to the one before: the chains still verify."""
    transcoder = app.mapper.transcoder
    prev_hash: str | None = None
    for version, topic, state in table.rows(key):
        decoded = transcoder.decode(state)
        if version < first:
            prev_hash = decoded["chain_hash"]
            continue
        if version == first:
            decoded["reason"] = "改写的理由"
        assert prev_hash is not None
        decoded["prev_hash"] = prev_hash
        decoded["chain_hash"] = chain_digest(prev_hash, canonical_bytes(topic, teacher_uuid(teacher_no), version,
                                                                        decoded))
        prev_hash = decoded["chain_hash"]
        table.write(key, version, transcoder.encode(decoded))


def delete_teachers_last(app: TrainRec, table: EventTable, key: str, teacher_no: str, first: int) -> None:
    assert table.delete("originator_id = ? AND originator_version >= ?", (key, first)) >= 2


def delete_logs_last(app: TrainRec, table: EventTable, key: str, teacher_no: str, first: int) -> None:
    head = app.recorder.max_notification_id()
    assert table.delete("rowid > ?", (head - 3,)) == 3


Tamper = Callable[[TrainRec, EventTable, str, str, int], None]
ACTS: dict[str, Tamper] = {
    "rewritten-chain-suffix": rewrite_suffix,
    "teachers-last-events-deleted": delete_teachers_last,
    "logs-last-events-deleted": delete_logs_last,
}


@pytest.fixture
def kept(durable_backend: Backend, clock: Clock, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> tuple[TrainRec, Storage, str]:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("TRAINREC_LOG_ORIGIN", "trainrec.test-county/log")
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    old = app.transparency.current()
    assert old["size"] == app.recorder.max_notification_id()
    return app, storage, old["note"]


def test_an_untouched_log_passes_both_checks(kept: tuple[TrainRec, Storage, str]) -> None:
    app, _, old = kept
    keys = checkpoint_keys()
    define(app, "K2")
    new = app.transparency.current()["note"]
    assert new != old
    assert check_store(app.recorder, old, keys).ok
    assert check_store(app.recorder, new, keys).ok
    report = check_consistency(app.recorder, old, new, keys)
    assert report.ok, report.problems
    assert any("is consistent with OLD" in fact for fact in report.facts)


@pytest.mark.parametrize("act", sorted(ACTS))
def test_tampering_the_chain_check_misses_is_detected_against_a_kept_checkpoint(
        kept: tuple[TrainRec, Storage, str], act: str) -> None:
    app, storage, old = kept
    keys = checkpoint_keys()
    key = _uuid_key(storage, "A001")
    ACTS[act](app, EventTable(storage), key, "A001", 4)

    assert app.verify(ADMIN, full=True).ok, "the chain check alone passes: the act is one it cannot see"

    store = check_store(app.recorder, old, keys)
    assert not store.ok
    assert any("events were deleted" in p or "hash to a root other than" in p for p in store.problems)

    define(app, "K2")  # the log goes on; the service signs a checkpoint of its own tree as it is now
    new = app.transparency.current()["note"]
    consistency = check_consistency(app.recorder, old, new, keys)
    assert not consistency.ok, consistency.facts


def test_a_forged_or_foreign_note_is_refused(kept: tuple[TrainRec, Storage, str]) -> None:
    app, _, old = kept
    keys = checkpoint_keys()
    lines = old.split("\n")
    forged = "\n".join([lines[0], str(int(lines[1]) - 1), *lines[2:]])
    report = check_store(app.recorder, forged, keys)
    assert not report.ok
    assert "does not verify" in report.problems[0]
    assert not check_store(app.recorder, old, []).ok  # no published key: no trust


def test_the_commands_exit_1_on_tampering(tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    storage = Backend("sqlite", tmp_path).fresh()
    monkeypatch.setenv("TRAINREC_DATABASE_URL", f"sqlite:///{storage.env['SQLITE_DBNAME']}")
    monkeypatch.setenv("TRAINREC_LOG_ORIGIN", "trainrec.test-county/log")
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    app.close()
    old, new = tmp_path / "old.note", tmp_path / "new.note"
    assert main(["audit", "checkpoint", "--export", str(old)]) == 0
    printed = capsys.readouterr().out
    assert printed == old.read_text(encoding="utf-8")
    assert printed.startswith("trainrec.test-county/log\n")
    assert "\n\n\u2014 trainrec.test-county/log " in printed
    assert main(["audit", "verify", "--full", "--checkpoint", str(old)]) == 0
    assert "ok: the first" in capsys.readouterr().out

    delete_teachers_last(app, EventTable(storage), _uuid_key(storage, "A001"), "A001", 4)
    app = TrainRec(storage, clock=clock)
    define(app, "K2")
    app.close()
    assert main(["audit", "checkpoint", "--export", str(new)]) == 0
    capsys.readouterr()
    assert main(["audit", "verify-checkpoint", str(old), str(new)]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["audit", "verify", "--full", "--checkpoint", str(old)]) == 1
    out = capsys.readouterr().out
    assert '"ok": true' in out  # the chains
    assert "FAILED: the log holds" in out
