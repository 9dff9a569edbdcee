"""docs/decisions.md names, for each reading, the tests that check it: every name must be a test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tests_defined() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        for name in re.findall(r"^\s*def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M):
            found[name] = found.get(name, 0) + 1
    return found


def test_every_reading_names_tests_that_exist_once() -> None:
    text = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    readings = [r for r in re.split(r"\n(?=- )", text) if r.startswith("- ")]
    assert len(readings) >= 30
    defined = _tests_defined()
    for reading in readings:
        named = re.findall(r"`(test_\w+)`", reading)
        assert named, f"a reading names no test: {reading[:80]!r}"
        for name in named:
            assert defined.get(name) == 1, f"{name} is defined {defined.get(name, 0)} times under tests/"
