"""PostgreSQL restarted under load, and taken away for a while: nothing lost or doubled, every
request answered fast and honestly meanwhile, and the service heals without being touched."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from drills.checks import assert_read_model_equals_replay, assert_recorded_once, wait_caught_up
from drills.cluster import PrivateCluster
from drills.conftest import registrations, scale
from drills.load import Probe, Writers, percentile
from drills.server import Server
from drills.world import SCHOOL

FAST = 2.0  # seconds: the most any request may take while the store is away


def test_postgres_restart_under_load(cluster: PrivateCluster, env: dict[str, str], store: str, admin_token: str,
                                     logs: Path, figures: dict[str, Any]) -> None:
    server = Server(env, logs / "server.log")
    server.start()
    writers = Writers(lambda: server.port, admin_token, clients=8, per_client=int(scale(250, 60)), tag="R").start()
    try:
        writers.wait_done(0.3)
        cluster.restart("fast")
        outcome = writers.join()
        assert_recorded_once(outcome, writers.expected, registrations(store))
        figures["writes"] = writers.expected
        figures["retried_sends"] = outcome.retries
        # the follower heals by itself: nobody touches the service
        figures["catch_up_seconds"], health = wait_caught_up(server, 15)
        follower = health["follower"]
        assert follower is not None
        assert follower["failures"] >= 1, follower
        figures["follower_failures"] = follower["failures"]
    finally:
        server.stop()
    assert_read_model_equals_replay(env)


def test_postgres_outage(cluster: PrivateCluster, env: dict[str, str], store: str, admin_token: str,
                         logs: Path, figures: dict[str, Any]) -> None:
    server = Server(env, logs / "server.log")
    server.start()
    auth = {"Authorization": f"Bearer {admin_token}"}
    assert server.call("POST", "/api/v1/teachers", {"teacher_no": "O0", "name": "演练教师", "school_id": SCHOOL},
                       auth)[0] == 201
    port = lambda: server.port  # noqa: E731
    reads = Probe(port, "GET", "/api/v1/teachers/O0/transcript", token=admin_token).start()
    writes = Probe(port, "POST", "/api/v1/teachers", token=admin_token,
                   body=lambda n: {"teacher_no": f"OW{n}", "name": "演练教师", "school_id": SCHOOL}).start()
    health = Probe(port, "GET", "/healthz").start()
    outage = scale(20, 6)
    try:
        time.sleep(1)
        cluster.stop("immediate")
        down_at = time.monotonic()
        time.sleep(outage)
        cluster.start()
        up_at = time.monotonic()
        deadline = up_at + 10
        while time.monotonic() < deadline and not any(s.status == 201 and s.at > up_at for s in writes.samples):
            time.sleep(0.05)
    finally:
        samples = {"read": reads.stop(), "write": writes.stop(), "healthz": health.stop()}
    try:
        during = {name: [s for s in found if down_at < s.at and s.at + s.seconds < up_at]
                  for name, found in samples.items()}
        for name, found in during.items():
            assert found, f"no {name} probe ran during the outage"
            slowest = max(s.seconds for s in found)
            figures[f"{name}_during_outage_max_seconds"] = slowest
            figures[f"{name}_during_outage_p99_seconds"] = percentile([s.seconds for s in found], 99)
            assert slowest < FAST, f"a {name} took {slowest:.2f} s with the store away"
            assert all(s.status == 503 for s in found), {s.status for s in found}
        for s in during["read"] + during["write"]:
            assert s.code == "store_unavailable", s
            assert s.retry_after is not None, s
        resumed = [s.at + s.seconds for s in samples["write"] if s.status == 201 and s.at > up_at]
        assert resumed, "writes did not resume within 10 s of the store's return"
        figures["outage_seconds"] = up_at - down_at
        figures["writes_again_after_seconds"] = min(resumed) - up_at
        assert min(resumed) - up_at < 5, "writes did not resume within 5 s of the store's return"
        before = registrations(store)
        writers = Writers(port, admin_token, clients=4, per_client=int(scale(100, 30)), tag="A").start()
        outcome = writers.join()
        assert_recorded_once(outcome, writers.expected, registrations(store), before=before)
        figures["catch_up_seconds"], _ = wait_caught_up(server, 15)
    finally:
        server.stop()
    assert_read_model_equals_replay(env)
