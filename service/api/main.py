"""The FastAPI application: routers, problem+json errors, body size limit, security headers, OpenAPI at /docs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import pages
from service.api import (
    availability,
    docs_pages,
    metrics,
    operations,
    problems,
    routes_audit,
    routes_credentials,
    routes_disputes,
    routes_exports,
    routes_keys,
    routes_lists,
    routes_printing,
    routes_prior_hours,
    routes_programmes,
    routes_reports,
    routes_session,
    routes_staff,
    routes_uploads,
)
from service.api.characters import RefuseControlCharacters
from service.api.headers import SecurityHeaders
from service.api.heap import settle_heap
from service.app import TrainRec
from service.auth.tokens import load_secret
from service.followers.follow import follow
from service.storage.availability import monitor_for

MAX_BODY = 2 * 1024 * 1024


class BodyLimit:
    """Refuse bodies over `limit` bytes with 413 before any handler parses them; the upload routes
    (`larger`: path or path prefix → (limit, code)) take files up to their own limits."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY,
                 larger: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = routes_uploads.UPLOAD_LIMITS if larger is None else larger

    def _limit_of(self, path: str) -> tuple[int, str]:
        for prefix, (limit, code) in self.larger.items():
            if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                return limit, code
        return self.limit, "payload_too_large"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, code = self._limit_of(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit, code)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left (or the server cut it off) mid-body:
                return  # a partial body is never handed on
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit, code)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int, code: str) -> None:
        response = problems.problem(413, code, f"the body is over {limit} bytes")
        await response(scope, receive, send)


class SecuredFastAPI(FastAPI):
    """FastAPI whose every answer carries the security headers (service/api/headers.py): they wrap
    the whole stack, so that even the 500s of Starlette's outermost error middleware get them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), docs_paths=docs_pages.PAGES)


def create_app(
    service: TrainRec | None = None, secret: str | None = None, catch_up: bool = True, server: bool = False
) -> FastAPI:
    """The API over `service`. `server`: the process is a server (its entry points say so), whose
    start-up heap is frozen once it has started (service/api/heap.py); tests and embedders leave the
    collector of their process as it is."""
    trainrec = service or TrainRec()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Keep the read model close to the log while serving (reads also catch up on demand)."""
        if server:
            # before any thread of the server runs: the full collection holds the GIL, and a store
            # probe waiting behind it (a large heap: seconds) would time out and report the store away
            settle_heap()
        monitor = monitor_for(trainrec.storage, pools=lambda: list(trainrec.connection_pools().values()))
        app.state.store_monitor = monitor.start() if monitor is not None else None
        if os.environ.get("TRAINREC_GROUP_COMMIT", "1") != "0":  # 0: one transaction per command
            trainrec.enable_group_commit()
        # TRAINREC_PROJECTOR=separate: `trainrec projections follow` keeps the read model live in a
        # process of its own (one for any number of server workers; reads still catch up on demand)
        follower = follow(trainrec) if catch_up and os.environ.get("TRAINREC_PROJECTOR") != "separate" else None
        app.state.follower = follower
        try:
            yield
        finally:
            if follower is not None:
                follower.stop()
            if monitor is not None:
                monitor.stop()

    app = SecuredFastAPI(
        lifespan=lifespan,
        title="trainrec",
        version="1.0.0",
        description="Teachers' continuing-education records (师训学时/学分档案), API v1.",
        docs_url=None,  # served from the vendored Swagger UI instead (service/api/docs_pages.py)
        redoc_url=None,  # ReDoc would need a CDN and outside fonts: not served
    )
    app.state.trainrec = trainrec
    app.state.secret = secret or load_secret()
    app.state.store_monitor = None
    app.state.follower = None
    problems.install(app)
    availability.install(app)
    app.include_router(operations.router)
    app.include_router(metrics.router)
    docs_pages.install(app)
    app.state.metrics = metrics.Metrics(app)
    for module in (routes_staff, routes_programmes, routes_disputes, routes_prior_hours, routes_reports,
                   routes_exports, routes_audit, routes_session, routes_lists, routes_uploads, routes_keys,
                   routes_credentials, routes_printing):
        app.include_router(module.router)
    pages.install(app)  # after problems: its errors on a page answer as a page

    app.add_middleware(BodyLimit)
    app.add_middleware(RefuseControlCharacters)  # outside BodyLimit: refused before the body is read
    app.add_middleware(metrics.RequestMetrics)  # outermost: counts every answer, refusals included
    return app
