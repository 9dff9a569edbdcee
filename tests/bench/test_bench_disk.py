"""`make bench` refuses up front a run that would not fit on the database's disk."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.run import DISK_MARGIN, DISK_PER_TEACHER, disk_check


class FakeConnection:
    def __init__(self, data_directory: str) -> None:
        self.data_directory = data_directory

    def execute(self, sql: str) -> FakeConnection:
        assert sql == "SHOW data_directory"
        return self

    def fetchone(self) -> tuple[str]:
        return (self.data_directory,)


def test_a_run_too_big_for_the_free_disk_is_refused_with_its_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    free = 50 * 10**9
    monkeypatch.setattr(shutil, "disk_usage", lambda _: SimpleNamespace(total=10**12, used=10**12 - free, free=free))
    conn: Any = FakeConnection(str(tmp_path))
    fits = int(free / (DISK_PER_TEACHER * DISK_MARGIN))
    assert disk_check(conn, fits) is None
    refused = disk_check(conn, 1_000_000)
    assert refused is not None
    assert "1,000,000 teachers need about 86 GB" in refused
    assert "50 GB free" in refused


def test_a_server_whose_data_directory_is_not_here_is_not_checked(tmp_path: Path) -> None:
    conn: Any = FakeConnection(str(tmp_path / "on-another-machine"))
    assert disk_check(conn, 10**9) is None
