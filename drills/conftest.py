"""The drills: kill -9, PostgreSQL restarts and outages, slow and oversized requests, a stalled
committer, each against a PostgreSQL cluster of its own and a real server process.

`make drills` runs them in full; `make drills SHORT=1` (TRAINREC_DRILLS_SHORT=1) the short version
CI runs. Where this machine cannot make a private cluster, they skip with the reason, except
under TRAINREC_REQUIRE_DRILLS=1 (CI), where that is a failure."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.actor import Actor
from domain.vocabulary import Role
from drills.cluster import PrivateCluster, unavailable_reason
from drills.server import drill_env
from drills.world import seed_orgs
from service.auth.tokens import issue_token

SHORT = os.environ.get("TRAINREC_DRILLS_SHORT", "") not in ("", "0")
_figures: list[tuple[str, dict[str, Any]]] = []


def scale(full: float, short: float) -> float:
    return short if SHORT else full


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("TRAINREC_REQUIRE_DRILLS") == "1":
            pytest.fail(f"drills required but {reason}")
        pytest.skip(reason)
    made = PrivateCluster()
    made.init()
    made.start()
    try:
        yield made
    finally:
        made.destroy()


@pytest.fixture
def store(cluster: PrivateCluster) -> str:
    """The cluster's URL, with the drill's orgs registered."""
    seed_orgs(cluster.url)
    return cluster.url


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def admin_token(secret: str) -> str:
    return issue_token(secret, Actor("drill-admin", Role.ADMIN))


@pytest.fixture
def env(store: str, secret: str) -> dict[str, str]:
    return drill_env(store, secret)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """What a drill measured, printed at the end of the run."""
    found: dict[str, Any] = {}
    _figures.append((request.node.name, found))
    return found


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures:
        return
    terminalreporter.section(f"drill figures ({'short' if SHORT else 'full'})")
    for name, found in _figures:
        terminalreporter.write_line(f"{name}:")
        for key, value in found.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            terminalreporter.write_line(f"    {key}: {shown}")


def events_by_topic(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT topic, count(*) FROM trainrec_events GROUP BY topic").fetchall()
    return {str(topic): int(n) for topic, n in rows}


def registrations(url: str) -> tuple[int, int, int]:
    """(teachers registered, distinct teacher aggregates, idempotency records) in the store."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE topic = 'domain.teacher:Teacher.Registered'),"
            " count(DISTINCT originator_id) FILTER (WHERE topic = 'domain.teacher:Teacher.Registered'),"
            " count(*) FILTER (WHERE topic = 'service.records:IdempotencyRecord.Recorded')"
            " FROM trainrec_events").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
