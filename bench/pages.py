"""The supervisor's pages of `make bench`: a county's, a town's and a school's compliance page and a
shortfall's list of teachers, asked as a signed-in browser asks them (session cookie, the whole ASGI
app: scopes, the session check, the read, the template), each against the compliance read's target
plus 50 ms of rendering (issue 21)."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from bench.region import ADMIN
from domain.vocabulary import Role
from service.api.main import create_app
from service.app import TrainRec

RENDERING = 50.0  # ms a page may add to the read it shows
COUNTY_TARGET = 100.0  # ms, p99 of the county's compliance read
SCHOOL_TARGET = 25.0  # ms, p99 of a school's
READS = 15  # per unit above the schools


def page_figures(app: TrainRec, county: str, towns: list[str], schools: list[str], year: int,
                 timed: Callable[[list[Callable[[], Any]]], list[float]],
                 percentile: Callable[[list[float], float], float], figure: Callable[..., Any]) -> list[Any]:
    """p50 and p99 of each page, read by a county supervisor's account signed in through
    `POST /api/v1/session` (the cookie a browser would hold)."""
    password = uuid.uuid4().hex
    username = f"bench-{uuid.uuid4().hex[:8]}"
    app.add_account(ADMIN, username, Role.SUPERVISOR, county, None, password)
    client = TestClient(create_app(app, uuid.uuid4().hex * 2, catch_up=False), raise_server_exceptions=True)
    signed_in = client.post("/api/v1/session", json={"username": username, "password": password})
    if signed_in.status_code not in (200, 201):
        raise RuntimeError(f"bench: sign-in refused: {signed_in.text}")

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            answer = client.get(path)
            if answer.status_code != 200 or "<html" not in answer.text:
                raise RuntimeError(f"bench: {path} answered {answer.status_code}")
        return get

    for path in (f"/units/{county}?year={year}", f"/units/{schools[0]}?year={year}"):
        page(path)()  # the first of each: templates compiled, connections opened
    pages = (
        ("county compliance page", [page(f"/units/{county}?year={year}") for _ in range(READS)], COUNTY_TARGET),
        ("town compliance page", [page(f"/units/{t}?year={year}") for t in towns[:READS]], COUNTY_TARGET),
        ("school compliance page", [page(f"/units/{s}?year={year}") for s in schools], SCHOOL_TARGET),
        ("county shortfall page (first 100 teachers of avg_hours_per_teacher)",
         [page(f"/units/{county}/shortfalls?rule=avg_hours_per_teacher&year={year}") for _ in range(READS)],
         COUNTY_TARGET),
    )
    figures = []
    for label, calls, read_target in pages:
        values = timed(calls)
        target = read_target + RENDERING
        p99 = percentile(values, 0.99)
        figures.append(figure(f"{label} p50, ms", statistics.median(values), "ms"))
        figures.append(figure(f"{label} p99, ms", p99, "ms", target=f"≤ {target:g} ms", met=p99 <= target))
    client.close()
    return figures
