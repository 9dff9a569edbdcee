"""Exactly once under SIGKILL, rebuild without interrupting reads, and read-your-writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from domain.errors import Forbidden, NotFound, Unavailable
from projections.check import check, table_rows
from projections.view import ReadModel
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    SCHOOL_ADMIN,
    Backend,
    Clock,
    build_county,
    define,
)
from tests.projections.random_commands import run, setup

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from service.app import TrainRec
from service.storage.config import storage_from_url
app = TrainRec(storage_from_url(sys.argv[1]))
print("started", flush=True)
app.read_model.catch_up(page=2)
print("finished", flush=True)
"""


def _recorded(backend: Backend, clock: Clock, commands: int) -> tuple[TrainRec, Any]:
    storage = backend.fresh()
    app = TrainRec(storage, clock=clock)
    codes = setup(app, clock, programmes=30)
    run(app, clock, codes, random.Random(42), commands)
    return app, storage


def test_worker_killed_mid_stream_then_restarted_gives_the_same_tables(durable_backend: Backend, clock: Clock) -> None:
    app, storage = _recorded(durable_backend, clock, 2500)
    head = app.read_model.head()
    assert app.read_model.position() == 0
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, storage.url], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "started"
        while app.read_model.position() < head // 4:  # wait on the tracked notification id
            if worker.poll() is not None:
                pytest.fail("the worker ended before it could be killed")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed_at = app.read_model.position()
    assert 0 < killed_at < head, "the kill should land mid-stream"
    assert check(app.read_model)[1] == [], "tables must hold exactly the events up to the tracked position"

    assert app.read_model.catch_up() == head
    position, differences = check(app.read_model)
    assert (position, differences) == (head, [])
    resumed = table_rows(app.read_model)
    app.read_model.rebuild()
    assert table_rows(app.read_model) == resumed
    app.close()


def test_rebuild_keeps_serving_reads_until_the_swap(durable_backend: Backend, clock: Clock) -> None:
    app, _ = _recorded(durable_backend, clock, 1500)
    app.read_model.catch_up()
    before = app.compliance(COUNTY_SUP, "C1", 2024)
    errors: list[BaseException] = []
    answers: list[dict[str, Any]] = []
    done = threading.Event()

    def rebuild() -> None:
        try:
            app.read_model.rebuild()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=rebuild)
    thread.start()
    while not done.is_set():
        answers.append(app.compliance(COUNTY_SUP, "C1", 2024))
    thread.join()
    assert errors == []
    assert answers, "reads were served during the rebuild"
    assert all(a["figures"] == before["figures"] for a in answers)
    assert app.compliance(COUNTY_SUP, "C1", 2024)["figures"] == before["figures"]
    assert check(app.read_model)[1] == []
    app.close()


def test_a_read_after_a_write_reflects_it(app: TrainRec) -> None:
    build_county(app)
    define(app, "K1")
    assert app.read_model.position() == 0  # nothing has caught up in the background
    app.enrol(ADMIN, "K1", "A001")
    roster = app.roster(ADMIN, "K1")
    assert [e["teacher_no"] for e in roster["enrolled"]] == ["A001"]
    assert "stale" not in roster
    assert app.read_model.position() == app.read_model.head()


def test_a_read_that_cannot_catch_up_in_time_says_so(app: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    build_county(app)
    define(app, "K1")
    app.read_model.catch_up()
    app.enrol(ADMIN, "K1", "A001")
    monkeypatch.setattr(ReadModel, "wait_for", lambda self, position, timeout=5.0: False)
    roster = app.roster(ADMIN, "K1")
    assert roster["enrolled"] == []
    assert roster["stale"] == {"position": app.read_model.head() - 1, "head": app.read_model.head()}
    define(app, "K2")
    with pytest.raises(Unavailable):
        app.roster(ADMIN, "K2")


def test_a_transcript_is_scoped_by_the_school_the_tables_hold_after_the_callers_writes(
    app: TrainRec, clock: Clock
) -> None:
    """The read waits for the transfer just recorded, then checks the scope against the school
    the tables now hold: the new school reads the transcript, the old one no longer does."""
    build_county(app)
    app.read_model.catch_up()
    app.transfer_teacher(ADMIN, "A001", "S3", clock.now.date())
    assert app.transcript(OTHER_SCHOOL_ADMIN, "A001")["teacher_no"] == "A001"
    with pytest.raises(Forbidden):
        app.transcript(SCHOOL_ADMIN, "A001")


def test_a_transcript_the_tables_cannot_answer_yet_checks_the_scope_on_the_aggregate(
    app: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables that are behind are not asked whose teacher it is: the aggregate is, then the answer
    is 503 `projection_behind` to a caller in scope, `forbidden_scope` to one outside (as for a
    teacher nothing is recorded under), `teacher_not_found` to an admin for an unknown number."""
    build_county(app)
    app.read_model.catch_up()
    monkeypatch.setattr(ReadModel, "wait_for", lambda self, position, timeout=5.0: False)
    app.register_teacher(ADMIN, "A004", "赵敏", "S1")
    for caller in (ADMIN, SCHOOL_ADMIN):
        with pytest.raises(Unavailable) as behind:
            app.transcript(caller, "A004")
        assert behind.value.code == "projection_behind"
    for number in ("A004", "A404"):
        with pytest.raises(Forbidden) as refused:
            app.transcript(OTHER_SCHOOL_ADMIN, number)
        assert refused.value.detail == f"teacher {number} is outside your scope"
    with pytest.raises(NotFound) as unknown:
        app.transcript(ADMIN, "A404")
    assert unknown.value.code == "teacher_not_found"


def test_tables_of_an_older_schema_are_rebuilt_when_the_service_starts(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    codes = setup(app, clock, programmes=10)
    run(app, clock, codes, random.Random(7), 150)
    app.read_model.catch_up()
    with app.read_model.db.transaction() as tx:  # what an older trainrec left: no rm_teacher_years
        tx.execute("DROP TABLE rm_teacher_years")
    app.close()
    again = TrainRec(storage, clock=clock)
    try:
        assert again.read_model.tables_current("rm_")
        position, differences = check(again.read_model)
        assert position == again.read_model.head()
        assert differences == []
    finally:
        again.close()


def test_an_audit_table_that_still_copies_each_event_is_rebuilt_when_the_service_starts(
    durable_backend: Backend, clock: Clock
) -> None:
    """rm_audit kept each event's id and data until the feed read them from the log: a store with
    those columns (NOT NULL, so new rows could not be written) is rebuilt without them."""
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    codes = setup(app, clock, programmes=6)
    run(app, clock, codes, random.Random(4), 120)
    app.read_model.catch_up()
    with app.read_model.db.transaction() as tx:
        tx.execute("ALTER TABLE rm_audit ADD COLUMN event_id TEXT NOT NULL DEFAULT ''")
        tx.execute("ALTER TABLE rm_audit ADD COLUMN data TEXT NOT NULL DEFAULT '{}'")
    app.close()
    again = TrainRec(storage, clock=clock)
    try:
        assert again.read_model.tables_current("rm_")
        assert not again.read_model._answers("SELECT data FROM rm_audit WHERE 1 = 0")
        assert check(again.read_model) == (again.read_model.head(), [])
        feed = again.audit_events(ADMIN, limit=1000)["events"]
        assert len(feed) == again.read_model.head() - sum(  # every event of a teacher, programme or org
            1 for n in again.recorder.select_notifications(start=1, limit=100_000)
            if not n.topic.startswith(("domain.teacher:", "domain.programme:", "domain.org:")))
        assert all(e["id"] and isinstance(e["data"], dict) for e in feed)
        assert all(_sorted_members(e["data"]) for e in feed)  # as when the table kept a sorted copy
    finally:
        again.close()


def _sorted_members(value: Any) -> bool:
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(_sorted_members(v) for v in value.values())
    if isinstance(value, list):
        return all(_sorted_members(v) for v in value)
    return True


def test_two_rebuilds_at_once_take_turns(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    other = TrainRec(storage, clock=clock)  # another process's view of the same store
    try:
        codes = setup(app, clock, programmes=10)
        run(app, clock, codes, random.Random(11), 200)
        errors: list[BaseException] = []

        def rebuild(model: ReadModel) -> None:
            try:
                model.rebuild()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=rebuild, args=(a.read_model,)) for a in (app, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        position, differences = check(app.read_model)
        assert position == app.read_model.head()
        assert differences == []
    finally:
        other.close()
        app.close()
