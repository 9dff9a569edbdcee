"""`rm_school_years`: each school's compliance sums and shortfall lists for one reporting year as
of one day, kept so that a county's compliance reads a row per school, not a row per teacher.

A row is a cache of what `compute` derives from `rm_postings`, `rm_teacher_years` and
`rm_enrolments`; it is used only while it is still what `compute` would give:
- it was computed for the same day (membership, the year's end so far and overdue deadlines all
  depend on today's date) and under the same policy version;
- no event applied after the read-model position it was computed at touched a teacher posted
  at that school: each page records, in `rm_school_changes`, its last position for every school a
  touched teacher was ever posted at (a transfer marks both ends);
- every page since it was computed was marked so: each page also moves the `/marker-2` row to its
  position, and a page that finds the marker behind the position it starts from (pages applied
  by a trainrec that did not mark, or a generation's first marked page) sets `/reset`: rows
  computed before it are stale. While the marker is behind the position, no row is used.
A row is computed and checked in one snapshot of the tables and tagged with that snapshot's
position, and it is written back only if the tables are still the same generation (a rebuild's
swap in between would otherwise leave figures of the replaced tables in the new ones).
Missing or stale rows are computed by the read that needs them and written back; followers
refresh the stale rows of recent years, and a rebuild computes the rows of every year on
record, so a county's first read after either is not the slow one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from projections import as_of
from projections.db import LIKE_ESCAPE, ReadModelDB, Tx, like_prefix
from projections.teacher_years import CHUNK

SEPARATOR = "\x1f"  # joins teacher numbers in one text (control characters are refused in text)
RULES_SHORT = ("avg_hours_per_teacher", "avg_self_selected_hours", "share_concentrated_90h",
               "share_school_based_designated", "share_school_based_elective", "participation_rate",
               "share_cycle_on_track")
SUFFIX = dict(zip(RULES_SHORT, ("hours", "self_selected", "concentrated", "designated", "elective",
                                "participation", "cycle"), strict=True))
SUMS = ("teachers", "hours_x10", "self_selected_x10", "enrolments_counted", "enrolments_attended")
VALUES = (*SUMS, *(f"short_{SUFFIX[r]}" for r in RULES_SHORT), *(f"list_{SUFFIX[r]}" for r in RULES_SHORT),
          "overdue_assessments", "overdue_assessment_teachers", "overdue_evaluations", "overdue_evaluation_teachers")
KEY = ("year", "school_id", "today", "policy_version", "position")


@dataclass(frozen=True)
class SchoolYear:
    """One school's sums for a year as of a day (`lists` and the overdue teachers: SEPARATOR-joined
    teacher numbers in order, "" for none)."""

    teachers: int = 0
    hours_x10: int = 0
    self_x10: int = 0
    counted: int = 0
    attended: int = 0
    short_counts: tuple[int, ...] = (0,) * len(RULES_SHORT)
    lists: tuple[str, ...] = ("",) * len(RULES_SHORT)
    overdue_assessments: int = 0
    overdue_assessment_teachers: str = ""
    overdue_evaluations: int = 0
    overdue_evaluation_teachers: str = ""

    def values(self) -> tuple[Any, ...]:
        return (self.teachers, self.hours_x10, self.self_x10, self.counted, self.attended, *self.short_counts,
                *self.lists, self.overdue_assessments, self.overdue_assessment_teachers, self.overdue_evaluations,
                self.overdue_evaluation_teachers)


# Where each figure sits in a row's values (VALUES order), which reads add up column by column.
COUNTS = slice(len(SUMS), len(SUMS) + len(RULES_SHORT))
LISTS = slice(COUNTS.stop, COUNTS.stop + len(RULES_SHORT))
OVERDUE_ASSESSMENTS, OVERDUE_ASSESSMENT_TEACHERS, OVERDUE_EVALUATIONS, OVERDUE_EVALUATION_TEACHERS = range(
    LISTS.stop, LISTS.stop + 4)
NUMBERS = (*range(COUNTS.stop), OVERDUE_ASSESSMENTS, OVERDUE_EVALUATIONS)
Values = tuple[Any, ...]


def x10_ceiling(hours: Decimal) -> int:
    """The least whole number of tenths of an hour that is not below `hours`."""
    return int((hours * 10).to_integral_value(rounding=ROUND_CEILING))


def short_tests(policy: Any, year: int) -> dict[str, tuple[str, int | None]]:
    """Each rule's test of one member falling short, over the per-member columns (h, s, d, el, cm,
    cnt, att, cy), and its limit in tenths of an hour (None: participation, which has none)."""
    t = policy.thresholds
    cycle_start, _ = policy.cycle_of(year)
    elapsed = year - cycle_start + 1
    cycle_needed_x10 = policy.cycle.required * elapsed / policy.cycle.length_years * 10
    return {
        "avg_hours_per_teacher": ("h < ?", x10_ceiling(t.avg_hours_per_teacher)),
        "avg_self_selected_hours": ("s < ?", x10_ceiling(t.avg_self_selected_hours)),
        "share_concentrated_90h": ("cm < ?", x10_ceiling(t.concentrated_min_hours)),
        "share_school_based_designated": ("d < ?", x10_ceiling(t.school_based_designated_hours)),
        "share_school_based_elective": ("el < ?", x10_ceiling(t.school_based_elective_hours)),
        "participation_rate": ("att < cnt", None),
        "share_cycle_on_track": ("cy < ?", int(cycle_needed_x10.to_integral_value(rounding=ROUND_CEILING))),
    }


# rm_school_changes rows that are not schools (an org id never holds '/'). The marker's name changes
# when what a page marks does (this one: org changes too, for units' answers), so pages applied by a
# trainrec that marks less (an older follower during an upgrade) count as unmarked.
MARKER = "/marker-2"
RESET = "/reset"
ORGS_MARK = "/orgs"  # the last page that changed an org (names, kinds and the tree are in units' answers)
TRACKED = "records"  # the rm_tracking row of the read model's position (projections.view.NAME)
GENERATION = "generation"  # rm_tracking row naming the generation of the tables (a rebuild's differs)
GENERATION_MARK = "/generation"  # the generation the caches were started for (a rebuild by a trainrec
# that did not keep them leaves them beside tables of another generation: then no row is used)


def mark_changed(tx: Tx, prefix: str, teacher_nos: Iterable[str], position: int, orgs: bool = False) -> None:
    """Record that the page ending at `position` touched these teachers: every school they were
    ever posted at has a stale `rm_school_years` row from now on (and, with `orgs`, that it changed
    an org: every stored unit answer is stale). Called for every page, after its rows are written
    and before the tracking position moves."""
    before, marker = tx.query(
        f"SELECT (SELECT position FROM {prefix}tracking WHERE name = ?) AS before, "
        f"(SELECT position FROM {prefix}school_changes WHERE school_id = ?) AS marker", (TRACKED, MARKER))[0]
    # pages before this one went unmarked unless the marker is where this page starts
    marks = [MARKER] if marker is not None and before is not None and int(marker) == int(before) else [RESET, MARKER]
    if orgs:
        marks.append(ORGS_MARK)
    tx.execute(f"INSERT INTO {prefix}school_changes (school_id, position) VALUES "
               f"{', '.join(['(?, ?)'] * len(marks))} "
               "ON CONFLICT (school_id) DO UPDATE SET position = excluded.position",
               [value for mark in marks for value in (mark, position)])
    names = sorted(set(teacher_nos))
    for start in range(0, len(names), CHUNK):
        chunk = names[start:start + CHUNK]
        holes = ", ".join("?" * len(chunk))
        tx.execute(
            f"INSERT INTO {prefix}school_changes (school_id, position) SELECT DISTINCT school_id, ? "
            f"FROM {prefix}postings WHERE teacher_no IN ({holes}) "
            "ON CONFLICT (school_id) DO UPDATE SET position = excluded.position",
            (position, *chunk),
        )


def start_marking(tx: Tx, prefix: str, position: int, generation: int) -> None:
    """Tables of `generation` whose rows, as of `position`, no stored row describes (new tables,
    a rebuild's, or an older store's new caches): rows computed from here on may be used, and each
    page after marks what it touches."""
    tx.execute(f"DELETE FROM {prefix}school_years")
    tx.execute(f"DELETE FROM {prefix}unit_years")
    tx.execute(f"INSERT INTO {prefix}school_changes (school_id, position) VALUES (?, ?), (?, ?), (?, ?) "
               "ON CONFLICT (school_id) DO UPDATE SET position = excluded.position",
               (RESET, position, MARKER, position, GENERATION_MARK, generation))


@dataclass(frozen=True)
class State:
    """What a snapshot of the tables says about the rows: its position, the tables' generation,
    and the least position a row must have been computed at to be used."""

    position: int
    generation: int
    valid_from: int

    @classmethod
    def read(cls, tx: Tx, prefix: str) -> State:
        tracking: dict[str, int] = dict(tx.query(
            f"SELECT name, position FROM {prefix}tracking WHERE name IN (?, ?)", (TRACKED, GENERATION)))
        marks: dict[str, int] = dict(tx.query(
            f"SELECT school_id, position FROM {prefix}school_changes WHERE school_id IN (?, ?, ?)",
            (MARKER, RESET, GENERATION_MARK)))
        position = int(tracking.get(TRACKED, 0))
        generation = int(tracking.get(GENERATION, 0))
        trusted = (MARKER in marks and int(marks[MARKER]) == position
                   and int(marks.get(GENERATION_MARK, 0)) == generation)
        # while the marker is behind, pages went unmarked: no row (all computed at or below position) is used
        valid_from = int(marks.get(RESET, 0)) if trusted else position + 1
        return cls(position, generation, valid_from)

    @property
    def trusted(self) -> bool:
        """Whether rows computed in this state may be used later (else they are not stored)."""
        return self.valid_from <= self.position


class SchoolYears:
    def __init__(self, db: ReadModelDB, prefix: str, policy: Any) -> None:
        self.db = db
        self.p = prefix
        self.policy = policy

    # --- reading -------------------------------------------------------------------------
    def read_in(self, tx: Tx, state: State, path: str, year: int, today: date
                ) -> tuple[list[tuple[str, str, Values]], dict[str, SchoolYear]]:
        """Every org under `path`, its path and its row's values (VALUES order; zero for an org
        without members), read in the snapshot `tx` that `state` describes, computing the rows that
        are missing or stale; and those computed rows (for `keep` once the snapshot is over)."""
        p = self.p
        names = ", ".join(f"sy.{column}" for column in VALUES)
        found = tx.query(
            f"SELECT o.org_id, o.path, CASE WHEN sy.school_id IS NOT NULL AND sy.today = ? "
            f"AND sy.policy_version = ? AND sy.position >= ? AND NOT EXISTS (SELECT 1 FROM {p}school_changes c "
            f"WHERE c.school_id = o.org_id AND c.position > sy.position) THEN 1 ELSE 0 END, {names} "
            f"FROM {p}orgs o LEFT JOIN {p}school_years sy ON sy.school_id = o.org_id AND sy.year = ? "
            f"WHERE o.path LIKE ? {LIKE_ESCAPE} ORDER BY o.org_id",
            (today.isoformat(), self.policy.version, state.valid_from, year, like_prefix(path)),
        )
        stale = [str(row[0]) for row in found if not row[2]]
        computed = self.compute(tx, year, today, None if len(stale) == len(found) else stale, path) if stale else {}
        return [(row[0], row[1], row[3:] if row[2] else computed[row[0]].values()) for row in found], computed

    def keep(self, state: State, year: int, today: date, computed: dict[str, SchoolYear]) -> None:
        """Store the rows a read computed in the snapshot `state` describes, if they may be used later."""
        if computed and state.trusted:
            self.store(state, year, today, computed)

    # --- keeping rows fresh ----------------------------------------------------------------
    def refresh(self, today: date, years: Iterable[int] = ()) -> int:
        """Recompute the stored rows of recent years (the current one and the cycle's length before
        it) that are stale, and every school's row for `years`, as of `today`, one year per snapshot;
        returns how many rows were written. Older years' rows are computed by the reads that ask."""
        p = self.p
        everyone = set(years)
        recent = self.recent_years(today)
        with self.db.snapshot() as tx:
            state = State.read(tx, p)
            stale = tx.query(
                f"SELECT sy.year, sy.school_id FROM {p}school_years sy WHERE sy.year BETWEEN ? AND ? "
                "AND (sy.today <> ? OR sy.policy_version <> ? OR sy.position < ? "
                f"OR EXISTS (SELECT 1 FROM {p}school_changes c WHERE c.school_id = sy.school_id "
                "AND c.position > sy.position))",
                (recent[0], recent[-1], today.isoformat(), self.policy.version,
                 state.valid_from),
            ) if state.trusted else []
        if not state.trusted:
            return 0  # pages went unmarked: no row would be used until one is marked again
        by_year: dict[int, list[str]] = defaultdict(list)
        for year, school_id in stale:
            by_year[int(year)].append(str(school_id))
        written = 0
        for year in sorted(everyone | set(by_year)):
            with self.db.snapshot() as tx:  # one year at a time: no long snapshot holding back the tables
                state = State.read(tx, p)
                computed = self.compute(tx, year, today, None if year in everyone else by_year[year], "")
            if state.trusted and self.store(state, year, today, computed):
                written += len(computed)
        return written

    def recent_years(self, today: date) -> range:
        """The years whose stale rows a follower refreshes: the current one, the next (a year that
        starts soon) and a cycle's length before."""
        current = self.policy.year_of(today)
        return range(current - self.policy.cycle.length_years, current + 2)

    def years_on_record(self, today: date) -> list[int]:
        """The years a rebuild prepares: every year with sums on record, and the current one."""
        rows = self.db.query(f"SELECT DISTINCT year FROM {self.p}teacher_years")
        return sorted({int(r[0]) for r in rows} | {self.policy.year_of(today)})

    def store(self, state: State, year: int, today: date, computed: dict[str, SchoolYear]) -> bool:
        """Write the rows computed in the snapshot `state` describes, unless a rebuild has swapped in
        other tables since (then they are not written: they describe the tables it replaced)."""
        names = (*KEY, *VALUES)
        updates = ", ".join(f"{name} = excluded.{name}" for name in names[2:])
        statement = (f"INSERT INTO {self.p}school_years ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                     f"ON CONFLICT (year, school_id) DO UPDATE SET {updates}")
        # in key order, so two writers of overlapping rows lock them in the same order (no deadlock)
        rows = [(year, school_id, today.isoformat(), self.policy.version, state.position, *sums.values())
                for school_id, sums in sorted(computed.items())]
        with self.db.transaction() as tx:
            # Reading rm_tracking holds it (on PostgreSQL) until commit: a swap waits for this transaction.
            generation = tx.query(f"SELECT position FROM {self.p}tracking WHERE name = ?", (GENERATION,))
            if (int(generation[0][0]) if generation else 0) != state.generation:
                return False
            for start in range(0, len(rows), CHUNK):
                tx.executemany(statement, rows[start:start + CHUNK])
        return True

    # --- computing -----------------------------------------------------------------------
    def compute(self, tx: Tx, year: int, today: date, schools: list[str] | None, path: str,
                at: str | None = None) -> dict[str, SchoolYear]:
        """The sums of `schools` (of every org under `path` when None), read in `tx`: a row for
        each, zero for one without members that day. `at` (an instant, `records.instant` text): the
        sums as recorded then, from when each row was recorded (projections/as_of.py), not from
        `rm_teacher_years`; `today` is then that instant's date."""
        if schools is None:
            orgs = tx.query(f"SELECT org_id FROM {self.p}orgs WHERE path LIKE ? {LIKE_ESCAPE}", (like_prefix(path),))
            result = {str(r[0]): SchoolYear() for r in orgs}
            # as of an instant, a unit holding half the orgs on record or more sums every teacher's rows
            # and joins its members to them after (projections/as_of.py)
            among_all = at is not None and 2 * len(orgs) >= int(tx.query(f"SELECT COUNT(*) FROM {self.p}orgs")[0][0])
            self._compute(tx, result, year, today, f"SELECT o.org_id FROM {self.p}orgs o WHERE o.path LIKE ? "
                          f"{LIKE_ESCAPE}", (like_prefix(path),), at, among_all)
            return result
        result = {school_id: SchoolYear() for school_id in schools}
        for start in range(0, len(schools), CHUNK):
            chunk = schools[start:start + CHUNK]
            self._compute(tx, result, year, today, ", ".join("?" * len(chunk)), chunk, at)
        return result

    def _compute(self, tx: Tx, result: dict[str, SchoolYear], year: int, today: date, among: str,
                 among_args: Sequence[Any], at: str | None = None, among_all: bool = False) -> None:
        p = self.p
        first, last = self.policy.year_bounds(year)
        end = (min(last, today) if first <= today <= last else last).isoformat()
        cycle_start, _ = self.policy.cycle_of(year)
        # Teachers whose posting in force on the year's last day so far is at one of the schools (docs/decisions.md)
        members, member_args = members_sql(p, end, among, among_args, at)
        postgres = self.db.backend == "postgres"
        short_of = short_tests(self.policy, year)
        tests = [short_of[rule] for rule in RULES_SHORT]
        limits = [limit for _, limit in tests if limit is not None]
        counts = ", ".join(f"SUM(CASE WHEN {test} THEN 1 ELSE 0 END)" for test, _ in tests)
        # each school's list in teacher-number order (byte order, Python's); SQLite's group_concat
        # has no order, so those lists are sorted below
        agg = ("string_agg({}, chr(31) ORDER BY teacher_no COLLATE \"C\")" if postgres
               else "group_concat({}, char(31))").format
        lists = ", ".join(agg(f"CASE WHEN {test} THEN teacher_no END") for test, _ in tests)
        unordered = ("string_agg({}, chr(31))" if postgres else "group_concat({}, char(31))").format
        collate_c = ' COLLATE "C"' if postgres else ""
        assessment_before = today - timedelta(days=self.policy.deadlines.assessment_days)
        evaluation_before = today - timedelta(days=self.policy.deadlines.evaluation_days)
        if at is None:
            per_member, per_member_args = self.per_member(year, today, first, last, cycle_start)
            overdue_sums = ""
        else:
            # as of an instant, each member's overdue enrolments are counted in the same pass
            per_member, per_member_args = as_of.per_member(p, at, year, today, first, last, cycle_start,
                                                           assessment_before, evaluation_before, among_all)
            overdue_sums = (f", SUM(oa), {unordered('CASE WHEN oa > 0 THEN teacher_no END')}, "
                            f"SUM(oe), {unordered('CASE WHEN oe > 0 THEN teacher_no END')}")
            # the lists in the order of the members' rows, which come sorted (sorting each list of
            # each school apart cost a county a fifth of its time); sorted again below, at no cost
            # when they came in order
            lists = ", ".join(unordered(f"CASE WHEN {test} THEN teacher_no END") for test, _ in tests)
            per_member = f"SELECT * FROM ({per_member}) pm ORDER BY school_id, teacher_no{collate_c}"
        # As of an instant, on PostgreSQL, `m` is inlined where it is used: materialized, the planner
        # guesses 200 members and probes the credits and enrolments of a county's 100,000 one by one.
        inlined = "NOT MATERIALIZED " if at is not None and postgres else ""
        rows = tx.query(
            f"WITH m AS {inlined}({members}) "
            f"SELECT school_id, COUNT(*), SUM(h), SUM(s), SUM(cnt), SUM(att), {counts}, {lists}{overdue_sums} FROM ("
            f"{per_member}) f GROUP BY school_id",
            (*member_args, *limits, *limits, *per_member_args),
        )
        rules = len(RULES_SHORT)
        if at is not None:
            for school_id, n, hours_x10, self_x10, counted, attended, *rest in rows:
                short, lists_of, (a_count, a_teachers, e_count, e_teachers) = (
                    rest[:rules], rest[rules:2 * rules], rest[2 * rules:])
                result[str(school_id)] = SchoolYear(
                    int(n), int(hours_x10), int(self_x10), int(counted), int(attended),
                    tuple(int(x) for x in short), tuple(_ordered(names, False) for names in lists_of),
                    int(a_count), _ordered(a_teachers, False), int(e_count), _ordered(e_teachers, False))
            return
        overdue_a: dict[str, tuple[int, set[str]]] = defaultdict(lambda: (0, set()))
        overdue_e: dict[str, tuple[int, set[str]]] = defaultdict(lambda: (0, set()))
        overdue, overdue_args = overdue_sql(p, members, member_args, first, last, assessment_before,
                                            evaluation_before)
        for teacher_no, school_id, kind, _ in tx.query(overdue, overdue_args):
            bucket = overdue_a if kind == "assessment" else overdue_e
            n, teachers = bucket[str(school_id)]
            teachers.add(str(teacher_no))
            bucket[str(school_id)] = (n + 1, teachers)  # each overdue enrolment counts (a teacher may have several)
        for school_id, n, hours_x10, self_x10, counted, attended, *short in rows:
            key = str(school_id)
            a_count, a_teachers = overdue_a.pop(key, (0, set()))
            e_count, e_teachers = overdue_e.pop(key, (0, set()))
            result[key] = SchoolYear(
                int(n), int(hours_x10), int(self_x10), int(counted), int(attended),
                tuple(int(x) for x in short[:rules]),
                tuple(_ordered(names, postgres) for names in short[rules:]),
                a_count, SEPARATOR.join(sorted(a_teachers)), e_count, SEPARATOR.join(sorted(e_teachers)))

    def per_member(self, year: int, today: date, first: date, last: date, cycle_start: int
                    ) -> tuple[str, tuple[Any, ...]]:
        """One row per member of `m` from `rm_teacher_years`: (school_id, teacher_no, h, s, d, el, cm,
        cnt, att, cy), and the statement's arguments."""
        p = self.p
        return (
            # the year's row, whose cycle_x10 holds the cycle's hours so far; a member without a row
            # that year has those of their latest earlier row of the cycle
            "SELECT m.school_id, m.teacher_no, COALESCE(ty.hours_x10, 0) AS h, "
            "COALESCE(ty.self_selected_x10, 0) AS s, COALESCE(ty.designated_x10, 0) AS d, "
            "COALESCE(ty.elective_x10, 0) AS el, COALESCE(ty.concentrated_max_x10, -1) AS cm, "
            # participation counts only programmes ended before the report's day: those of the year
            # ending from today on (none, for a past year) are taken off the year's row
            "COALESCE(ty.enrolments_counted, 0) - COALESCE(fu.cnt, 0) AS cnt, "
            "COALESCE(ty.enrolments_attended, 0) - COALESCE(fu.att, 0) AS att, "
            f"COALESCE(ty.cycle_x10, (SELECT c.cycle_x10 FROM {p}teacher_years c WHERE c.teacher_no = m.teacher_no "
            "AND c.year BETWEEN ? AND ? ORDER BY c.year DESC LIMIT 1), 0) AS cy "
            f"FROM m LEFT JOIN {p}teacher_years ty ON ty.teacher_no = m.teacher_no AND ty.year = ? "
            "LEFT JOIN (SELECT teacher_no, SUM(CASE WHEN absence_status = 'approved' THEN 0 ELSE 1 END) AS cnt, "
            "SUM(CASE WHEN absence_status = 'approved' OR sessions_present = 0 THEN 0 ELSE 1 END) AS att "
            f"FROM {p}enrolments WHERE ends_on >= ? AND ends_on <= ? GROUP BY teacher_no) fu "
            "ON fu.teacher_no = m.teacher_no",
            (cycle_start, year - 1, year, max(today, first).isoformat(), last.isoformat()),
        )


def members_sql(p: str, end: str, among: str, among_args: Sequence[Any], at: str | None
                ) -> tuple[str, tuple[Any, ...]]:
    """(teacher_no, school_id) of the teachers whose posting in force on `end` (the year's last day
    so far) is at one of the schools `among` (docs/decisions.md); `at`: as recorded then."""
    if at is not None:
        return as_of.members(p, at, end, among, among_args)
    return (f"SELECT ps.teacher_no, ps.school_id FROM {p}postings ps WHERE ps.from_date <= ? "
            f"AND (ps.until_date IS NULL OR ps.until_date > ?) AND ps.school_id IN ({among})",
            (end, end, *among_args))


def overdue_sql(p: str, members: str, member_args: tuple[Any, ...], first: date, last: date,
                assessment_before: date, evaluation_before: date) -> tuple[str, tuple[Any, ...]]:
    """(teacher_no, school_id, 'assessment' | 'evaluation', programme_code) of every overdue
    enrolment of the members (as the tables stand now): not excused, in a programme of the year
    ended before the deadline's day, without its assessment (or assessed, without its evaluation)."""
    return (
        f"SELECT e.teacher_no, m.school_id, 'assessment', e.programme_code FROM {p}enrolments e "
        f"JOIN ({members}) m ON m.teacher_no = e.teacher_no WHERE e.assessment_result IS NULL "
        "AND e.ends_on BETWEEN ? AND ? AND e.ends_on < ? "
        "AND (e.absence_status IS NULL OR e.absence_status <> 'approved') "
        f"UNION ALL SELECT e.teacher_no, m.school_id, 'evaluation', e.programme_code FROM {p}enrolments e "
        f"JOIN ({members}) m ON m.teacher_no = e.teacher_no WHERE e.evaluated_at IS NULL "
        "AND e.assessment_result IS NOT NULL AND e.ends_on BETWEEN ? AND ? AND e.ends_on < ? "
        "AND (e.absence_status IS NULL OR e.absence_status <> 'approved')",
        (*member_args, first.isoformat(), last.isoformat(), assessment_before.isoformat(),
         *member_args, first.isoformat(), last.isoformat(), evaluation_before.isoformat()))


def _ordered(names: str | None, ordered: bool) -> str:
    if not names:
        return ""
    return names if ordered else SEPARATOR.join(sorted(names.split(SEPARATOR)))
