"""Load that a drill can count: writers whose every write carries an Idempotency-Key and is sent
again, with the same key, until it is answered (through kills, restarts and outages), and probes
that time small requests while the drill does its damage."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drills.world import SCHOOL


@dataclass
class Outcome:
    keys: list[str] = field(default_factory=list)  # every key that was answered 2xx
    replayed: int = 0  # answers that said Idempotent-Replayed: the first try had been recorded
    retries: int = 0  # sends that had no answer, or a 503, and were sent again
    unexpected: list[str] = field(default_factory=list)  # any other answer: a drill failure


class Writers:
    """`clients` threads, each registering `per_client` teachers, key = teacher number."""

    def __init__(self, port_of: Callable[[], int], token: str, clients: int, per_client: int, tag: str,
                 give_up_after: float = 120) -> None:
        self.port_of = port_of
        self.token = token
        self.clients = clients
        self.per_client = per_client
        self.tag = tag
        self.give_up_after = give_up_after
        self.outcome = Outcome()
        self.done = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(c,), daemon=True) for c in range(clients)]

    @property
    def expected(self) -> int:
        return self.clients * self.per_client

    def start(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def wait_done(self, fraction: float, timeout: float = 120) -> None:
        """Until `fraction` of the writes are answered."""
        deadline = time.monotonic() + timeout
        while self.done < fraction * self.expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.done} of {self.expected} writes answered")
            time.sleep(0.05)

    def join(self, timeout: float = 300) -> Outcome:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), "writers still running"
        return self.outcome

    def _client(self, c: int) -> None:
        for i in range(self.per_client):
            key = f"{self.tag}{c:02d}{i:05d}"
            body = {"teacher_no": key, "name": "演练教师", "school_id": SCHOOL}
            self._until_answered(key, body)

    def _until_answered(self, key: str, body: dict[str, Any]) -> None:
        started = time.monotonic()
        wait = 0.05
        while True:
            status, replayed, text = _post(self.port_of(), "/api/v1/teachers", body,
                                           {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key})
            if status in (200, 201):
                with self._lock:
                    self.outcome.keys.append(key)
                    self.outcome.replayed += int(replayed)
                    self.done += 1
                return
            if status not in (None, 502, 503, 504):
                with self._lock:
                    self.outcome.unexpected.append(f"{key}: {status} {text[:200]}")
                    self.done += 1
                return
            with self._lock:
                self.outcome.retries += 1
            if time.monotonic() - started > self.give_up_after:
                with self._lock:
                    self.outcome.unexpected.append(f"{key}: no answer within {self.give_up_after} s")
                    self.done += 1
                return
            time.sleep(wait)
            wait = min(wait * 2, 1.0)


def _post(port: int, path: str, body: Any, headers: dict[str, str]) -> tuple[int | None, bool, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body, ensure_ascii=False).encode(),
                     headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        return response.status, response.getheader("Idempotent-Replayed") == "true", text
    except (OSError, http.client.HTTPException):
        return None, False, ""
    finally:
        conn.close()


@dataclass
class Sample:
    at: float  # monotonic
    seconds: float
    status: int | None  # None: no answer (refused, reset, timed out)
    code: str | None
    retry_after: str | None


class Probe:
    """One request again and again from a thread, each on a new connection, timed."""

    def __init__(self, port_of: Callable[[], int], method: str, path: str, *, token: str | None = None,
                 body: Callable[[int], Any] | None = None, every: float = 0.1, timeout: float = 10) -> None:
        self.port_of = port_of
        self.method = method
        self.path = path
        self.token = token
        self.body = body
        self.every = every
        self.timeout = timeout
        self.samples: list[Sample] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Probe:
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stopping.set()
        self._thread.join(self.timeout + 5)
        return self.samples

    def _run(self) -> None:
        n = 0
        while not self._stopping.is_set():
            n += 1
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            data = json.dumps(self.body(n), ensure_ascii=False).encode() if self.body else None
            if data is not None:
                headers["Content-Type"] = "application/json"
            started = time.monotonic()
            status: int | None = None
            code = retry_after = None
            conn = http.client.HTTPConnection("127.0.0.1", self.port_of(), timeout=self.timeout)
            try:
                conn.request(self.method, self.path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
                if status >= 400 and raw:
                    try:
                        code = json.loads(raw).get("code")
                    except ValueError:
                        code = None
            except (OSError, http.client.HTTPException):
                status = None
            finally:
                conn.close()
            self.samples.append(Sample(started, time.monotonic() - started, status, code, retry_after))
            self._stopping.wait(self.every)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if p < 100 else max(values)
