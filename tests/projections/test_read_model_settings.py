"""The read model's PostgreSQL sessions and how its reads are planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.db import open_read_model_db
from tests.conftest import Backend, require_postgres


@pytest.mark.postgres
def test_reads_are_planned_for_their_own_parameters_never_prepared(tmp_path: Path) -> None:
    """psycopg prepares a statement after its fifth run on a connection, and PostgreSQL may then
    switch it to a generic plan, one that ignores the parameters (a unit's path prefix, the year's
    dates): a county's compliance went from about 240 to about 400 ms after some twenty reads
    (measured at 100k teachers). Reads are never prepared; sessions do not JIT-compile (which
    costs more than these queries run) and commit without waiting for the disk (derived rows)."""
    require_postgres()
    db = open_read_model_db(Backend("postgres", tmp_path).fresh().location())
    try:
        for n in range(12):  # one connection: the pool opens more only under concurrent use
            assert db.query("SELECT ? || path FROM (SELECT '/C1/' AS path) units", (f"run {n}",))
        assert db.query("SELECT count(*) FROM pg_prepared_statements") == [(0,)]
        settings = dict(db.query("SELECT name, setting FROM pg_settings WHERE name IN ('jit', 'synchronous_commit')"))
        assert settings == {"jit": "off", "synchronous_commit": "off"}
    finally:
        db.close()
