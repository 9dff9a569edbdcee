"""`/healthz`: liveness apart from readiness, answered within about a second whatever the store does.

- `GET /healthz/live`: the process answers (its event loop runs). Always 200 while it does.
- `GET /healthz/ready` and `GET /healthz`: ready when the store answers (the monitor's last probe),
  the read-model follower of this process is alive, and the read model trails the log by at most
  `TRAINREC_READY_MAX_LAG` events. 200 `ok` when ready, else 503 `degraded` with the reasons.

They are `async def` and never wait on the request thread pool, and on the store only for the two
positions, read in a thread of their own for at most `LOOK_UP_WAIT` (then the follower's last
figures stand in): a hung store or a full thread pool must not hang the probe that reports it.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.availability import monitor_of

router = APIRouter(tags=["operations"])

DEFAULT_MAX_LAG = 5000
LOOK_UP_WAIT = 1.0  # seconds: the most /healthz waits to read the positions itself
_look_up = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trainrec-health")  # not the request pool


def max_lag() -> int:
    return int(os.environ.get("TRAINREC_READY_MAX_LAG", str(DEFAULT_MAX_LAG)))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def follower_report(follower: Any) -> dict[str, Any] | None:
    if follower is None:
        return None
    return {key: _plain(value) for key, value in asdict(follower.status()).items()}


async def positions(app: Any, reachable: bool) -> tuple[int | None, int | None]:
    """The log's head and the read model's position, read in a thread of /healthz's own (two
    one-row queries); None when the store does not answer in time."""
    if not reachable:
        return None, None
    model = app.state.trainrec.read_model
    loop = asyncio.get_running_loop()
    try:
        head, position = await asyncio.wait_for(
            loop.run_in_executor(_look_up, lambda: (model.head(), model.position())), LOOK_UP_WAIT)
    except Exception:  # noqa: BLE001 - a timeout or a store error: the figures are unknown
        return None, None
    return int(head), int(position)


async def health(request: Request) -> dict[str, Any]:
    app = request.app
    monitor = monitor_of(app)
    store = monitor.status().as_dict() if monitor is not None else {"reachable": True}
    follower = follower_report(getattr(app.state, "follower", None))
    head, position = await positions(app, bool(store["reachable"]))
    if (head is None or position is None) and follower is not None:  # as the follower last saw them
        head, position = follower["head"], follower["position"]
    lag = head - position if head is not None and position is not None else None
    problems: list[str] = []
    if not store["reachable"]:
        problems.append("store_unreachable")
    if follower is not None and not follower["alive"]:
        problems.append("follower_stopped")
    if lag is not None and lag > max_lag():
        problems.append("read_model_behind")
    ready = not problems
    return {
        "ok": ready,
        "status": "ok" if ready else "degraded",
        "live": True,
        "ready": ready,
        "problems": problems,
        "backend": app.state.trainrec.storage.backend,
        "events": head,
        "read_model_position": position,
        "lag": lag,
        "store": store,
        "follower": follower,
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    report = await health(request)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


@router.get("/healthz/ready")
async def ready(request: Request) -> JSONResponse:
    report = await health(request)
    body = {"ready": report["ready"], "status": report["status"], "problems": report["problems"]}
    return JSONResponse(body, status_code=200 if report["ready"] else 503)


@router.get("/healthz/live")
async def live() -> dict[str, bool]:
    return {"live": True}
