"""A rebuild's load in PostgreSQL (projections/pg_load.py) gives exactly the Python projection's rows."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.utils import get_topic

from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from projections import pg_load
from projections.check import check, table_rows
from projections.records import RecordsProjection, instant, x10, x100
from projections.schema import KEYS
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, postgres_url, require_postgres
from tests.projections.random_commands import run, setup

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(tmp_path: Path) -> Backend:
    require_postgres()
    return Backend("postgres", tmp_path)


def _rows(app: TrainRec) -> dict[str, set[tuple[Any, ...]]]:
    return table_rows(app.read_model)


@pytest.mark.parametrize("seed", [3, 17, 29])
def test_the_database_load_gives_the_rows_the_events_give_one_by_one(
    pg: Backend, clock: Clock, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TrainRec(pg.fresh(), clock=clock)
    try:
        codes = setup(app, clock, programmes=12)
        run(app, clock, codes, random.Random(seed), 700)
        app.read_model.catch_up()
        applied = _rows(app)  # event by event, in Python
        loads: list[int | None] = []
        original = pg_load.load

        def spy(*args: Any) -> int | None:
            loads.append(original(*args))
            return loads[-1]

        monkeypatch.setattr(pg_load, "load", spy)
        position = app.read_model.rebuild()
        assert loads == [app.read_model.head()]
        assert position == loads[0]
        assert _rows(app) == applied
        assert check(app.read_model) == (position, [])
    finally:
        app.close()


def test_the_logs_compared_hold_every_event_type_the_load_knows(pg: Backend, clock: Clock) -> None:
    """The comparison above means something only if its logs hold every event type handled."""
    topics: set[str] = set()
    corrections = 0
    for seed in (3, 17, 29):
        app = TrainRec(pg.fresh(), clock=clock)
        try:
            codes = setup(app, clock, programmes=12)
            run(app, clock, codes, random.Random(seed), 700)
            for notification in app.recorder.select_notifications(start=1, limit=100_000):
                topics.add(notification.topic)
                corrections += b'"corrects":"' in notification.state  # an attendance correction
        finally:
            app.close()
    assert {get_topic(cls) for cls in pg_load.KNOWN} <= topics
    assert corrections > 0


def test_the_load_knows_every_event_type_the_projection_handles() -> None:
    assert set(pg_load.KNOWN) == set(RecordsProjection("rm_").handlers)


def test_events_recorded_during_the_load_are_applied_after_it(
    pg: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load reads the log up to its head; what is recorded meanwhile is caught up in Python."""
    app = TrainRec(pg.fresh(), clock=clock)
    try:
        codes = setup(app, clock, programmes=6)
        run(app, clock, codes, random.Random(8), 150)
        original = pg_load.load
        loaded: list[int | None] = []

        def load_then_write(*args: Any) -> int | None:
            loaded.append(original(*args))
            run(app, clock, codes, random.Random(9), 60)  # committed by other connections meanwhile
            return loaded[-1]

        monkeypatch.setattr(pg_load, "load", load_then_write)
        position = app.read_model.rebuild()
        assert loaded[0] is not None
        assert loaded[0] < app.read_model.head() == position
        assert check(app.read_model) == (position, [])
    finally:
        app.close()


DECIMALS = ["0", "1", "0.05", "0.15", "0.25", "0.35", "1.005", "1.015", "2.5", "3.45", "12.345", "7.125", "0.001",
            "1E+1", "24.0", "0.5", "1.25", "1.35", "-0.25"]
INSTANTS = [
    datetime(2025, 11, 28, 2, 0, tzinfo=UTC),
    datetime(2025, 11, 28, 2, 0, 0, 123456, tzinfo=UTC),
    datetime(2025, 11, 28, 2, 0, 0, 5, tzinfo=UTC),
    datetime(2025, 1, 1, 7, 30, tzinfo=timezone(timedelta(hours=8))),
    datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


def test_scaled_decimals_and_instants_are_written_as_the_projection_writes_them() -> None:
    require_postgres()
    with psycopg.connect(postgres_url() or "") as conn:
        for text in DECIMALS:
            stored = f"jsonb_build_object('_data_', '{text}'::text)"
            row = conn.execute(f"SELECT {pg_load._scaled(stored, 10)}, {pg_load._scaled(stored, 100)}").fetchone()
            assert row == (x10(Decimal(text)), x100(Decimal(text))), text
        for moment in INSTANTS:
            stored = f"'{moment.isoformat()}'::text"
            row = conn.execute(f"SELECT {pg_load._instant(stored)}").fetchone()
            assert row == (instant(moment),), moment


class _Mapper:
    def __init__(self, cipher: object = None, compressor: object = None) -> None:
        self.cipher = cipher
        self.compressor = compressor


class _App:
    def __init__(self, mapper: _Mapper) -> None:
        self.mapper = mapper


def test_the_database_reads_only_stored_events_in_plain_json() -> None:
    """Encrypted or compressed events are not JSON to the database: those rebuild in Python."""
    assert pg_load.available(_App(_Mapper()))
    assert not pg_load.available(_App(_Mapper(cipher=object())))
    assert not pg_load.available(_App(_Mapper(compressor=object())))


@pytest.mark.parametrize("commands", [0, 120])
def test_the_rebuilt_tables_have_their_primary_keys(pg: Backend, clock: Clock, commands: int) -> None:
    """The load drops the loaded tables' primary keys and builds them once the rows are in (an
    empty log included)."""
    app = TrainRec(pg.fresh(), clock=clock)
    try:
        if commands:
            codes = setup(app, clock, programmes=6)
            run(app, clock, codes, random.Random(2), commands)
        assert app.read_model.rebuild() == app.read_model.head()
        for name in pg_load.LOADED:
            keys = app.read_model.db.query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'p'",
                (f"rm_{name}",))
            assert [(key.replace('"', ""),) for (key,) in keys] == [(f"PRIMARY KEY ({', '.join(KEYS[name])})",)], name
    finally:
        app.close()


def test_teachers_without_a_hire_date_moved_back_and_forth_load_alike_whatever_the_datestyle(
    pg: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A posting without a hire date starts on the registration's Shanghai date; transfers, also to
    dates before it, end the earlier postings; the server's DateStyle changes none of it."""
    app = TrainRec(pg.fresh(), clock=clock)
    try:
        build_county(app)
        clock.now = datetime(2024, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
        for n, school in enumerate(["S1", "S2", "S3", "S1"]):
            app.register_teacher(ADMIN, f"N{n:03d}", f"新教师{n}", school, None)
        clock.now = datetime(2025, 2, 1, 2, 0, tzinfo=UTC)
        for n, (school, on) in enumerate([("S2", date(2024, 2, 1)), ("S3", date(2024, 9, 1)),
                                          ("S1", date(2025, 1, 6)), ("S2", date(2024, 10, 1))]):
            clock.now += timedelta(hours=3)
            app.transfer_teacher(ADMIN, f"N{n % 2:03d}", school, on)
        app.read_model.catch_up()
        applied = _rows(app)
        assert {row[3] for row in applied["postings"] if row[0] == "N002"} == {"2024-03-02"}
        db = app.read_model.db
        original = type(db).transaction

        @contextmanager
        def day_month_year(self: Any) -> Any:
            with original(self) as tx:
                tx.execute("SET LOCAL datestyle = 'SQL, DMY'")
                yield tx

        monkeypatch.setattr(type(db), "transaction", day_month_year)
        assert app.read_model.rebuild() == app.read_model.head()
        monkeypatch.undo()
        assert _rows(app) == applied
    finally:
        app.close()


def _refusing(part: int) -> Any:
    """`pg_load.statements` with one the database refuses added to part `part`."""
    original = pg_load.statements

    def statements(*args: Any) -> list[str]:
        found = original(*args)
        return [*found, "SELECT 1 / 0"] if args[4] == part else found

    return statements


@pytest.mark.parametrize("failure", ["no pgcrypto", "part 0 commits, part 1 refused"])
def test_a_load_the_database_cannot_do_leaves_the_rebuild_to_python(
    pg: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Without pgcrypto, or with a statement the database refuses (a setting, a right) after a part
    committed, the rebuild starts its tables again and applies the log in Python."""
    app = TrainRec(pg.fresh(), clock=clock)
    try:
        codes = setup(app, clock, programmes=6)
        run(app, clock, codes, random.Random(6), 200)
        app.read_model.catch_up()
        applied = _rows(app)
        if failure == "no pgcrypto":
            monkeypatch.setattr(pg_load, "_crypto_schema", lambda cursor: None)
        else:
            monkeypatch.setattr(pg_load, "statements", _refusing(1))
        assert app.read_model.rebuild() == app.read_model.head()
        assert _rows(app) == applied
        assert check(app.read_model) == (app.read_model.head(), [])
    finally:
        app.close()


def test_the_load_was_written_for_the_event_versions_recorded() -> None:
    """The load reads stored JSON without the upcasters: a new version of an event (or of one not
    versioned yet) must be reviewed against the statements, and listed in `VERSIONS`, first."""
    found = {cls: getattr(cls, "class_version", 1)
             for aggregate in (Teacher, Programme, OrgUnit) for cls in pg_load.event_classes(aggregate)}
    assert {Teacher.Assessed, Programme.Defined, OrgUnit.Renamed} <= set(found)
    assert {cls: version for cls, version in found.items() if version != 1} == pg_load.VERSIONS
