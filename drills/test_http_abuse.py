"""Slowloris, idle sockets up to the connection cap, and oversized heads: the server stays up, its
memory stays bounded, and a probe keeps being answered (or refused at once, never left hanging)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

from drills.conftest import scale
from drills.load import Probe, percentile
from drills.server import Server

HEADER_TIMEOUT = 3  # seconds (the default is 10: the drills keep it short to stay short)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server answered (408/503) and closed, or just closed, within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True  # reset
    return True


def test_slowloris(env: dict[str, str], admin_token: str, logs: Path, figures: dict[str, Any]) -> None:
    server = Server({**env, "TRAINREC_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}, logs / "server.log")
    server.start()
    count = int(scale(500, 150))
    slow = [_connect(server.port) for _ in range(count)]
    stopping = threading.Event()

    def trickle() -> None:  # one header byte per connection per 0.5 s, never the end of the head
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while not stopping.wait(0.5):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")

    trickler = threading.Thread(target=trickle, daemon=True)
    started = time.monotonic()
    trickler.start()
    probe = Probe(lambda: server.port, "GET", "/api/v1/teachers/NONE/transcript", token=admin_token,
                  every=0.05).start()
    try:
        closed = [_closed_by_server(sock, HEADER_TIMEOUT + 3) for sock in slow]
        closed_after = time.monotonic() - started
        time.sleep(0.5)
        samples = probe.stop()
    finally:
        stopping.set()
        for sock in slow:
            sock.close()
        server.stop()
    seconds = [s.seconds for s in samples]
    figures["slow_connections"] = count
    figures["closed_by_server"] = sum(closed)
    figures["all_closed_after_seconds"] = closed_after
    figures["probes"] = len(samples)
    figures["probe_p99_seconds"] = percentile(seconds, 99)
    assert all(closed), f"{closed.count(False)} slow connections still open after {HEADER_TIMEOUT + 3} s"
    assert {s.status for s in samples} == {404}, {s.status for s in samples}  # answered, every one
    assert percentile(seconds, 99) < 0.5


def test_idle_sockets_up_to_the_cap(env: dict[str, str], admin_token: str, logs: Path,
                                    figures: dict[str, Any]) -> None:
    cap = int(scale(1000, 200))
    server = Server({**env, "TRAINREC_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
                     "TRAINREC_HTTP_MAX_CONNECTIONS": str(cap)}, logs / "server.log")
    server.start()
    idle = [_connect(server.port) for _ in range(cap + 50)]  # more than the cap, sending nothing
    opened = time.monotonic()
    probe = Probe(lambda: server.port, "GET", "/healthz/live", every=0.05, timeout=5).start()
    try:
        time.sleep(HEADER_TIMEOUT + 2)
        samples = probe.stop()
        reaped = [_closed_by_server(sock, 0.5) for sock in idle]
    finally:
        for sock in idle:
            sock.close()
        server.stop()
    # while the idle sockets fill the cap, a probe is refused at once (503) or answered; never hangs;
    # once the head timeout reaps them, it is answered
    answered_after = min((s.at - opened for s in samples if s.status == 200), default=None)
    figures["idle_sockets"] = len(idle)
    figures["idle_sockets_closed_by_server"] = sum(reaped)
    figures["probe_max_seconds"] = max(s.seconds for s in samples)
    figures["probes_refused_503"] = sum(1 for s in samples if s.status == 503)
    figures["answered_again_after_seconds"] = answered_after
    assert all(reaped), f"{reaped.count(False)} idle sockets still open"
    assert {s.status for s in samples} <= {200, 503}, {s.status for s in samples}
    assert max(s.seconds for s in samples) < 1.0
    assert answered_after is not None
    assert answered_after < HEADER_TIMEOUT + 1.5
    assert samples[-1].status == 200


def test_big_headers(env: dict[str, str], admin_token: str, logs: Path, figures: dict[str, Any]) -> None:
    server = Server(env, logs / "server.log")
    server.start()
    time.sleep(0.5)
    before = server.rss_mb()
    answers: list[bytes] = []
    peak = [before]

    def flood() -> None:  # 64 MB of one unfinished header, or as much as the server takes
        sock = _connect(server.port)
        chunk = b"X-Big: " + b"a" * (1 << 20)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(64):
                sock.sendall(chunk)
                peak.append(server.rss_mb())
        except OSError:
            pass
        try:
            answers.append(sock.recv(200))
        except OSError:
            answers.append(b"")
        sock.close()

    probe = Probe(lambda: server.port, "GET", "/healthz/live", every=0.05).start()
    floods = [threading.Thread(target=flood) for _ in range(4)]
    for thread in floods:
        thread.start()
    for thread in floods:
        thread.join(60)
    samples = probe.stop()
    after = server.rss_mb()
    server.stop()
    figures["rss_before_mb"] = before
    figures["rss_peak_mb"] = max(peak)
    figures["rss_after_mb"] = after
    figures["answers"] = sorted({a.split(b"\r\n")[0].decode(errors="replace") for a in answers})
    assert max(peak) - before < 30, f"memory grew {max(peak) - before:.0f} MB"
    assert all(a.startswith(b"HTTP/1.1 431") or a == b"" for a in answers), answers
    assert all(s.status == 200 for s in samples)
