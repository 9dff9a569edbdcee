"""The HTTP server: uvicorn, with bounds on what a connection may hold and for how long.

uvicorn (httptools) sets no limit on the size of a request head and no time limit before the first
request: four connections each sending an unfinished 64 MB header took a server from 187 to 442 MB,
and 1,000 idle sockets used up the 1,024 files a process may open, so every probe failed. Here:

- uvicorn's own options: a keep-alive timeout, a cap on connections (`limit_concurrency`), no
  `server` banner, the h11 head limit (should h11 be chosen);
- `BoundedHttpToolsProtocol`, uvicorn's httptools protocol with what it lacks: a cap on the size
  of the request head (431) and on its number of fields (431), a time limit for the whole head to
  arrive from the connection's start or the request's first byte (408; a connection that sent
  nothing is closed), a time limit for the body to arrive after its head (408), and the
  connection cap answered as a problem (503, `Retry-After`). Each refusal is logged (warning)
  with the peer and the reason, and the connection closed;
- at start, the soft limit on open files raised to the hard one.

Every bound is configurable (`HttpLimits`: `TRAINREC_HTTP_*` or `trainrec serve` flags;
docs/operations.md). `uvicorn service.api.asgi:app --http service.api.server:BoundedHttpToolsProtocol`
applies the same bounds, read from the environment.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import math
import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import httptools
import uvicorn
from starlette.responses import Response
from uvicorn.config import LOGGING_CONFIG, Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from service.api import problems
from service.api.headers import API_CSP, EVERY_ANSWER, NO_STORE

log = logging.getLogger("trainrec.server")

FILES_KEPT_FREE = 64  # open files left for the store, logs and the rest when the connections are at the cap


class LimitsError(ValueError):
    """A bound that cannot be used."""


@dataclass(frozen=True)
class HttpLimits:
    """The bounds on each connection, and on how many there are (docs/operations.md)."""

    max_header_bytes: int = 16 * 1024  # the request line and header fields
    max_headers: int = 100  # header fields
    header_timeout: float = 10.0  # seconds for the whole head, from the connection or the request's first byte
    body_timeout: float = 30.0  # seconds for the whole body, from the end of its head
    keep_alive_timeout: float = 5.0  # seconds a connection may idle between requests
    max_connections: int = 1000  # open at once; a request on any further one is 503

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            kinds = (int,) if field.type == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not 0 < value < math.inf:
                whole = "whole " if field.type == "int" else ""
                msg = f"{ENVIRONMENT[field.name]} must be a {whole}number above 0, not {value!r}"
                raise LimitsError(msg)

    @classmethod
    def configured(cls, environ: Mapping[str, str], **given: float | None) -> HttpLimits:
        """The bounds `given` (flags of `trainrec serve`), else in `environ`, else the defaults."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            value = given.get(field.name)
            raw = environ.get(ENVIRONMENT[field.name], "").strip()
            if value is None and raw:
                number = int if field.type == "int" else float
                try:
                    value = number(raw)
                except ValueError:
                    msg = f"{ENVIRONMENT[field.name]} must be a {'whole ' if number is int else ''}number, not {raw!r}"
                    raise LimitsError(msg) from None
            if value is not None:
                values[field.name] = value
        return cls(**values)


ENVIRONMENT = {
    "max_header_bytes": "TRAINREC_HTTP_MAX_HEADER_BYTES",
    "max_headers": "TRAINREC_HTTP_MAX_HEADERS",
    "header_timeout": "TRAINREC_HTTP_HEADER_TIMEOUT",
    "body_timeout": "TRAINREC_HTTP_BODY_TIMEOUT",
    "keep_alive_timeout": "TRAINREC_HTTP_KEEP_ALIVE_TIMEOUT",
    "max_connections": "TRAINREC_HTTP_MAX_CONNECTIONS",
}


@functools.cache
def environment_limits() -> HttpLimits:
    return HttpLimits.configured(os.environ)


class _Refused(Exception):
    """Stops httptools inside a callback; the refusal to answer is on the protocol."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounds on the request head, its time, the body's time and
    the number of connections. `limits` None: `HttpLimits` from the environment."""

    limits: ClassVar[HttpLimits | None] = None

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.bounds = type(self).limits or environment_limits()
        self.timeout_keep_alive = self.bounds.keep_alive_timeout  # type: ignore[assignment]
        self.limit_concurrency = None  # the cap is checked in on_headers_complete, answered as a problem
        self.reading_head = True  # between requests, or within a request's head
        self.head_begun = False  # a byte of the next request has arrived
        self.head_bytes = 0  # bytes of chunks that ended within the head
        self.head_size = 0  # the URL and the header fields parsed so far
        self.head_fields = 0
        self.heads_completed = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.refusal: tuple[Response, str] | None = None

    # --- the connection ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a connection that sends nothing is closed when it runs out

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        in_head = self.reading_head
        if in_head and data:
            self.head_begun = True
            if self.head_timer is None:  # the first byte of a request on a kept-alive connection
                self._arm_head_timer()
        completed = self.heads_completed
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(*self.refusal)
                return
            self._refuse(problems.problem(400, "bad_request", "the request is not valid HTTP/1.1"),
                         "not valid HTTP")
            return
        if in_head and self.reading_head and completed == self.heads_completed:
            # the whole chunk is head still unparsed (httptools holds a field until it ends)
            self.head_bytes += len(data)
            if self.head_bytes > self.bounds.max_header_bytes:
                self._refuse(problems.problem(431, "request_header_fields_too_large",
                                              f"the request head is over {self.bounds.max_header_bytes} bytes"),
                             "head over the size limit")

    # --- parser callbacks -------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_size = 0
        self.head_fields = 0

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        self._check_head_size()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_fields += 1
        self.head_size += len(name) + len(value) + 4  # ": " and CRLF
        if self.head_fields > self.bounds.max_headers:
            self.refusal = (problems.problem(431, "request_header_fields_too_large",
                                             f"the request has more than {self.bounds.max_headers} header fields"),
                            "too many header fields")
            raise _Refused
        self._check_head_size()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.heads_completed += 1
        self.head_bytes = 0
        self._cancel_head_timer()
        if len(self.connections) > self.bounds.max_connections:
            response = problems.problem(503, "server_busy", "the server is at its connection limit; retry shortly")
            response.headers["Retry-After"] = "1"
            self.refusal = (response, f"over the cap of {self.bounds.max_connections} connections")
            raise _Refused
        super().on_headers_complete()
        self.body_timer = self.loop.call_later(self.bounds.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        self.reading_head = True
        self.head_begun = False
        self.head_bytes = 0

    def _check_head_size(self) -> None:
        if self.head_size > self.bounds.max_header_bytes:
            self.refusal = (problems.problem(431, "request_header_fields_too_large",
                                             f"the request head is over {self.bounds.max_header_bytes} bytes"),
                            "head over the size limit")
            raise _Refused

    # --- timers -----------------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self.head_timer = self.loop.call_later(self.bounds.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if not self.reading_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # still answering the request before: the next one waits for it
            return
        if not self.head_begun:
            self._refuse(None, f"no request within {self.bounds.header_timeout:g} s")
            return
        self._refuse(problems.problem(408, "request_timeout",
                                      f"the request head did not arrive within {self.bounds.header_timeout:g} s"),
                     f"head not complete within {self.bounds.header_timeout:g} s")

    def _body_timed_out(self) -> None:
        self.body_timer = None
        if self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        self._refuse(problems.problem(408, "request_timeout",
                                      f"the request body did not arrive within {self.bounds.body_timeout:g} s"),
                     f"body not complete within {self.bounds.body_timeout:g} s")

    # --- refusing ---------------------------------------------------------------------------------
    def _refuse(self, response: Response | None, reason: str) -> None:
        """Answer `response` (None: nothing) if no answer has begun, and close the connection. The
        request's application, if it runs, sees a disconnect: nothing of a partial body is used."""
        self._cancel_timers()
        self.refusal = None
        peer = "%s:%d" % self.client if self.client else "unknown peer"  # noqa: UP031 - as uvicorn logs peers
        status = response.status_code if response is not None else "closed"
        log.warning("refused %s: %s (%s)", peer, status, reason)
        answering = self.cycle is not None and not self.cycle.response_complete
        if answering and self.cycle.response_started:
            response = None  # too late to answer: only close
        if answering:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if response is not None and not self.transport.is_closing():
            self.transport.write(_raw(response, self.server_state.default_headers))
        self.transport.close()


def _raw(response: Response, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A refusal as bytes: the problem, its headers, the security headers, and `connection: close`."""
    headers = [*default_headers, *response.raw_headers,
               *((name.encode(), value.encode()) for name, value in EVERY_ANSWER.items()),
               (b"content-security-policy", API_CSP.encode()), (b"cache-control", NO_STORE.encode()),
               (b"connection", b"close")]
    lines = [STATUS_LINE[response.status_code], *(name + b": " + value + b"\r\n" for name, value in headers), b"\r\n"]
    return b"".join(lines) + bytes(response.body)


# --- serving ----------------------------------------------------------------------------------------
def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit where the system allows;
    return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            log.warning("open files stay limited to %d: %s", soft, error)
    return soft


def connection_cap(limits: HttpLimits, open_files: int) -> HttpLimits:
    """`limits`, with the connection cap lowered to leave FILES_KEPT_FREE of `open_files` free."""
    room = open_files - FILES_KEPT_FREE
    if open_files == resource.RLIM_INFINITY or limits.max_connections <= room:
        return limits
    lowered = max(room, 1)
    log.warning("at most %d connections (not %d): this process may open %d files", lowered,
                limits.max_connections, open_files)
    return replace(limits, max_connections=lowered)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the `trainrec` loggers written beside uvicorn's."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["trainrec"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def serve(app: Any, host: str, port: int, limits: HttpLimits, log_level: str = "info") -> None:
    """Serve `app` with uvicorn under `limits`, until interrupted."""
    limits = connection_cap(limits, raise_open_file_limit())
    protocol = type("BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), {"limits": limits})
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, log_config=log_config(),
        http=protocol,
        server_header=False,
        timeout_keep_alive=math.ceil(limits.keep_alive_timeout),  # the protocol keeps the exact value
        limit_concurrency=limits.max_connections + 1,  # the same cap as the protocol's (which counts itself)
        h11_max_incomplete_event_size=limits.max_header_bytes,
    )
