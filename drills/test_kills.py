"""kill -9 of the server and of the separate follower, under load."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from drills.checks import assert_read_model_equals_replay, assert_recorded_once, wait_caught_up
from drills.conftest import registrations, scale
from drills.load import Writers
from drills.server import FollowerProcess, Server


def test_kill_server_under_load(env: dict[str, str], store: str, admin_token: str, logs: Path,
                                figures: dict[str, Any]) -> None:
    server = Server(env, logs / "server.log")
    server.start()
    writers = Writers(lambda: server.port, admin_token, clients=8, per_client=int(scale(250, 60)), tag="K").start()
    try:
        writers.wait_done(0.3)
        server.kill()
        killed = time.monotonic()
        server.start()
        figures["restart_seconds"] = time.monotonic() - killed
        outcome = writers.join()
        assert_recorded_once(outcome, writers.expected, registrations(store))
        figures["writes"] = writers.expected
        figures["retried_sends"] = outcome.retries
        figures["answered_as_replays"] = outcome.replayed
        figures["catch_up_seconds"], _ = wait_caught_up(server, 30)
    finally:
        server.stop()
    assert_read_model_equals_replay(env)
    figures["events_expected_equals_found"] = True


def test_kill_follower_under_load(env: dict[str, str], store: str, admin_token: str, logs: Path,
                                  figures: dict[str, Any]) -> None:
    env = {**env, "TRAINREC_PROJECTOR": "separate"}
    server = Server(env, logs / "server.log")
    follower = FollowerProcess(env, logs / "follower.log")
    follower.start()
    server.start()
    writers = Writers(lambda: server.port, admin_token, clients=8, per_client=int(scale(250, 60)), tag="F").start()
    try:
        writers.wait_done(0.3)
        follower.kill()
        writers.wait_done(0.6)
        follower.start()
        outcome = writers.join()
        assert_recorded_once(outcome, writers.expected, registrations(store))
        figures["writes"] = writers.expected
        figures["catch_up_seconds"], health = wait_caught_up(server, 30)
        figures["events"] = health["events"]
    finally:
        server.stop()
        follower.stop()
    assert_read_model_equals_replay(env)
