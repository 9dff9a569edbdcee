"""An expensive write cannot hold the others back (docs/write-path.md): a large attendance sheet is
checked in the request's worker thread, not in the group committer, so small writes keep being
committed while refused 5,000-line sheets are read; and an accepted one is still saved in one
transaction. Timings are not asserted (bench/fairness.py measures them): what is asserted is where
the work ran."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from service.api.deps import HEAVY
from service.api.main import create_app
from service.app import TrainRec
from service.commands.programmes import MAX_SHEET
from tests.conftest import ADMIN, PROVIDER, Backend, Clock, build_county, define
from tests.service.api.conftest import SECRET, bearer

SHEET = MAX_SHEET - 1  # enrolled teachers on the sheet; its last line is a teacher nobody recorded


@pytest.fixture
def big_programme(durable_backend: Backend, clock: Clock) -> Iterator[tuple[TrainRec, list[str]]]:
    """K1 with MAX_SHEET - 1 enrolled teachers, its first session held."""
    app = TrainRec(durable_backend.fresh(), clock=clock)
    build_county(app)
    define(app, "K1")
    teachers = [f"F{i:05d}" for i in range(SHEET)]
    with app.single_writer():
        for command in (lambda t: app.register_teacher(ADMIN, t, "教师", "S1", date(2015, 9, 1)),
                        lambda t: app.enrol(ADMIN, "K1", t)):
            for start in range(0, len(teachers), 500):
                with app.batched(exclusive=True):
                    for teacher_no in teachers[start:start + 500]:
                        command(teacher_no)
    clock.set(date(2024, 3, 4), hour=18)
    yield app, teachers
    app.close()


def test_refused_large_sheets_never_hold_the_committer_and_small_writes_interleave(
        big_programme: tuple[TrainRec, list[str]]) -> None:
    app, teachers = big_programme
    sheet = {"present": [*teachers, "NOBODY"], "absent": []}
    assert len(sheet["present"]) == MAX_SHEET >= HEAVY
    with TestClient(create_app(app, SECRET, catch_up=False), raise_server_exceptions=False) as client:
        committer = app.group_committer
        assert committer is not None  # the lifespan turned group commit on, as in a server
        answers: list[tuple[int, str]] = []
        sheets_done = threading.Event()
        in_flight = threading.Barrier(4, timeout=60)

        def send_sheet() -> None:
            in_flight.wait()
            response = client.post("/api/v1/programmes/K1/sessions/1/attendance", json=sheet,
                                   headers=bearer(PROVIDER))
            answers.append((response.status_code, response.json()["code"]))

        senders = [threading.Thread(target=send_sheet) for _ in range(3)]
        for sender in senders:
            sender.start()
        in_flight.wait()
        probe_writes = 0
        while not sheets_done.is_set():
            response = client.post("/api/v1/teachers", headers=bearer(ADMIN), json={
                "teacher_no": f"P{probe_writes:05d}", "name": "探针", "school_id": "S1"})
            assert response.status_code == 201, response.text
            probe_writes += 1
            if not any(sender.is_alive() for sender in senders):
                sheets_done.set()
        for sender in senders:
            sender.join()
        stats = committer.stats
    # every line of each sheet was checked (the refusal comes from the last one) and none was recorded
    assert answers == [(403, "forbidden_scope")] * 3
    assert app.teacher_history(ADMIN, teachers[0])[-1]["type"] == "Enrolled"
    # the committer ran the probe's writes and nothing else: the sheets were checked in worker
    # threads, so no group of the committer waited for one of them
    assert stats.commands == probe_writes
    # and the probe kept being served while they were read (before, each of its writes waited for a
    # sheet: about one write per sheet)
    assert probe_writes >= 10


def test_an_accepted_large_sheet_is_checked_outside_the_committer_and_saved_in_one_transaction(
        big_programme: tuple[TrainRec, list[str]]) -> None:
    app, teachers = big_programme
    before = app.recorder.max_notification_id() or 0
    with TestClient(create_app(app, SECRET, catch_up=False), raise_server_exceptions=False) as client:
        committer = app.group_committer
        assert committer is not None
        response = client.post("/api/v1/programmes/K1/sessions/1/attendance",
                               json={"present": teachers[1:], "absent": teachers[:1]}, headers=bearer(PROVIDER))
        assert response.status_code == 201, response.text
        stats = committer.stats
    assert response.json()["recorded"] == SHEET
    assert int(response.headers["Trainrec-Position"]) == before + SHEET
    # one request to the committer (the sheet's events, its rules already checked), one transaction
    assert (stats.commands, stats.transactions) == (1, 1)
    assert app.teacher_history(ADMIN, teachers[0])[-1]["data"]["present"] is False
    assert app.teacher_history(ADMIN, teachers[-1])[-1]["data"]["present"] is True
