"""A stalled committer: three refused 5,000-line attendance sheets in flight must not hold back a
small write (probe p99 under 100 ms)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from drills.conftest import scale
from drills.load import Probe, percentile
from drills.server import Server
from drills.world import SCHOOL, seed_programme

SHEET = 5000
PROBE_P99 = 0.100  # seconds


def test_refused_sheets_do_not_stall_other_writes(env: dict[str, str], store: str, admin_token: str, logs: Path,
                                                   figures: dict[str, Any]) -> None:
    enrolled = seed_programme(store, "DRILL-SHEET", SHEET - 1)
    sheet = {"present": [*enrolled, "NOT-ENROLLED"], "absent": []}  # the last line refuses the sheet
    server = Server(env, logs / "server.log")
    server.start()
    auth = {"Authorization": f"Bearer {admin_token}"}
    stopping = threading.Event()
    refusals: list[tuple[int, float]] = []

    def send_sheets() -> None:
        while not stopping.is_set():
            started = time.monotonic()
            status, _, _ = server.call("POST", "/api/v1/programmes/DRILL-SHEET/sessions/1/attendance", sheet,
                                       auth, timeout=60)
            refusals.append((status, time.monotonic() - started))

    def register(n: int) -> dict[str, str]:
        return {"teacher_no": f"P{n:06d}", "name": "演练教师", "school_id": SCHOOL}

    # the probe alone first: the baseline of the same write on the same machine
    alone = Probe(lambda: server.port, "POST", "/api/v1/teachers", token=admin_token, body=register, every=0.02)
    alone.start()
    time.sleep(scale(10, 4))
    baseline = [s.seconds for s in alone.stop()]
    senders = [threading.Thread(target=send_sheets, daemon=True) for _ in range(3)]
    for sender in senders:
        sender.start()
    while len(refusals) < 3:  # every sheet has been through the server once
        time.sleep(0.05)
    probe = Probe(lambda: server.port, "POST", "/api/v1/teachers", token=admin_token,
                  body=lambda n: register(100_000 + n), every=0.02).start()
    time.sleep(scale(20, 8))
    samples = probe.stop()
    stopping.set()
    for sender in senders:
        sender.join(60)
    server.stop()
    assert all(s.status == 201 for s in samples), {s.status for s in samples}
    figures["probe_writes"] = len(samples)
    assert {status for status, _ in refusals} <= {404, 409}, refusals[:3]  # refused, whole
    seconds = [s.seconds for s in samples]
    figures["probe_writes"] = len(seconds)
    figures["sheets_refused"] = len(refusals)
    figures["sheet_seconds_p50"] = percentile([t for _, t in refusals], 50)
    figures["probe_alone_p99_seconds"] = percentile(baseline, 99)
    figures["probe_p50_seconds"] = percentile(seconds, 50)
    figures["probe_p99_seconds"] = percentile(seconds, 99)
    assert percentile(seconds, 99) < PROBE_P99, f"probe p99 {percentile(seconds, 99):.3f} s"
