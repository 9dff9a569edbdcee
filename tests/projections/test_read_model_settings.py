"""The read model's PostgreSQL session settings, which its heavy reads depend on."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.db import PostgresDB
from tests.conftest import Backend, require_postgres


@pytest.mark.postgres
def test_read_model_sessions_plan_each_query_for_its_parameters(tmp_path: Path) -> None:
    """psycopg prepares a statement after its fifth run on a connection, and PostgreSQL may then
    switch it to a generic plan, one that ignores the parameters (a unit's path prefix, the year's
    dates): a county's compliance went from about 240 to about 400 ms after some twenty reads
    (measured at 100k teachers). Read-model sessions plan each run for its own parameters, and do
    not JIT-compile (which costs more than these queries run)."""
    require_postgres()
    storage = Backend("postgres", tmp_path).fresh()
    db = PostgresDB(storage.env)
    try:
        settings = dict(db.query("SELECT name, setting FROM pg_settings WHERE name IN "
                                 "('plan_cache_mode', 'jit', 'synchronous_commit')"))
        assert settings == {"plan_cache_mode": "force_custom_plan", "jit": "off", "synchronous_commit": "off"}
    finally:
        db.close()
