"""Changing one byte of one stored event, on SQLite or PostgreSQL, is detected and named."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from domain.ids import event_id, teacher_uuid
from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from service.storage.config import Storage
from tests.conftest import ADMIN, AUDITOR, PROVIDER, SCHOOL_ADMIN, Backend, Clock, build_county, define, teacher_actor


def _history(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(SCHOOL_ADMIN, "K1", "A001")
    app.enrol(ADMIN, "K1", "C002")
    clock.set(date(2024, 3, 6), hour=17)
    app.record_attendance(PROVIDER, "K1", 1, ["A001", "C002"], [])
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    app.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    app.evaluate(teacher_actor("A001"), "K1", "A001", 5, 5, 5, "收获很大")


class StoredBytes:
    """Direct access to the event table, as someone with database access would have."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def read(self, originator: str, version: int) -> bytes:
        if self.storage.backend == "sqlite":
            with sqlite3.connect(self.storage.env["SQLITE_DBNAME"]) as conn:
                row = conn.execute(
                    "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
                    (originator, version),
                ).fetchone()
            return bytes(row[0])
        with psycopg.connect(self._pg_dsn()) as conn:
            row = conn.execute(
                f"SELECT state FROM {self._pg_table()} WHERE originator_id=%s AND originator_version=%s",
                (originator, version),
            ).fetchone()
        assert row is not None
        return bytes(row[0])

    def write(self, originator: str, version: int, state: bytes) -> None:
        if self.storage.backend == "sqlite":
            with sqlite3.connect(self.storage.env["SQLITE_DBNAME"]) as conn:
                conn.execute(
                    "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
                    (state, originator, version),
                )
            return
        with psycopg.connect(self._pg_dsn()) as conn:
            conn.execute(
                f"UPDATE {self._pg_table()} SET state=%s WHERE originator_id=%s AND originator_version=%s",
                (state, originator, version),
            )

    def _pg_dsn(self) -> str:
        env = self.storage.env
        return (f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} dbname={env['POSTGRES_DBNAME']} "
                f"user={env['POSTGRES_USER']}")

    def _pg_table(self) -> str:
        return f'"{self.storage.env["POSTGRES_SCHEMA"]}".trainrec_events'


def _flip(state: bytes, position: int) -> bytes:
    changed = bytearray(state)
    changed[position] ^= 0x01
    return bytes(changed)


def _uuid_key(storage: Storage, teacher_no: str) -> str:
    return str(teacher_uuid(teacher_no)) if storage.backend == "postgres" else teacher_uuid(teacher_no).hex


@pytest.fixture
def recorded(durable_backend: Backend, clock: Clock) -> tuple[TrainRec, Storage]:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    return app, storage


def test_untouched_store_verifies(recorded: tuple[TrainRec, Storage]) -> None:
    app, _ = recorded
    result = app.verify(AUDITOR).as_dict()
    assert result["ok"] is True
    assert result["first_broken"] is None
    assert result["checked_events"] == app.recorder.max_notification_id()


@pytest.mark.parametrize("where", ["start", "digit", "chinese", "middle", "end"])
def test_one_flipped_byte_is_named(recorded: tuple[TrainRec, Storage], where: str) -> None:
    app, storage = recorded
    key = _uuid_key(storage, "A001")
    version = 2  # the Enrolled event: programme title in Chinese, hours, dates
    state = StoredBytes(storage).read(key, version)
    positions = {
        "start": 0,
        "digit": state.index(b'"hours":') + len(b'"hours":') + 20,
        "chinese": state.index("培训".encode()) + 1,
        "middle": len(state) // 2,
        "end": len(state) - 1,
    }
    StoredBytes(storage).write(key, version, _flip(state, positions[where]))
    result = app.verify(ADMIN)
    assert result.ok is False
    assert result.first_broken is not None
    assert result.first_broken.event_id == event_id(teacher_uuid("A001"), version)
    assert result.first_broken.originator_version == version


def test_every_single_byte_flip_of_an_event_is_detected_on_sqlite(tmp_path: Path, clock: Clock) -> None:
    """Exhaustive on the embedded store; the positions test above covers PostgreSQL too."""
    storage = Backend("sqlite", tmp_path).fresh()
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    key = _uuid_key(storage, "A001")
    stored = StoredBytes(storage)
    original = stored.read(key, 5)  # CreditAwarded
    missed = []
    for position in range(len(original)):
        stored.write(key, 5, _flip(original, position))
        broken = app.verify(ADMIN).first_broken
        if broken is None or broken.originator_version != 5:
            missed.append(position)
    stored.write(key, 5, original)
    assert missed == []
    assert app.verify(ADMIN).ok is True


def test_a_rewritten_event_with_a_recomputed_own_hash_breaks_the_next_link(recorded: tuple[TrainRec, Storage]) -> None:
    """Forging one event consistently still breaks the chain at the event after it."""
    import json

    from domain.canonical import canonical_bytes, chain_digest

    app, storage = recorded
    key = _uuid_key(storage, "A001")
    stored = StoredBytes(storage)
    state = json.loads(stored.read(key, 5))
    state["hours"] = {"_type_": "decimal_str", "_data_": "90"}
    decoded = app.mapper.transcoder.decode(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())
    topic = "domain.teacher:Teacher.CreditAwarded"
    payload = canonical_bytes(topic, teacher_uuid("A001"), 5, decoded)
    decoded["chain_hash"] = chain_digest(decoded["prev_hash"], payload)
    stored.write(key, 5, app.mapper.transcoder.encode(decoded))
    broken = app.verify(ADMIN).first_broken
    assert broken is not None
    assert broken.originator_version == 6
    assert "prev_hash" in broken.reason
