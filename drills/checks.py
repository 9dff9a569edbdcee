"""What every drill asserts at its end: each write answered once, recorded once, and the read model
caught up with the log and equal to a replay of it."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from drills.load import Outcome
from drills.server import ROOT, Server


def assert_recorded_once(outcome: Outcome, expected: int, found: tuple[int, int, int],
                         before: tuple[int, int, int] = (0, 0, 0)) -> None:
    """`found`, `before`: (registrations, distinct teachers, idempotency records) in the store, after
    the writers and before they started."""
    registered, distinct, records = found
    assert outcome.unexpected == [], outcome.unexpected[:5]
    assert len(outcome.keys) == expected, f"{len(outcome.keys)} of {expected} writes answered"
    assert len(set(outcome.keys)) == expected, "a key was answered twice as new"
    added = registered - before[0]
    assert added == expected, f"expected {expected} registrations, found {added}"
    assert distinct == registered, "a teacher was registered twice"
    recorded = records - before[2]
    assert recorded == expected, f"expected {expected} idempotency records, found {recorded}"


def wait_caught_up(server: Server, timeout: float) -> tuple[float, dict[str, Any]]:
    """Seconds until /healthz says the read model is at the log's head (and ready)."""
    started = time.monotonic()
    last: dict[str, Any] = {}
    while time.monotonic() - started < timeout:
        try:
            last = server.health()
        except OSError:
            last = {}
        if last.get("ready") and last.get("lag") == 0:
            return time.monotonic() - started, last
        time.sleep(0.1)
    raise AssertionError(f"not caught up within {timeout} s: {last}")


def assert_read_model_equals_replay(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "service.cli", "projections", "check"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
