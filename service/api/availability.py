"""503 `store_unavailable`, fast: requests are refused at once while the store does not answer, and
a request that meets a store error answers 503 rather than 500 (service/storage/availability.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import problems
from service.storage.availability import STORE_ERRORS, StoreMonitor

RETRY_AFTER = 2  # seconds: a client's next try; the monitor probes every 0.25 s while the store is down
DETAIL = "the records store is not answering; nothing was recorded; try again shortly"


def store_unavailable() -> JSONResponse:
    return problems.problem(503, "store_unavailable", DETAIL, headers={"Retry-After": str(RETRY_AFTER)})


def monitor_of(app: object) -> StoreMonitor | None:
    state = getattr(app, "state", None)
    monitor: StoreMonitor | None = getattr(state, "store_monitor", None)
    return monitor


class StoreGate:
    """Refuse `/api/` requests at once while the monitor finds the store down. The health and
    metrics routes and the documentation still answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/api/"):
            monitor = monitor_of(scope.get("app"))
            if monitor is not None and not monitor.reachable:
                await store_unavailable()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    async def on_store_error(request: Request, error: Exception) -> JSONResponse:
        monitor = monitor_of(request.app)
        if monitor is not None:
            monitor.suspect(error)
        return store_unavailable()

    for kind in STORE_ERRORS:
        app.add_exception_handler(kind, on_store_error)
    app.add_middleware(StoreGate)
