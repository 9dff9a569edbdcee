"""`make bench [N=…]`: every hot path on PostgreSQL beside its physical baseline, measured in one run.

Prints a table and writes bench/RESULTS.md (date, machine, N, each figure, its baseline and the
ratio against the issue's target). Needs the PostgreSQL of TRAINREC_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); works in a schema of its own, dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.region import ADMIN, enrolment_file, load, sample
from service.app import TrainRec
from service.auth.tokens import issue_token
from service.importing.importer import import_file
from service.storage.config import storage_from_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 1 << 20
WARM_UP = 10  # requests per client before the measured ones (first connections, pools, caches), both modes
# Database disk per teacher of the region: measured 717 MB at 10,000 teachers (500k events): the
# events with their indexes 366 MB, the read model 351 MB. The margin covers the WAL, the sorts of
# the rebuild's index builds and the HTTP runs.
DISK_PER_TEACHER = 71_700
DISK_MARGIN = 1.2


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None

    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(calls: list[Callable[[], Any]]) -> list[float]:
    spent = []
    for call in calls:
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def raw_copy_baseline(conn: psycopg.Connection[Any], schema: str, limit: int = 1_000_000) -> tuple[int, float]:
    """COPY the same stored rows (the first `limit`, enough for a steady rate) into a table shaped
    like the event table; only the COPY into the table is timed."""
    with conn.cursor() as cur:
        data = bytearray()
        with cur.copy(f"COPY (SELECT originator_id, originator_version, topic, state FROM {schema}.trainrec_events "
                      f"ORDER BY notification_id LIMIT {limit}) TO STDOUT") as out:
            for chunk in out:
                data += chunk
        rows = data.count(b"\n")
        cur.execute(f"CREATE TABLE {schema}.copy_baseline (originator_id uuid NOT NULL, originator_version "
                    "bigint NOT NULL, topic text, state bytea, notification_id bigserial, "
                    "PRIMARY KEY (originator_id, originator_version))")
        cur.execute(f"CREATE UNIQUE INDEX ON {schema}.copy_baseline (notification_id)")
        conn.commit()
        started = time.perf_counter()
        with cur.copy(f"COPY {schema}.copy_baseline (originator_id, originator_version, topic, state) "
                      "FROM STDIN") as copy:
            view = memoryview(data)
            for start in range(0, len(view), CHUNK):
                copy.write(view[start:start + CHUNK])
        conn.commit()
        spent = time.perf_counter() - started
        cur.execute(f"DROP TABLE {schema}.copy_baseline")  # so no vacuum of it runs during later figures
        conn.commit()
        return rows, spent


def raw_read_baseline(conn: psycopg.Connection[Any], schema: str) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with conn.cursor(name="raw_read") as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT originator_id, originator_version, topic, state FROM {schema}.trainrec_events "
                    "ORDER BY notification_id")
        for _ in cur:
            count += 1
    conn.commit()
    return count, time.perf_counter() - started


def http_writes(
    url: str, clients: int, per_client: int, group_commit: bool, secret: str, run: str = ""
) -> tuple[float, list[float], int]:
    """Start a server on the bench store and register new teachers from `clients` threads
    (`run` tells the teacher numbers of one run from another's on the same store)."""
    port = 18000 + (1 if group_commit else 2)
    env = {**os.environ, "TRAINREC_DATABASE_URL": url, "TRAINREC_SECRET": secret,
           "TRAINREC_GROUP_COMMIT": "1" if group_commit else "0", "PYTHONPATH": str(ROOT),
           "TRAINREC_PROJECTOR": "separate"}
    # The deployment README recommends on PostgreSQL: the read model followed by a process of its
    # own (`trainrec projections follow`), the same in both modes.
    projector = subprocess.Popen([sys.executable, "-m", "service.cli", "projections", "follow"], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True)
    # It says it follows once it has applied the backlog (the import's events): only then is
    # either mode measured, so that neither shares the machine with that catch-up.
    assert projector.stdout is not None
    if "following" not in projector.stdout.readline():
        projector.kill()
        projector.wait()
        raise RuntimeError("the projector did not start")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.api.asgi:app", "--port", str(port), "--log-level", "warning",
         "--limit-concurrency", "256"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    token = issue_token(secret, ADMIN)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        tag = "G" if group_commit else "O"

        def client(c: int) -> None:
            # http.client rather than httpx: the clients share the machine's two cores with the
            # server and PostgreSQL, so the harness should cost as little CPU as it can.
            mine = []
            http = HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                for i in range(WARM_UP + per_client):
                    body = json.dumps({"teacher_no": f"H{tag}{run}{c:02d}{i:05d}", "name": "压测教师",
                                       "school_id": "BS00000"}, ensure_ascii=False).encode()
                    started = time.perf_counter()
                    http.request("POST", "/api/v1/teachers", body=body, headers=headers)
                    response = http.getresponse()
                    answer = response.read()
                    if i >= WARM_UP:
                        mine.append((time.perf_counter() - started) * 1000)
                    if response.status != 201:
                        failures.append(f"{response.status} {answer.decode()}")
                        warmed.abort()  # the others stop waiting for this client
                        return
                    if i == WARM_UP - 1:
                        warmed.wait(timeout=300)  # every client warmed up: measure from here
            except (OSError, threading.BrokenBarrierError) as error:
                failures.append(repr(error))
                warmed.abort()
            finally:
                http.close()
            with lock:
                latencies.extend(mine)

        marks: list[float] = []
        warmed = threading.Barrier(clients, action=lambda: marks.append(time.perf_counter()))
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"{len(failures)} clients failed, first: {failures[0]}")
        elapsed = time.perf_counter() - marks[0]
        peak = peak_rss_kib(server.pid)
        return clients * per_client / elapsed, latencies, peak
    finally:
        server.terminate()
        server.wait(timeout=30)
        projector.terminate()
        projector.wait(timeout=120)


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def disk_check(conn: psycopg.Connection[Any], teachers: int) -> str | None:
    """Why the run would not fit on the database's disk, or None. Only a server whose data directory
    this machine can see (a local one, and a role allowed to ask where it is) is checked."""
    needed = teachers * DISK_PER_TEACHER * DISK_MARGIN
    try:
        row = conn.execute("SHOW data_directory").fetchone()
    except psycopg.Error:
        conn.rollback()
        return None
    if row is None or not Path(str(row[0])).exists():
        return None
    free = shutil.disk_usage(str(row[0])).free
    if free >= needed:
        return None
    return (f"{teachers:,} teachers need about {needed / 1e9:.0f} GB of database disk and {row[0]} has "
            f"{free / 1e9:.0f} GB free (--ignore-disk to run anyway)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, default=int(os.environ.get("N", "10000")))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=300, help="measured HTTP writes per client")
    parser.add_argument("--keep", action="store_true", help="keep the bench schema")
    parser.add_argument("--ignore-disk", action="store_true", help="run even if the disk looks too small")
    args = parser.parse_args()
    pg = os.environ.get("TRAINREC_BENCH_POSTGRES_URL", DEFAULT_PG)
    with psycopg.connect(pg, autocommit=True) as conn:
        too_big = None if args.ignore_disk else disk_check(conn, args.teachers)
    if too_big is not None:
        print(f"bench: {too_big}", file=sys.stderr)
        return 2
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{pg}?schema={schema}"
    secret = uuid.uuid4().hex * 2
    figures: list[Figure] = []
    n = args.teachers
    try:
        app = TrainRec(storage_from_url(url))
        print(f"bench: {n} teachers into schema {schema} …", flush=True)
        started = time.perf_counter()
        _, saved, save_seconds = load(app, n)
        total_seconds = time.perf_counter() - started
        import_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with psycopg.connect(pg, autocommit=True) as conn:
            # What an operator does after a bulk import (and what autovacuum would otherwise do in
            # the middle of the measurements below): not part of any timed figure.
            conn.execute(f"VACUUM (ANALYZE) {schema}.trainrec_events")
        with psycopg.connect(pg) as conn:
            copied, copy_seconds = raw_copy_baseline(conn, schema)
            read, read_seconds = raw_read_baseline(conn, schema)
            size = conn.execute(f"SELECT pg_total_relation_size('{schema}.trainrec_events')").fetchone()
        copy_rate = copied / copy_seconds
        figures.append(Figure("bulk import, events/s (rules + hashing + save)", saved / total_seconds, "events/s",
                              copy_rate, "raw COPY of the same rows", "≥ 0.4 × COPY"))
        figures.append(Figure("  of which the save alone", saved / save_seconds, "events/s", copy_rate,
                              "raw COPY of the same rows", ""))
        started = time.perf_counter()
        position = app.read_model.rebuild()
        rebuild_seconds = time.perf_counter() - started
        figures.append(Figure("projection rebuild, events/s", position / rebuild_seconds, "events/s",
                              read / read_seconds, "raw sequential read", "≥ 0.3 × read"))
        teachers = sample([f"B{i:07d}" for i in range(n)], 300)
        schools = sample([f"BS{s:05d}" for s in range(max(1, n // 50))], 40)
        transcript = timed([lambda t=t: app.transcript(ADMIN, t) for t in teachers])
        school = timed([lambda s=s: app.compliance(ADMIN, s, 2025) for s in schools])
        # A county's answer as the API sends it (service.compliance_json: the JSON text, which the
        # route sends as it is); parsed into Python objects as well, for what that costs.
        county = timed([lambda: app.compliance_json(ADMIN, "BC", 2025) for _ in range(15)])
        county_parsed = timed([lambda: app.compliance(ADMIN, "BC", 2025) for _ in range(15)])
        for label, values, target in (("transcript read", transcript, 10.0), ("school compliance read", school, 25.0),
                                      ("county compliance read", county, 100.0)):
            figures.append(Figure(f"{label} p50, ms", statistics.median(values), "ms"))
            p99 = percentile(values, 0.99)
            figures.append(Figure(f"{label} p99, ms", p99, "ms", target=f"≤ {target:g} ms", met=p99 <= target))
        figures.append(Figure("county compliance read parsed into Python objects, p99, ms",
                              percentile(county_parsed, 0.99), "ms"))
        # The reads above find the county's answer stored in rm_unit_years and every school's row of
        # rm_school_years fresh (the rebuild computed them, as a follower keeps them). Without the
        # answer (the first read after a change under the county, before a follower's refresh) a
        # county read rolls up the school rows; without those too (the first read of a new day when
        # no follower runs) it computes every school: both measured here for what they are.
        for label, tables in (("no stored answer, school rows fresh", ("rm_unit_years",)),
                              ("no stored answer nor school rows", ("rm_unit_years", "rm_school_years"))):
            cold = []
            for _ in range(3):
                with app.read_model.db.transaction() as tx:
                    for table in tables:
                        tx.execute(f"DELETE FROM {table}")
                cold += timed([lambda: app.compliance_json(ADMIN, "BC", 2025)])
            figures.append(Figure(f"county compliance read, {label} (median of 3), ms", statistics.median(cold), "ms"))
        with tempfile.TemporaryDirectory() as tmp:
            # `trainrec import`: every row through the service's command (rules, scopes, idempotency)
            path = Path(tmp) / "enrolments.csv"
            rows = enrolment_file(app, path, [f"B{i:07d}" for i in range(min(n, 100_000))])
            before = app.recorder.max_notification_id() or 0
            started = time.perf_counter()
            imported = import_file(app, "enrolments", path, exclusive=True)  # as `trainrec import` does
            import_seconds = time.perf_counter() - started
            stored = (app.recorder.max_notification_id() or 0) - before
            if len(imported.accepted) != rows:
                raise RuntimeError(f"import refused rows: {imported.rejected[:3]}")
        figures.append(Figure(f"trainrec import enrolments ({rows:,} CSV rows), stored events/s", stored /
                              import_seconds, "events/s", copy_rate, "raw COPY of the same rows"))
        figures.append(Figure("  the same import, rows/s", rows / import_seconds, "rows/s"))
        app.close()
        assert size is not None
        figures.append(Figure("disk bytes per event (events table + indexes)", size[0] / saved, "bytes"))
        figures.append(Figure("peak memory of the import (bench process), MiB", import_peak / 1024, "MiB"))
        one_rate, one_lat, _ = http_writes(url, args.clients, args.requests, False, secret)
        group_rate, group_lat, server_peak = http_writes(url, args.clients, args.requests, True, secret)
        figures.append(Figure(f"HTTP writes, {args.clients} clients, commands/s", group_rate, "cmd/s", one_rate,
                              "one commit per command", "≥ 3 × one-per-commit"))
        figures.append(Figure("HTTP write p50, ms (group commit)", statistics.median(group_lat), "ms"))
        p99 = percentile(group_lat, 0.99)
        figures.append(Figure("HTTP write p99, ms (group commit)", p99, "ms", target="≤ 100 ms", met=p99 <= 100))
        figures.append(Figure("HTTP write p99, ms (one commit per command)", percentile(one_lat, 0.99), "ms"))
        figures.append(Figure("peak memory of the server, MiB", server_peak / 1024, "MiB"))
    finally:
        if not args.keep:
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    report(figures, n, saved)
    return 0


def judge(figure: Figure) -> str:
    if figure.met is not None:
        return "met" if figure.met else "NOT met"
    if figure.target and figure.ratio() is not None:
        wanted = float(figure.target.split("×")[0].strip("≥ "))
        return "met" if (figure.ratio() or 0) >= wanted else "NOT met"
    return ""


def report(figures: list[Figure], n: int, events: int) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.now(tz=UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}",
        f"- N: {n} teachers, {events} events; PostgreSQL at 127.0.0.1",
        "- command: `make bench N=…` (baselines are measured in the same run)",
        "",
        "| figure | value | baseline (same run) | ratio | target | verdict |",
        "|---|---:|---|---:|---|---|",
    ]
    for f in figures:
        ratio = f.ratio()
        baseline = f"{f.baseline:,.0f} ({f.baseline_name})" if f.baseline else ""
        lines.append(f"| {f.name} | {f.value:,.1f} {f.unit} | {baseline} | "
                     f"{'' if ratio is None else f'{ratio:.3f}' if ratio < 0.1 else f'{ratio:.2f}'} | {f.target} | "
                     f"{judge(f)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "bench" / "RESULTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
