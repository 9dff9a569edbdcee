"""`make bench-fairness`: does an expensive request hold the others back? Probe write latency of a
real server, alone, with three refused 5,000-line attendance sheets in flight, and with four clients
verifying the store's hash chains again and again, measured in one run.

A store with one programme and 4,999 enrolled teachers is loaded into a schema of its own (or an
SQLite file, `--sqlite`); a server (`uvicorn service.api.asgi:app`, group commit on) is started on
it. A probe client registers new teachers one after another (`POST /api/v1/teachers`), first alone
(the baseline), then while three clients keep sending the same refused sheet (`POST
…/sessions/1/attendance`, 4,999 enrolled teachers and one unknown: 403 after every line was
checked), then while four clients keep calling `GET /api/v1/audit/verify`. Prints the probe's p50
and p99 in each phase, their ratio to the baseline, how long a sheet and a verification took.

`--server-root DIR` serves the code of another checkout (to compare with the code before a change);
the store is always loaded by this one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.region import ADMIN, PROVIDER, at
from bench.run import DEFAULT_PG, percentile
from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import Form, Level, OrgKind, Selection
from service.app import TrainRec
from service.auth.tokens import issue_token
from service.storage.config import storage_from_url

ROOT = Path(__file__).resolve().parents[1]
LINES = 5000
SHEETS = 3
VERIFIERS = 4
PORT = 18010


def load(url: str) -> list[str]:
    """Orgs, one programme whose first session was held yesterday, and LINES - 1 enrolled teachers
    (recorded with a clock before the programme started); returns their numbers."""
    start = date.today() - timedelta(days=1)
    app = TrainRec(storage_from_url(url), clock=lambda: at(start - timedelta(days=10)))
    app.put_org(ADMIN, "BC", "基准县", OrgKind.COUNTY, None)
    app.put_org(ADMIN, "BP1", "基准进修学校", OrgKind.PROVIDER, "BC")
    app.put_org(ADMIN, "BT000", "第1镇", OrgKind.TOWN, "BC")
    app.put_org(ADMIN, "BS00000", "第1小学", OrgKind.SCHOOL, "BT000")
    app.define_programme(ADMIN, code="FAIR", title="公平性测试", level=Level.COUNTY, form=Form.CONCENTRATED,
                         selection=Selection.SELF_SELECTED, hours=Decimal(16), provider_id="BP1",
                         owner_org_id="BC", starts_on=start, ends_on=start + timedelta(days=1),
                         sessions=[SessionPlan(1, start, Decimal(8)), SessionPlan(2, start + timedelta(days=1),
                                                                                  Decimal(8))])
    teachers = [f"F{i:05d}" for i in range(LINES - 1)]
    with app.single_writer():
        for command in (lambda t: app.register_teacher(ADMIN, t, "教师", "BS00000", date(2015, 9, 1)),
                        lambda t: app.enrol(ADMIN, "FAIR", t)):
            for s in range(0, len(teachers), 500):
                with app.batched(exclusive=True):
                    for t in teachers[s:s + 500]:
                        command(t)
    app.close()
    return teachers


def serve(url: str, secret: str, root: Path, workdir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRAINREC_DATABASE_URL": url, "TRAINREC_SECRET": secret, "TRAINREC_GROUP_COMMIT": "1",
           "TRAINREC_PROJECTOR": "separate", "PYTHONPATH": str(root)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.api.asgi:app", "--port", str(PORT),
                               "--log-level", "warning"], env=env, cwd=workdir)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def probe(token: str, count: int, tag: str) -> list[float]:
    """`count` registrations one after another; their latencies in ms."""
    http = HTTPConnection("127.0.0.1", PORT, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    spent = []
    try:
        for i in range(count):
            body = json.dumps({"teacher_no": f"P{tag}{i:05d}", "name": "探针", "school_id": "BS00000"},
                              ensure_ascii=False).encode()
            started = time.perf_counter()
            http.request("POST", "/api/v1/teachers", body=body, headers=headers)
            response = http.getresponse()
            answer = response.read()
            spent.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                raise RuntimeError(f"probe write {response.status}: {answer.decode()}")
    finally:
        http.close()
    return spent


def sheets(token: str, teachers: list[str], stop: threading.Event, took: list[float], lock: threading.Lock) -> None:
    """Send the refused sheet again and again until `stop`."""
    http = HTTPConnection("127.0.0.1", PORT, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"present": [*teachers, "NOBODY"], "absent": []}).encode()
    try:
        while not stop.is_set():
            started = time.perf_counter()
            http.request("POST", "/api/v1/programmes/FAIR/sessions/1/attendance", body=body, headers=headers)
            response = http.getresponse()
            answer = response.read()
            if response.status not in (403, 404):
                raise RuntimeError(f"the sheet was not refused: {response.status} {answer.decode()[:200]}")
            with lock:
                took.append((time.perf_counter() - started) * 1000)
    finally:
        http.close()


def verifies(token: str, stop: threading.Event, took: list[float], lock: threading.Lock) -> None:
    """Verify the store again and again until `stop`."""
    http = HTTPConnection("127.0.0.1", PORT, timeout=600)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        while not stop.is_set():
            started = time.perf_counter()
            http.request("GET", "/api/v1/audit/verify", headers=headers)
            response = http.getresponse()
            answer = response.read()
            if response.status not in (200, 503):
                raise RuntimeError(f"verify: {response.status} {answer.decode()[:200]}")
            with lock:
                took.append((time.perf_counter() - started) * 1000)
    finally:
        http.close()


def loaded_probe(
    token: str, count: int, tag: str, senders: list[threading.Thread], stop: threading.Event
) -> list[float]:
    """The probe while `senders` run (stopped once it is done)."""
    for sender in senders:
        sender.start()
    time.sleep(0.5)  # they are under way
    try:
        return probe(token, count, tag)
    finally:
        stop.set()
        for sender in senders:
            sender.join()


def measure(url: str, teachers: list[str], root: Path, count: int, workdir: str, phases: str) -> dict[str, Any]:
    secret = uuid.uuid4().hex * 2
    server = serve(url, secret, root, workdir)
    admin, provider = issue_token(secret, ADMIN), issue_token(secret, PROVIDER)
    try:
        probe(admin, 20, "W")  # warm up: connections, caches
        alone = probe(admin, count, "A")
        stop, lock, took = threading.Event(), threading.Lock(), []
        senders = [threading.Thread(target=sheets, args=(provider, teachers, stop, took, lock)) for _ in range(SHEETS)]
        loaded = loaded_probe(admin, count, "L", senders, stop) if "sheets" in phases else []
        stop, verified = threading.Event(), []
        checkers = [threading.Thread(target=verifies, args=(admin, stop, verified, lock)) for _ in range(VERIFIERS)]
        verifying = loaded_probe(admin, count, "V", checkers, stop) if "verify" in phases else []
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"alone": alone, "loaded": loaded, "sheets": took, "verifying": verifying, "verified": verified}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=300, help="probe writes per phase")
    parser.add_argument("--sqlite", action="store_true", help="an SQLite file instead of PostgreSQL")
    parser.add_argument("--server-root", type=Path, default=ROOT, help="the checkout whose code the server runs")
    parser.add_argument("--phases", default="sheets,verify", help="which loaded phases to run (comma-separated)")
    args = parser.parse_args()
    pg = os.environ.get("TRAINREC_BENCH_POSTGRES_URL", DEFAULT_PG)
    schema = f"fair_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        if args.sqlite:
            url = f"sqlite:///{tmp}/fair.db"
        else:
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            url = f"{pg}?schema={schema}"
        try:
            teachers = load(url)
            figures = measure(url, teachers, args.server_root.resolve(), args.probes, tmp, args.phases)
        finally:
            if not args.sqlite:
                with psycopg.connect(pg, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    alone = figures["alone"]
    p50a, p99a = statistics.median(alone), percentile(alone, 0.99)
    print(f"fairness ({'SQLite' if args.sqlite else 'PostgreSQL'}; server code: {args.server_root}); "
          f"{args.probes} probe writes per phase")
    print("| probe write | p50 ms | p99 ms | p50 ratio | p99 ratio | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(f"| alone (baseline) | {p50a:.1f} | {p99a:.1f} | 1 | 1 | |")
    for label, name in ((f"with {SHEETS} refused {LINES}-line sheets in flight", "loaded"),
                        (f"with {VERIFIERS} clients verifying the store", "verifying")):
        values = figures[name]
        if not values:
            continue
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {p50 / p50a:.2f} | {p99 / p99a:.2f} | "
              f"{'met' if p99 < 100 else 'NOT met'} (p99 < 100 ms) |")
    for label, name in (("refused sheets", "sheets"), ("verifications", "verified")):
        took = figures[name]
        if took:
            print(f"{label} answered: {len(took)}, median {statistics.median(took):.0f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
