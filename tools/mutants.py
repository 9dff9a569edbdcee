"""`make mutants`: mutation testing of domain/ and of the figures projections/ computes, with mutmut.

    python tools/mutants.py run      # a fresh run (mutants/ is rebuilt), then the report
    python tools/mutants.py report   # the report of the last run

mutmut's settings (what is copied, which tests run, the SQL text left alone) are in pyproject.toml
under [tool.mutmut]; which functions are mutated, and how they are grouped in the score, are here.
The report gives the share of mutants killed per group and overall, and each mutant left alive
with the line it changed. It exits with 1 when a group with a target misses it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"


@dataclass
class Group:
    name: str
    patterns: tuple[str, ...]  # mutant names (module.function__mutmut_N) as fnmatch patterns
    target: float | None = None
    killed: int = 0
    alive: list[tuple[str, str]] = field(default_factory=list)  # (mutant, status)


def groups() -> list[Group]:
    """A mutant counts in the first group whose pattern it matches."""
    return [
        Group("domain/rules", ("domain.rules.*",), target=0.9),
        Group("domain (the rest)", ("domain.*",)),
        Group("projections: compliance", (
            "projections.reports.x_ratio__*", "projections.reports.xǁTallyǁ*",
            "projections.reports.xǁReportsǁ*compliance*", "projections.reports.xǁReportsǁ_tallies__*",
            "projections.reports.xǁReportsǁrefresh_answers__*", "projections.reports.xǁReportsǁprepare_answers__*",
            # school_years.py: the sums and limits; not the bookkeeping of which stored rows are stale
            "projections.school_years.x_x10_ceiling__*", "projections.school_years.x__ordered__*",
            "projections.school_years.xǁSchoolYearǁvalues__*", "projections.school_years.xǁSchoolYearsǁcompute__*",
            "projections.school_years.xǁSchoolYearsǁ_compute__*",
        ), target=0.9),
        Group("projections: transcript", (
            "projections.transcript.*", "projections.reports.x_hours__*",
            "projections.reports.xǁReportsǁtranscript__*", "projections.reports.xǁReportsǁteacher_ref__*",
        )),
        Group("projections: roster and the rest of reports.py", ("projections.reports.*",)),
    ]


KILLED = {1, 3, -24, 24, 152, 255}  # a test failed (or pytest errored), or the mutant ran out of time
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious", 2: "interrupted",
          None: "not checked", -11: "segfault", -9: "killed by the system"}


def run() -> int:
    shutil.rmtree(MUTANTS, ignore_errors=True)
    MUTANTS.mkdir()
    patterns = [p for g in groups() for p in g.patterns]
    command = [str(Path(sys.executable).with_name("mutmut")), "run", *patterns]
    log = MUTANTS / "mutmut-run.log"
    print(f"mutmut run … (its output: {log.relative_to(ROOT)})", flush=True)
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603 (our own venv's mutmut)
        assert process.stdout is not None
        last, shown = b"", time.monotonic()
        for chunk in iter(lambda: process.stdout.read1(4096), b""):  # type: ignore[union-attr]
            out.write(chunk)
            last = (last + chunk)[-400:]
            if time.monotonic() - shown > 60:  # the spinner's latest line, once a minute
                shown = time.monotonic()
                status = last.replace(b"\n", b"\r").split(b"\r")[-1].decode(errors="replace").strip()
                print(f"  {int(shown - started) // 60:3d} min  {status}", flush=True)
        code = process.wait()
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    if code != 0:
        print(log.read_text(errors="replace")[-3000:])
        print(f"mutmut run failed (exit {code}) after {minutes} min {seconds} s")
        return code
    (MUTANTS / "run-seconds.txt").write_text(f"{minutes * 60 + seconds}\n")
    return report()


def results() -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def changed_lines(name: str) -> list[str]:
    """The lines a mutant changes, from mutmut's own diff of the function."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant
        diff = get_diff_for_mutant(name)
    except Exception as error:  # noqa: BLE001 (a report without the diff is still a report)
        return [f"(no diff: {error}; try `mutmut show {name}`)"]
    return [line for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def report() -> int:
    found = results()
    if not found:
        print("no results: run `make mutants` first")
        return 1
    table = groups()
    for name, code in sorted(found.items()):
        group = next((g for g in table if any(fnmatch.fnmatchcase(name, p) for p in g.patterns)), None)
        if group is None:
            continue  # generated in a mutated file, but not one of the functions chosen here
        if code in KILLED:
            group.killed += 1
        else:
            group.alive.append((name, STATUS.get(code, f"exit {code}")))
    os.chdir(ROOT)  # mutmut's diff reads mutants/ relative to the working directory
    print("\nMutants left alive (`mutmut show <name>` for the whole function):")
    for group in table:
        for name, status in group.alive:
            module, _, function = name.rpartition(".")
            print(f"\n  {status}: {module.replace('.', '/')}.py  {function}")
            for line in changed_lines(name):
                print(f"      {line.strip()[:150]}")
    seconds = (MUTANTS / "run-seconds.txt").read_text().strip() if (MUTANTS / "run-seconds.txt").exists() else "?"
    print(f"\nMutation score (killed / mutants), run took {seconds} s:")
    missed = False
    for group in [*table, Group("overall", ())]:
        if group.name == "overall":
            group.killed = sum(g.killed for g in table)
            group.alive = [a for g in table for a in g.alive]
        total = group.killed + len(group.alive)
        share = group.killed / total if total else 1.0
        target = f"  (target {group.target:.0%})" if group.target is not None else ""
        if group.target is not None and share < group.target:
            missed = True
            target += " MISSED"
        print(f"  {group.name:48s} {group.killed:5d} / {total:5d} = {share:6.1%}{target}")
    not_checked = sum(1 for _, status in [a for g in table for a in g.alive] if status == "not checked")
    if not_checked:
        print(f"  {not_checked} mutants were not checked: the run did not finish")
    return 1 if missed or not_checked else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["run"]:
        sys.exit(run())
    if sys.argv[1:] == ["report"]:
        sys.exit(report())
    print(__doc__)
    sys.exit(2)
