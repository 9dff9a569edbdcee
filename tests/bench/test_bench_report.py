"""A `--reads-only` run adds the rows bench/RESULTS.md lacks and keeps the full run's."""

from __future__ import annotations

from bench.run import PARTIAL, Figure, merge_report, row

FULL = """# Benchmark results

- date: 2026-12-03T10:27:50+00:00
- N: 100000 teachers, 5000000 events; PostgreSQL at 127.0.0.1
- command: `make bench N=…` (baselines are measured in the same run)

| figure | value | baseline (same run) | ratio | target | verdict |
|---|---:|---|---:|---|---|
| school compliance read p99, ms | 5.0 ms |  |  | ≤ 25 ms | met |
| county compliance read p99, ms | 17.4 ms |  |  | ≤ 100 ms | met |
| HTTP write p99, ms (group commit) | 23.9 ms |  |  | ≤ 100 ms | met |
"""


def figures(as_of_ms: float) -> list[Figure]:
    return [
        Figure("school compliance read p99, ms", 6.0, "ms", target="≤ 25 ms", met=True),
        Figure("school as_of p99, ms", as_of_ms, "ms", target="≤ 250 ms", met=as_of_ms <= 250),
        Figure("county compliance read p99, ms", 18.0, "ms", target="≤ 100 ms", met=True),
        Figure("county as_of p99, ms", 900.0, "ms", target="≤ 2000 ms", met=True),
    ]


def test_the_rows_the_table_lacks_are_added_after_their_neighbours_and_the_others_kept() -> None:
    merged = merge_report(FULL, figures(120.0), 100_000, 5_000_000).splitlines()
    table = [line for line in merged if line.startswith("| ") and "figure |" not in line]
    assert table == [
        "| school compliance read p99, ms | 5.0 ms |  |  | ≤ 25 ms | met |",
        row(figures(120.0)[1], PARTIAL),
        "| county compliance read p99, ms | 17.4 ms |  |  | ≤ 100 ms | met |",
        row(figures(120.0)[3], PARTIAL),
        "| HTTP write p99, ms (group commit) | 23.9 ms |  |  | ≤ 100 ms | met |",
    ]
    notes = [line for line in merged if line.startswith("- rows marked ‡")]
    assert len(notes) == 1
    assert "N=100000" in notes[0]
    assert "school compliance read p99, ms 6.0 ms" in notes[0]
    command = next(i for i, line in enumerate(merged) if line.startswith("- command:"))
    assert merged.index(notes[0]) == command + 1


def test_a_later_reads_only_run_replaces_its_own_rows_and_note() -> None:
    once = merge_report(FULL, figures(120.0), 100_000, 5_000_000)
    twice = merge_report(once, figures(300.0), 100_000, 5_000_000).splitlines()
    assert sum(line.startswith("- rows marked ‡") for line in twice) == 1
    assert row(figures(300.0)[1], PARTIAL) in twice
    assert row(figures(120.0)[1], PARTIAL) not in twice
    assert "| school as_of p99, ms ‡ | 300.0 ms |  |  | ≤ 250 ms | NOT met |" in twice
    assert len([line for line in twice if line.startswith("| ")]) == 6  # header and five rows
