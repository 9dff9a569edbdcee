"""The processes a drill runs and kills: `trainrec serve` and `trainrec projections follow`."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from drills.cluster import free_port

ROOT = Path(__file__).resolve().parent.parent


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", *self.args], env=self.env, cwd=ROOT,
                                     stdout=handle, stderr=subprocess.STDOUT)
        handle.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def drill_env(database_url: str, secret: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TRAINREC_DATABASE_URL": database_url, "TRAINREC_SECRET": secret,
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


class Server(Process):
    def __init__(self, env: dict[str, str], log: Path, *flags: str) -> None:
        self.port = free_port()
        super().__init__(["serve", "--host", "127.0.0.1", "--port", str(self.port), *flags], env, log)

    def start(self, wait: float = 60) -> None:
        super().start()
        self.wait_live(wait)

    def wait_live(self, wait: float = 60) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log}")
            try:
                status, _, _ = self.call("GET", "/healthz/live", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"the server did not answer within {wait} s; see {self.log}")

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, dict[str, str], Any]:
        """One request on a connection of its own: (status, headers, decoded JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
            sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            answer: Any
            try:
                answer = json.loads(raw) if raw else None
            except ValueError:
                answer = raw.decode(errors="replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        finally:
            conn.close()

    def health(self) -> dict[str, Any]:
        _, _, body = self.call("GET", "/healthz", timeout=5)
        assert isinstance(body, dict)
        return body


class FollowerProcess(Process):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(["projections", "follow"], env, log)
