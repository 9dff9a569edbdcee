"""`rm_unit_years`: the compliance answer of a unit above the schools (town, county, city,
province) for one reporting year as of one day, kept as the JSON text of the answer, so that a
county's read is one row rather than the roll-up of every school's row and shortfall lists (in a
county of 100k teachers, some 400k teacher numbers joined and sorted on every read).

An answer is what `Reports.compliance` rolls up from `rm_school_years` and `rm_orgs` in one
snapshot of the tables, tagged with that snapshot's position. It is used only while it is still
what that roll-up would give:
- it was computed for the same day and under the same policy version, at or after the least
  position rows may have been computed at (`State.valid_from`: no unmarked pages since);
- no page applied after it marked a school under the unit in `rm_school_changes` (the same marks
  that make a school's row stale);
- no page applied after it changed an org (the `/orgs` mark): names, kinds and the tree of units
  are part of the answer.
It is written back only if the tables are still the same generation, and never over an answer
computed at a later position. A school's own answer is not kept: its read is one row already.

Beside each answer its summary is kept (`summary`): the same answer without each shortfall's
`teacher_nos`, which in a county's answer are 400k numbers, nearly all of its 4.8 MB. A page shows a
shortfall's count and its first teachers, never every number: it reads the summary (some kB).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from projections.db import LIKE_ESCAPE, ReadModelDB, Tx, like_prefix
from projections.school_years import GENERATION, ORGS_MARK, State

KEPT_KINDS = ("province", "city", "county", "town")  # units whose answers roll up schools' rows
# The shape of a stored answer: part of the version it is stored under, so that answers an older
# trainrec stored (shortfalls without the teachers' names, or with every one named) are stale to
# this one, and recomputed.
ANSWER_FORMAT = 4


def answer_version(policy_version: str) -> str:
    """What an answer computed under `policy_version` is stored under (rm_unit_years.policy_version)."""
    return f"{policy_version}#answer{ANSWER_FORMAT}"


def stored_answer(tx: Tx, prefix: str, state: State, org_id: str, path: str, year: int, today: date,
                  policy_version: str, summary: bool = False) -> str | None:
    """The stored answer (or with `summary` its summary) of the unit at `path` for `year` as of
    `today`, if it may still be used, read in the snapshot `tx` that `state` describes."""
    p = prefix
    column = "summary" if summary else "answer"
    rows = tx.query(
        f"SELECT u.{column} FROM {p}unit_years u WHERE u.year = ? AND u.org_id = ? AND u.today = ? "
        "AND u.policy_version = ? AND u.position >= ? AND u.position <= ? "
        f"AND NOT EXISTS (SELECT 1 FROM {p}school_changes c WHERE c.school_id = ? AND c.position > u.position) "
        f"AND NOT EXISTS (SELECT 1 FROM {p}orgs o JOIN {p}school_changes c ON c.school_id = o.org_id "
        f"WHERE o.path LIKE ? {LIKE_ESCAPE} AND c.position > u.position)",
        (year, org_id, today.isoformat(), policy_version, state.valid_from, state.position, ORGS_MARK,
         like_prefix(path)),
    )
    return str(rows[0][0]) if rows else None


def store_answer(db: ReadModelDB, prefix: str, state: State, org_id: str, year: int, today: date,
                 policy_version: str, answer: str, summary: str) -> bool:
    """Keep the answer computed in the snapshot `state` describes, unless a rebuild has swapped in
    other tables since or an answer of a later position is stored already."""
    if not state.trusted:
        return False
    with db.transaction() as tx:
        # Reading rm_tracking holds it (on PostgreSQL) until commit: a swap waits for this transaction.
        generation = tx.query(f"SELECT position FROM {prefix}tracking WHERE name = ?", (GENERATION,))
        if (int(generation[0][0]) if generation else 0) != state.generation:
            return False
        tx.execute(
            f"INSERT INTO {prefix}unit_years (year, org_id, today, policy_version, position, answer, summary) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (year, org_id) DO UPDATE SET today = excluded.today, "
            "policy_version = excluded.policy_version, position = excluded.position, answer = excluded.answer, "
            f"summary = excluded.summary WHERE {prefix}unit_years.position <= excluded.position",
            (year, org_id, today.isoformat(), policy_version, state.position, answer, summary),
        )
    return True


def stale_answers(db: ReadModelDB, prefix: str, years: Iterable[int], today: date,
                  policy_version: str) -> list[tuple[int, str]]:
    """(year, org_id) of the stored answers of `years` that may no longer be used: the same tests
    as `stored_answer`, with the schools changed since the oldest of them walked up to their units
    (a scan of the changed schools rather than of every org under every stored answer)."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    p = prefix
    with db.snapshot() as tx:
        state = State.read(tx, p)
        if not state.trusted:
            return []  # pages went unmarked: nothing computed now would be kept
        stored = tx.query(f"SELECT year, org_id, today, policy_version, position FROM {p}unit_years "
                          f"WHERE year IN ({', '.join('?' * len(wanted))}) ORDER BY year, org_id", wanted)
        if not stored:
            return []
        changed = tx.query(f"SELECT o.path, c.position FROM {p}school_changes c JOIN {p}orgs o "
                           "ON o.org_id = c.school_id WHERE c.position > ?", (min(int(row[4]) for row in stored),))
        orgs_mark = tx.query(f"SELECT position FROM {p}school_changes WHERE school_id = ?", (ORGS_MARK,))
    orgs_changed = int(orgs_mark[0][0]) if orgs_mark else 0
    latest: dict[str, int] = {}  # unit → the last page that marked a school under it
    for path, position in changed:
        for unit in str(path).strip("/").split("/"):
            latest[unit] = max(latest.get(unit, 0), int(position))
    day = today.isoformat()
    return [(int(year), str(org_id)) for year, org_id, on, version, position in stored
            if on != day or version != policy_version or not state.valid_from <= position <= state.position
            or orgs_changed > position or latest.get(str(org_id), 0) > position]
