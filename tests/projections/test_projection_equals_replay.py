"""For random command sequences, every projection equals a replay of the events."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.check import check
from service.app import TrainRec
from tests.conftest import Backend, Clock
from tests.projections.random_commands import TEACHERS, run, setup

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), commands=st.integers(min_value=100, max_value=600),
       catch_up_every=st.integers(min_value=0, max_value=40))
def test_random_commands_leave_projections_equal_to_replay(
    backend: Backend, clock: Clock, seed: int, commands: int, catch_up_every: int
) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        codes = setup(app, clock)
        run(app, clock, codes, random.Random(seed), commands, catch_up_every)
        app.read_model.catch_up()
        position, differences = check(app.read_model)
        assert position == app.read_model.head()
        assert differences == []
        for teacher_no in TEACHERS:
            table = app.transcript(app_admin(), teacher_no)
            replay = app.transcript_replay(teacher_no)
            assert (table["lines"], table["totals"]) == (replay["lines"], replay["totals"])
    finally:
        app.close()


def app_admin():  # type: ignore[no-untyped-def]
    from tests.conftest import ADMIN

    return ADMIN


def test_ten_thousand_random_commands_then_the_check_command_finds_no_difference(
    durable_backend: Backend, clock: Clock
) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    codes = setup(app, clock, programmes=40)
    accepted = run(app, clock, codes, random.Random(10_000), 10_000, catch_up_every=500)
    assert accepted > 1000
    app.close()
    env = {**os.environ, "TRAINREC_DATABASE_URL": storage.url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "service.cli", "projections", "check"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 difference(s)" in done.stdout


def test_check_reports_a_tampered_table_row(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    codes = setup(app, clock)
    run(app, clock, codes, random.Random(7), 150)
    app.read_model.catch_up()
    assert check(app.read_model)[1] == []
    with app.read_model.db.transaction() as tx:
        tx.execute(f"UPDATE {app.read_model.prefix}programmes SET title = ? WHERE code = ?", ("篡改", codes[0]))
        tx.execute(f"DELETE FROM {app.read_model.prefix}audit WHERE position = ?", (3,))
    differences = check(app.read_model)[1]
    assert {(d.table, d.kind) for d in differences} == {
        ("programmes", "missing"), ("programmes", "unexpected"), ("audit", "missing")}
    app.close()
