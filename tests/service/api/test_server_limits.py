"""The server's bounds (service/api/server.py), on a real `trainrec serve` in a subprocess, spoken to
over raw sockets: head size and field count (431), head and body time (408), idle connections
closed, the connection cap (503), the open-file limit raised, memory that does not grow."""

from __future__ import annotations

import json
import os
import re
import resource
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest

from service.api.server import BoundedHttpToolsProtocol, HttpLimits, connection_cap
from service.auth.tokens import issue_token
from tests.conftest import ADMIN
from tests.service.api.conftest import SECRET

ROOT = Path(__file__).resolve().parents[3]
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1.0
MAX_CONNECTIONS = 8
MAX_HEADER_BYTES = 16_384
MAX_HEADERS = 100
LOW_FILE_LIMIT = 256  # the server starts with this soft limit on open files, and raises it
TOKEN = issue_token(SECRET, ADMIN)
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def status(self, key: str) -> int:
        """A field of /proc/<pid>/status, in kB (VmRSS, VmHWM)."""
        text = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        found = re.search(rf"^{key}:\s+(\d+) kB$", text, re.M)
        assert found is not None
        return int(found[1])

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=data,
                               headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def logged(self) -> str:
        return self.log.read_text(encoding="utf-8")


def _lower_file_limit() -> None:  # in the server's process, before it starts
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(LOW_FILE_LIMIT, hard), hard))


def _wait_for(condition: Any, timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `condition` until it gives something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(every)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    log = folder / "server.log"
    env = {**os.environ, "TRAINREC_DATABASE_URL": f"sqlite:///{folder / 'trainrec.db'}", "TRAINREC_SECRET": SECRET,
           "TRAINREC_DATA_DIR": str(folder), "PYTHONPATH": str(ROOT),
           # some bounds from the environment, the others from flags
           "TRAINREC_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "TRAINREC_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", "0", "--body-timeout", str(BODY_TIMEOUT),
             "--keep-alive-timeout", str(KEEP_ALIVE_TIMEOUT), "--max-header-bytes", str(MAX_HEADER_BYTES),
             "--max-headers", str(MAX_HEADERS)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_lower_file_limit)
    try:
        started = _wait_for(lambda: process.poll() is not None or re.search(
            r"running on http://127\.0\.0\.1:(\d+)", log.read_text(encoding="utf-8")), 60, "the server starts")
        assert process.poll() is None, log.read_text(encoding="utf-8")
        yield Server(process, int(started[1]), log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _read_answer(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, closed after it) of one answer on `sock`."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    closed = False
    if headers.get("connection") == "close":
        try:
            closed = sock.recv(1) == b""
        except ConnectionResetError:  # closed while bytes the client sent were unread: the kernel resets
            closed = True
    return int(lines[0].split(" ")[1]), headers, body, closed


def _closed_within(sock: socket.socket, timeout: float) -> float:
    """Seconds until the server closes `sock` (it sends nothing before)."""
    started = time.monotonic()
    sock.settimeout(timeout)
    assert sock.recv(65536) == b""
    return time.monotonic() - started


def _refused_in_log(server: Server, sock: socket.socket, what: str) -> None:
    peer = "%s:%d" % sock.getsockname()  # noqa: UP031 - as the server logs it
    _wait_for(lambda: f"refused {peer}: {what}" in server.logged(), 5, f"'refused {peer}: {what}' in the log")


# --- the open-file limit ------------------------------------------------------------------------------
def test_the_server_raises_its_open_file_limit_to_the_hard_limit(server: Server) -> None:
    """Was a problem: 1,000 idle sockets with the default limit of 1,024 files made every probe fail."""
    limits = Path(f"/proc/{server.process.pid}/limits").read_text(encoding="ascii")
    found = re.search(r"^Max open files\s+(\d+)\s+(\d+)\s+files", limits, re.M)
    assert found is not None
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert (int(found[1]), int(found[2])) == (hard, hard)


# --- the size of a head ------------------------------------------------------------------------------------
def test_a_head_over_the_size_limit_is_431_and_the_connection_closed(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 15_000 + b"\r\n\r\n")
        status, headers, _, _ = _read_answer(sock)
        assert status == 200
        assert "server" not in headers  # no banner
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        status, headers, body, closed = _read_answer(sock)
        assert status == 431
        assert headers["content-type"] == "application/problem+json"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        assert json.loads(body) == {"type": "urn:trainrec:problem:request_header_fields_too_large",
                                    "title": "Request header fields too large", "status": 431,
                                    "detail": "the request head is over 16384 bytes",
                                    "code": "request_header_fields_too_large"}
        assert closed
        _refused_in_log(server, sock, "431 (head over the size limit)")


def test_a_request_that_is_not_http_is_a_problem_400_with_the_security_headers(server: Server) -> None:
    """uvicorn's own answer was plain text without the headers: now as every other refusal."""
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")  # a field line without its colon
        status, headers, body, closed = _read_answer(sock)
        assert status == 400
        assert headers["content-type"] == "application/problem+json"
        assert headers["x-content-type-options"] == "nosniff"
        assert json.loads(body)["code"] == "bad_request"
        assert closed
        _refused_in_log(server, sock, "400 (not valid HTTP)")


def test_more_header_fields_than_the_limit_is_431(server: Server) -> None:
    fields = b"".join(b"X-%d: 1\r\n" % n for n in range(MAX_HEADERS))  # with Host: 101 fields
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields[: fields.rindex(b"X-99")] + b"\r\n")  # 100
        assert _read_answer(sock)[0] == 200
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
        status, _, body, closed = _read_answer(sock)
        assert status == 431
        assert json.loads(body)["detail"] == "the request has more than 100 header fields"
        assert closed
        _refused_in_log(server, sock, "431 (too many header fields)")


def test_unfinished_64_mb_heads_on_4_connections_do_not_grow_the_server(server: Server) -> None:
    """Was a problem: each connection's unfinished header was kept whole (187 MB → 442 MB). Now each is
    cut off after 16 KiB (and at most one read of 256 KiB)."""
    peak_before = server.status("VmHWM")
    sent = [0] * 4
    megabyte = b"a" * (1 << 20)

    def flood(n: int) -> None:
        with server.connect() as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Flood: ")
            try:
                for _ in range(64):
                    sock.sendall(megabyte)
                    sent[n] += len(megabyte)
            except OSError:  # the server closed the connection
                return

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(s < 64 * (1 << 20) for s in sent), f"a connection took the whole 64 MB: {sent}"
    growth = server.status("VmHWM") - peak_before
    assert growth < 16 * 1024, f"the server's peak memory grew by {growth} kB"  # not 4 × 64 MB = 262,144 kB
    assert server.request("GET", "/healthz")[0] == 200


# --- time ----------------------------------------------------------------------------------------------
def test_a_slowloris_head_is_408_after_the_header_timeout(server: Server) -> None:
    """One byte of the head every 0.5 s: answered 408 and closed once the head has had 2 s."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    with server.connect() as sock:
        started = time.monotonic()
        for byte in head:
            sock.sendall(bytes([byte]))
            readable, _, _ = select.select([sock], [], [], 0.5)  # the trickle's pace, or the answer
            if readable:
                break
        else:
            pytest.fail("the server took the whole slow head")
        status, _, body, closed = _read_answer(sock)
        elapsed = time.monotonic() - started
        assert status == 408
        assert json.loads(body)["detail"] == "the request head did not arrive within 2 s"
        assert closed
        assert HEADER_TIMEOUT - 0.1 < elapsed < HEADER_TIMEOUT + 1.5, elapsed
        _refused_in_log(server, sock, "408 (head not complete within 2 s)")


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server: Server) -> None:
    with server.connect() as sock:
        elapsed = _closed_within(sock, 10)
        assert HEADER_TIMEOUT - 0.1 < elapsed < HEADER_TIMEOUT + 1.5, elapsed
        _refused_in_log(server, sock, "closed (no request within 2 s)")


def test_a_kept_alive_connection_is_closed_after_the_keep_alive_timeout(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _, _ = _read_answer(sock)
        assert status == 200
        assert "connection" not in headers  # kept alive
        elapsed = _closed_within(sock, 10)
        assert KEEP_ALIVE_TIMEOUT - 0.1 < elapsed < KEEP_ALIVE_TIMEOUT + 1.5, elapsed


def test_a_body_trickled_too_slowly_is_408_and_records_nothing(server: Server) -> None:
    """The whole JSON arrives at once, the rest of the declared body never does: answered 408 and
    closed after 1 s, and the command never runs on the part that came (it is valid JSON)."""
    for org_id, body in (("C1", {"name": "示范县", "kind": "county"}),
                         ("T1", {"name": "城关镇", "kind": "town", "parent_id": "C1"}),
                         ("S1", {"name": "城关第一小学", "kind": "school", "parent_id": "T1"})):
        assert server.request("PUT", f"/api/v1/orgs/{org_id}", body)[0] in (200, 201)
    events = server.request("GET", "/healthz")[1]["events"]
    payload = json.dumps({"teacher_no": "N001", "name": "孙悦", "school_id": "S1"}).encode()
    with server.connect() as sock:
        sock.sendall(b"POST /api/v1/teachers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + AUTH
                     + b"Content-Length: %d\r\n\r\n" % (len(payload) + 20) + payload)
        started = time.monotonic()
        for _ in range(20):  # one space every 0.5 s: 10 s for the 20 the head announced
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                break
            sock.sendall(b" ")
        else:
            pytest.fail("the server took the whole slow body")
        status, _, body, closed = _read_answer(sock)
        elapsed = time.monotonic() - started
        assert status == 408
        assert json.loads(body)["detail"] == "the request body did not arrive within 1 s"
        assert closed
        assert elapsed < BODY_TIMEOUT + 1.5, elapsed
        _refused_in_log(server, sock, "408 (body not complete within 1 s)")
    assert server.request("GET", "/healthz")[1]["events"] == events
    assert server.request("GET", "/api/v1/teachers/N001/history")[0] == 404


# --- the connection cap ------------------------------------------------------------------------------------
def test_connections_over_the_cap_get_503_and_requests_answer_once_the_idle_ones_are_gone(server: Server) -> None:
    """8 connections may be open; a request on a 9th is 503. Idle ones are closed after the header
    timeout, and then requests are answered again."""
    _wait_for(lambda: server.request("GET", "/healthz")[0] == 200, 10, "connections of earlier tests are gone")
    idle = [server.connect() for _ in range(MAX_CONNECTIONS - 1)]
    try:
        with server.connect() as probe:  # the 8th
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert _read_answer(probe)[0] == 200
        idle.append(server.connect())  # 8 idle
        with server.connect() as probe:  # the 9th
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body, closed = _read_answer(probe)
            assert status == 503
            assert headers["retry-after"] == "1"
            assert json.loads(body)["code"] == "server_busy"
            assert closed
            _refused_in_log(server, probe, "503 (over the cap of 8 connections)")
        # the idle connections are closed after the header timeout; requests are answered again
        assert _wait_for(lambda: server.request("GET", "/healthz")[0] == 200, HEADER_TIMEOUT + 5,
                         "a request answered once the idle connections are closed")
        for sock in idle:
            sock.settimeout(HEADER_TIMEOUT + 5)
            assert sock.recv(1) == b""
    finally:
        for sock in idle:
            sock.close()


# --- configuration ---------------------------------------------------------------------------------------
def test_bounds_come_from_flags_then_the_environment_then_the_defaults() -> None:
    environ = {"TRAINREC_HTTP_HEADER_TIMEOUT": "2.5", "TRAINREC_HTTP_MAX_CONNECTIONS": "300",
               "TRAINREC_HTTP_MAX_HEADERS": " "}
    limits = HttpLimits.configured(environ, max_connections=50, body_timeout=None)
    assert limits == HttpLimits(max_header_bytes=16_384, max_headers=100, header_timeout=2.5, body_timeout=30.0,
                                keep_alive_timeout=5.0, max_connections=50)


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--header-timeout", "0"], {}, "TRAINREC_HTTP_HEADER_TIMEOUT must be a number above 0, not 0.0"),
        ([], {"TRAINREC_HTTP_MAX_CONNECTIONS": "many"}, "TRAINREC_HTTP_MAX_CONNECTIONS must be a whole number, "
                                                        "not 'many'"),
        ([], {"TRAINREC_HTTP_BODY_TIMEOUT": "inf"}, "TRAINREC_HTTP_BODY_TIMEOUT must be a number above 0, not inf"),
        (["--max-header-bytes", "-1"], {}, "TRAINREC_HTTP_MAX_HEADER_BYTES must be a whole number above 0, not -1"),
    ],
)
def test_unusable_bounds_stop_serve_with_a_message(argv: list[str], environ: dict[str, str], message: str,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli.main import main

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *argv]) == 2
    assert capsys.readouterr().err == f"trainrec: {message}\n"


def test_the_connection_cap_leaves_files_free_under_the_open_file_limit() -> None:
    assert connection_cap(HttpLimits(max_connections=1000), 1024).max_connections == 960  # 1024 − 64
    assert connection_cap(HttpLimits(max_connections=1000), 20_000).max_connections == 1000


def test_serve_runs_uvicorn_with_the_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from service.api.server import serve

    given: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: given.update(options))
    limits = HttpLimits(keep_alive_timeout=2.5, max_connections=40, max_header_bytes=8192)
    serve(object(), "127.0.0.1", 8000, limits)
    assert given["server_header"] is False
    assert given["timeout_keep_alive"] == 3  # whole seconds for uvicorn; the protocol keeps 2.5
    assert given["limit_concurrency"] == 41
    assert given["h11_max_incomplete_event_size"] == 8192
    assert issubclass(given["http"], BoundedHttpToolsProtocol)
    assert given["http"].limits == limits
