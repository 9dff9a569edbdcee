"""`make bench [N=…]`: every hot path on PostgreSQL beside its physical baseline, measured in one run.

Prints a table and writes bench/RESULTS.md (date, machine, N, each figure, its baseline and the
ratio against the issue's target). During the HTTP writes it samples the log's head and the read
model's position every 0.1 s: the follower's rate beside the write rate, the lag and the time to
catch up after the writes. `--http-only` measures the HTTP writes alone (a quick look on a small
region: `python -m bench.run --teachers 200 --http-only`), `--projector server` with the server's
own follower instead of `trainrec projections follow`. `--reads-only` builds the region, rebuilds the
read model and measures the reads (compliance now and `as_of` a past instant among them), without
`trainrec import` and the HTTP runs: it adds the rows the file lacks to bench/RESULTS.md (marked ‡,
with the run's date and N) and keeps the rows of the last full run. Needs the PostgreSQL of TRAINREC_BENCH_POSTGRES_URL
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

from bench.pages import page_figures
from bench.printing import pdf_figures
from bench.region import ADMIN, SCHOOLS_PER_TOWN, enrolment_file, load, sample
from domain.ids import event_id
from projections.schema import LIVE
from projections.view import NAME as TRACKED
from service.app import TrainRec
from service.auth.tokens import issue_token
from service.importing.importer import import_file
from service.storage.bulk_reads import notifications
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


SAMPLE_EVERY = 0.1  # seconds between samples of the log's head and the read model's position
CATCH_UP_WITHIN = 120.0  # seconds the bench waits, after the writes, for the read model to catch up


@dataclass
class Sample:
    at: float  # time.perf_counter()
    head: int  # the log's last notification id
    position: int  # the read model's tracked position


@dataclass
class FollowerRun:
    """The read model during a run of writes: how fast the log grew and the follower applied it,
    how far behind it was, and how long it took to catch up once the writes stopped."""

    written_per_second: float
    applied_per_second: float
    lag_events_p50: float
    lag_events_p99: float
    lag_seconds_p50: float
    lag_seconds_p99: float
    catch_up_seconds: float | None  # None: not caught up within CATCH_UP_WITHIN


class LagSampler(threading.Thread):
    """Reads the log's head and the read model's position every SAMPLE_EVERY seconds (`read`; on
    PostgreSQL two index lookups from a connection of its own: `LagSampler.on`)."""

    def __init__(self, read: Callable[[], tuple[int, int]], every: float = SAMPLE_EVERY,
                 close: Callable[[], None] = lambda: None) -> None:
        super().__init__(name="bench-lag", daemon=True)
        self.read = read
        self.every = every
        self.close = close
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self._sampled = threading.Condition()

    @classmethod
    def on(cls, pg: str, schema: str) -> LagSampler:
        conn = psycopg.connect(pg, autocommit=True)
        statement = (f"SELECT (SELECT COALESCE(MAX(notification_id), 0) FROM {schema}.trainrec_events), "
                     f"(SELECT position FROM {schema}.{LIVE}tracking WHERE name = %s)")

        def read() -> tuple[int, int]:
            row = conn.execute(statement, (TRACKED,)).fetchone()
            assert row is not None
            return int(row[0]), int(row[1] or 0)

        return cls(read, close=conn.close)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                head, position = self.read()
                with self._sampled:
                    self.samples.append(Sample(time.perf_counter(), head, position))
                    self._sampled.notify_all()
                self.stopping.wait(self.every)
        finally:
            self.close()

    def caught_up(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) for a sample taken from now on to show the read model
        at the head it saw."""
        with self._sampled:
            start = len(self.samples)

            def reached() -> bool:
                return any(s.position >= s.head for s in self.samples[start:])

            return self._sampled.wait_for(lambda: reached() or not self.is_alive(), timeout) and reached()

    def stop(self) -> None:
        self.stopping.set()
        if self.ident is not None:
            self.join(timeout=10)
        else:  # never started: only its connection to close
            self.close()


def follower_run(samples: list[Sample], started: float, ended: float) -> FollowerRun:
    """The figures of a run of writes from `started` to `ended` (perf_counter), from the samples
    taken during it and after it, in order. A sample's lag in seconds is the time until a later
    sample shows the read model at that sample's head (to the sampling's resolution; to the last
    sample if none does)."""
    during = [i for i, s in enumerate(samples) if started <= s.at <= ended]
    if len(during) < 2:
        msg = "too few samples of the read model during the run"
        raise RuntimeError(msg)
    first, last = samples[during[0]], samples[during[-1]]
    spent = last.at - first.at
    waits = []
    later = during[0]  # heads and positions only grow: the first sample at a head moves forward only
    for i in during:
        later = max(later, i)
        while later < len(samples) - 1 and samples[later].position < samples[i].head:
            later += 1
        waits.append(samples[later].at - samples[i].at)
    final = last.head  # after `ended` the writes are over: every later sample sees the final head
    caught = next((s.at for s in samples[during[-1]:] if s.at >= ended and s.position >= max(final, s.head)), None)
    lags = [float(samples[i].head - samples[i].position) for i in during]
    return FollowerRun(
        written_per_second=(last.head - first.head) / spent,
        applied_per_second=(last.position - first.position) / spent,
        lag_events_p50=statistics.median(lags),
        lag_events_p99=percentile(lags, 0.99),
        lag_seconds_p50=statistics.median(waits),
        lag_seconds_p99=percentile(waits, 0.99),
        catch_up_seconds=None if caught is None else max(0.0, caught - ended),
    )


@dataclass
class HttpRun:
    commands_per_second: float
    latencies: list[float]  # ms, each measured request
    server_peak_kib: int
    follower: FollowerRun


def http_writes(
    url: str, clients: int, per_client: int, group_commit: bool, secret: str, run: str = "",
    projector_process: bool = True, extra_env: dict[str, str] | None = None,
) -> HttpRun:
    """Start a server on the bench store and register new teachers from `clients` threads
    (`run` tells the teacher numbers of one run from another's on the same store), sampling the
    read model's lag meanwhile and until it has caught up. `projector_process`: the read model is
    followed by `trainrec projections follow` (else by the server's own follower)."""
    port = 18000 + (1 if group_commit else 2)
    env = {**os.environ, "TRAINREC_DATABASE_URL": url, "TRAINREC_SECRET": secret,
           "TRAINREC_GROUP_COMMIT": "1" if group_commit else "0", "PYTHONPATH": str(ROOT), **(extra_env or {})}
    projector = None
    if projector_process:
        # The deployment README recommends on PostgreSQL: the read model followed by a process of its
        # own (`trainrec projections follow`), the same in both modes.
        env["TRAINREC_PROJECTOR"] = "separate"
        projector = subprocess.Popen([sys.executable, "-m", "service.cli", "projections", "follow"], env=env,
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        # It says it follows once it has applied the backlog (the import's events): only then is
        # either mode measured, so that neither shares the machine with that catch-up.
        assert projector.stdout is not None
        if "following" not in projector.stdout.readline():
            projector.kill()
            projector.wait()
            raise RuntimeError("the projector did not start")
    else:
        env.pop("TRAINREC_PROJECTOR", None)
    storage = storage_from_url(url)
    sampler = LagSampler.on(url.split("?")[0], storage.env.get("POSTGRES_SCHEMA") or "public")
    server = subprocess.Popen(
        # the server's own bounds (service/api/server.py), as `trainrec serve` runs it
        [sys.executable, "-m", "uvicorn", "service.api.asgi:app", "--port", str(port), "--log-level", "warning",
         "--http", "service.api.server:BoundedHttpToolsProtocol", "--no-server-header",
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
        sampler.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ended = time.perf_counter()
        if failures:
            raise RuntimeError(f"{len(failures)} clients failed, first: {failures[0]}")
        elapsed = ended - marks[0]
        peak = peak_rss_kib(server.pid)
        sampler.caught_up(CATCH_UP_WITHIN)
        sampler.stop()
        follower = follower_run(sampler.samples, marks[0], ended)
        return HttpRun(clients * per_client / elapsed, latencies, peak, follower)
    finally:
        sampler.stop()
        server.terminate()
        server.wait(timeout=30)
        if projector is not None:
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


def store_figures(app: TrainRec, pg: str, schema: str, n: int, saved: float, save_seconds: float,
                  total_seconds: float, import_peak: int, reads_only: bool = False) -> list[Figure]:
    """Everything but the HTTP runs: the import, the rebuild, the reads, `trainrec import` (not with
    `reads_only`), the disk. Closes `app`."""
    figures: list[Figure] = []
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
    figures += transparency_figures(app, total_seconds)
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
    figures += pdf_figures(app, teachers[:100], percentile(transcript, 0.99), timed, percentile, Figure)
    figures.append(Figure("county compliance read parsed into Python objects, p99, ms",
                          percentile(county_parsed, 0.99), "ms"))
    towns = sample([f"BT{t:03d}" for t in range(max(1, n // 50 // SCHOOLS_PER_TOWN))], 15)
    figures += page_figures(app, "BC", towns, schools, 2025, timed, percentile, Figure)
    figures += as_of_figures(app, schools)
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
    figures += verify_figures(app)
    figures += export_figures(app, schools)
    if reads_only:
        app.close()
        return figures
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
    return figures


def export_figures(app: TrainRec, schools: list[str]) -> list[Figure]:
    """`compliance.xlsx`: a school's and the county's workbook (every teacher behind each shortfall
    listed, where the JSON names 50), the county's once: it grows with the county's teachers."""
    school = timed([lambda s=s: app.compliance_xlsx(ADMIN, s, 2025) for s in schools[:10]])
    started = time.perf_counter()
    county = app.compliance_xlsx(ADMIN, "BC", 2025)
    county_seconds = time.perf_counter() - started
    return [Figure("school compliance.xlsx p50, ms", statistics.median(school), "ms"),
            Figure("county compliance.xlsx (once), s", county_seconds, "s"),
            Figure("  its size, KiB", len(county.content) / 1024, "KiB")]


def verify_figures(app: TrainRec) -> list[Figure]:
    """`/audit/verify`: the chains checked from the genesis (`full=true`), and the read model compared
    with a replay of the log (`scope=readmodel`: every table at one snapshot position; its cost grows
    with the whole log, which is why it is not the default scope: docs/decisions.md)."""
    started = time.perf_counter()
    chain = app.verify(ADMIN, full=True)
    chain_seconds = time.perf_counter() - started
    if not chain.ok:
        raise RuntimeError(f"the chains do not verify: {chain.first_broken}")
    started = time.perf_counter()
    checked = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    read_model_seconds = time.perf_counter() - started
    if not checked["ok"]:
        raise RuntimeError(f"the read model differs from the log: {checked['first_difference']}")
    events = max(1, checked["position"])
    return [
        Figure("audit verify, chains from the genesis (full=true), s", chain_seconds, "s"),
        Figure("audit verify, read model against a replay (scope=readmodel), s", read_model_seconds, "s"),
        Figure("  the same, per 1,000 events, ms", read_model_seconds * 1e6 / events, "ms"),
        Figure("  the same, rows compared", checked["rows"], "rows"),
    ]


INCLUSION_TARGET = 50.0  # ms, p99 (issue 22)


def transparency_figures(app: TrainRec, import_seconds: float) -> list[Figure]:
    """The transparency log after a bulk import: the follower's upkeep (extending the tree over every
    imported event, outside the import's transactions) beside the import's own time, then inclusion
    proofs of sampled events as `GET /api/v1/audit/events/{id}/proof` answers them."""
    started = time.perf_counter()
    size = app.transparency.tree.extend()
    upkeep = time.perf_counter() - started
    app.transparency.current()
    share = 100 * upkeep / import_seconds
    ids = [event_id(e.originator_id, e.originator_version) for e in
           notifications(app.recorder, sample(range(1, size + 1), min(300, size))).values()]
    proofs = timed([lambda i=i: app.audit_inclusion_proof(ADMIN, i, None) for i in ids])
    p99 = percentile(proofs, 0.99)
    return [
        Figure(f"checkpoint upkeep: tree extended over the {size:,} imported events, events/s", size / upkeep,
               "events/s"),
        Figure("  checkpoint upkeep, % of the bulk import's time (done by the follower, after it)", share, "%",
               target="≤ 10 %", met=share <= 10),
        Figure("inclusion proof p50, ms", statistics.median(proofs), "ms"),
        Figure("inclusion proof p99, ms", p99, "ms", target=f"≤ {INCLUSION_TARGET:g} ms", met=p99 <= INCLUSION_TARGET),
    ]


AS_OF_SCHOOL_TARGET = 250.0  # ms, p99 (issue 20)
AS_OF_COUNTY_TARGET = 2000.0  # ms, p99 (issue 20)
AS_OF_COUNTY_READS = 20


def as_of_instant(app: TrainRec) -> datetime:
    """The middle of the region's recorded history (from the first posting recorded to the last
    credit awarded): a report as it stood then differs from today's."""
    rows = app.read_model.db.query(f"SELECT (SELECT MIN(recorded_at) FROM {LIVE}postings), "
                                   f"(SELECT MAX(awarded_at) FROM {LIVE}credits)")
    first, last = (datetime.fromisoformat(str(value)) for value in rows[0])
    return first + (last - first) / 2


def as_of_figures(app: TrainRec, schools: list[str], county: str = "BC", year: int = 2025) -> list[Figure]:
    """Compliance `as_of` the middle of the recorded history, the schools of the school read and the
    county (as the API sends it), beside their targets. Checks first that the answer then is not
    today's (the measurement is of real history) and that the answer `as_of` now is today's."""
    middle = as_of_instant(app)
    for org_id in (schools[0], county):
        current = app.compliance(ADMIN, org_id, year)
        then = app.compliance(ADMIN, org_id, year, as_of=middle)
        now = app.compliance(ADMIN, org_id, year, as_of=datetime.now(tz=UTC))
        if then["figures"] == current["figures"]:
            raise RuntimeError(f"{org_id}'s figures as of {middle.isoformat()} are today's: no history measured")
        now.pop("as_of")
        if now != current:
            differing = sorted(key for key in {*now, *current} if now.get(key) != current.get(key))
            raise RuntimeError(f"{org_id}'s answer as of now is not today's answer (differs in {differing})")
    print(f"bench: compliance as of {middle.isoformat()}: differs from today's, as of now equals it", flush=True)
    school = timed([lambda s=s: app.compliance(ADMIN, s, year, as_of=middle) for s in schools])
    whole = timed([lambda: app.compliance_json(ADMIN, county, year, as_of=middle)
                   for _ in range(AS_OF_COUNTY_READS)])
    figures = []
    for label, values, target in (("school compliance read as_of a past instant", school, AS_OF_SCHOOL_TARGET),
                                  ("county compliance read as_of a past instant", whole, AS_OF_COUNTY_TARGET)):
        figures.append(Figure(f"{label} p50, ms", statistics.median(values), "ms"))
        p99 = percentile(values, 0.99)
        figures.append(Figure(f"{label} p99, ms", p99, "ms", target=f"≤ {target:g} ms", met=p99 <= target))
    return figures


def read_model_figures(label: str, run: FollowerRun) -> list[Figure]:
    """The read model during a run of HTTP writes, beside the rate the log grew at."""
    caught = run.catch_up_seconds
    return [
        Figure(f"read model during the HTTP writes ({label}), events applied/s", run.applied_per_second,
               "events/s", run.written_per_second, "events written/s"),
        Figure("  read-model lag p50, events (head - position, sampled every 0.1 s)", run.lag_events_p50, "events"),
        Figure("  read-model lag p99, events", run.lag_events_p99, "events"),
        Figure("  read-model lag p50, s (until the head of a sample is applied)", run.lag_seconds_p50, "s"),
        Figure("  read-model lag p99, s", run.lag_seconds_p99, "s", target="≤ 2 s", met=run.lag_seconds_p99 <= 2),
        Figure("  caught up after the writes stopped, s", caught if caught is not None else CATCH_UP_WITHIN, "s",
               target="≤ 5 s", met=caught is not None and caught <= 5),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, default=int(os.environ.get("N", "10000")))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=300, help="measured HTTP writes per client")
    parser.add_argument("--keep", action="store_true", help="keep the bench schema")
    parser.add_argument("--ignore-disk", action="store_true", help="run even if the disk looks too small")
    parser.add_argument("--projector", choices=("separate", "server"), default="separate",
                        help="who follows the log during the HTTP runs: `trainrec projections follow` (the "
                             "recommended deployment) or the server itself")
    parser.add_argument("--http-only", action="store_true",
                        help="load the region, then measure the HTTP runs only (a quick look: prints the "
                             "figures, does not write bench/RESULTS.md)")
    parser.add_argument("--reads-only", action="store_true",
                        help="load the region, rebuild the read model and measure the reads only (no `trainrec "
                             "import`, no HTTP runs); adds the rows bench/RESULTS.md lacks, keeps the others")
    args = parser.parse_args()
    pg = os.environ.get("TRAINREC_BENCH_POSTGRES_URL", DEFAULT_PG)
    with psycopg.connect(pg, autocommit=True) as conn:
        too_big = None if args.ignore_disk else disk_check(conn, args.teachers)
    if too_big is not None:
        print(f"bench: {too_big}", file=sys.stderr)
        return 2
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    # the signing keys of the bench's checkpoints: a folder of its own, not the user's data directory
    os.environ.setdefault("TRAINREC_DATA_DIR", tempfile.mkdtemp(prefix="trainrec-bench-keys-"))
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
        if args.http_only:
            app.close()
        else:
            figures += store_figures(app, pg, schema, n, saved, save_seconds, total_seconds, import_peak,
                                     reads_only=args.reads_only)
        if args.reads_only:
            return finish_reads_only(figures, n, saved)
        separate = args.projector == "separate"
        one = http_writes(url, args.clients, args.requests, False, secret, projector_process=separate)
        group = http_writes(url, args.clients, args.requests, True, secret, projector_process=separate)
        # the same writes with the follower not keeping the transparency log (TRAINREC_TLOG_UPKEEP=0)
        bare = http_writes(url, args.clients, args.requests, True, secret, run="T", projector_process=separate,
                           extra_env={"TRAINREC_TLOG_UPKEEP": "0"})
        figures.append(Figure(f"HTTP writes, {args.clients} clients, commands/s", group.commands_per_second, "cmd/s",
                              one.commands_per_second, "one commit per command", "≥ 3 × one-per-commit"))
        figures.append(Figure("HTTP write p50, ms (group commit)", statistics.median(group.latencies), "ms"))
        p99 = percentile(group.latencies, 0.99)
        figures.append(Figure("HTTP write p99, ms (group commit)", p99, "ms", target="≤ 100 ms", met=p99 <= 100))
        figures.append(Figure("HTTP write p99, ms (one commit per command)", percentile(one.latencies, 0.99), "ms"))
        figures.append(Figure("peak memory of the server, MiB", group.server_peak_kib / 1024, "MiB"))
        figures.append(Figure("HTTP writes with checkpoint upkeep (group commit), commands/s",
                              group.commands_per_second, "cmd/s", bare.commands_per_second,
                              "the same without it", "≥ 0.9 × without",
                              group.commands_per_second >= 0.9 * bare.commands_per_second))
        follower = "trainrec projections follow" if separate else "the server's own follower"
        for mode, measured in (("group commit", group), ("one commit per command", one)):
            figures += read_model_figures(f"{mode}, {follower}", measured.follower)
    finally:
        if not args.keep:
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    report(figures, n, saved, write=not args.http_only)
    return 0


def judge(figure: Figure) -> str:
    if figure.met is not None:
        return "met" if figure.met else "NOT met"
    if figure.target and figure.ratio() is not None:
        wanted = float(figure.target.split("×")[0].strip("≥ "))
        return "met" if (figure.ratio() or 0) >= wanted else "NOT met"
    return ""


def row(f: Figure, mark: str = "") -> str:
    ratio = f.ratio()
    baseline = f"{f.baseline:,.0f} ({f.baseline_name})" if f.baseline else ""
    return (f"| {f.name}{mark} | {f.value:,.1f} {f.unit} | {baseline} | "
            f"{'' if ratio is None else f'{ratio:.3f}' if ratio < 0.1 else f'{ratio:.2f}'} | {f.target} | "
            f"{judge(f)} |")


def report(figures: list[Figure], n: int, events: int, write: bool = True) -> None:
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
    lines += [row(f) for f in figures]
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        (ROOT / "bench" / "RESULTS.md").write_text(text, encoding="utf-8")


PARTIAL = " ‡"  # after the name of a row measured by a `--reads-only` run


def finish_reads_only(figures: list[Figure], n: int, events: int) -> int:
    print("\n".join(row(f) for f in figures))
    path = ROOT / "bench" / "RESULTS.md"
    if path.exists():
        path.write_text(merge_report(path.read_text(encoding="utf-8"), figures, n, events), encoding="utf-8")
    else:
        report(figures, n, events)
    return 0


def merge_report(text: str, figures: list[Figure], n: int, events: int) -> str:
    """RESULTS.md with the rows of a `--reads-only` run that a full run's table lacks (marked ‡, each
    after the row of the figure before it in the run), the earlier rows kept (a row marked ‡ by an
    earlier partial run is replaced), and one line saying when and at which N the marked rows were
    measured, with the same run's figures of the rows kept that have a target, for comparison."""
    lines = text.rstrip("\n").split("\n")

    def name(line: str) -> str | None:
        if not line.startswith("| ") or line.startswith(("| figure |", "|---")):
            return None
        return line[2:].split(" | ")[0].removesuffix(PARTIAL)

    full = {name(line) for line in lines if name(line) is not None and not line.split(" | ")[0].endswith(PARTIAL)}
    lines = [line for line in lines if not line.startswith("- rows marked ‡") and
             (name(line) is None or name(line) in full)]
    previous = None
    for f in figures:
        if f.name in full:
            previous = f.name
            continue
        after = next((i for i, line in enumerate(lines) if name(line) == previous), None)
        if after is None:  # the first of the run's figures the table lacks: at the table's end
            after = len(lines) - 1
        lines.insert(after + 1, row(f, PARTIAL))
        previous = f.name
    compared = "; ".join(f"{f.name} {f.value:,.1f} {f.unit}" for f in figures if f.name in full and f.met is not None)
    note = (f"- rows marked ‡: from a reads-only run (`python -m bench.run --reads-only`) on "
            f"{datetime.now(tz=UTC).isoformat(timespec='seconds')} at N={n} teachers, {events} events; "
            f"the other rows are the full run's. The same reads-only run measured: {compared}")
    header_end = next(i for i, line in enumerate(lines) if line.startswith("- command:"))
    lines.insert(header_end + 1, note)
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    sys.exit(main())
