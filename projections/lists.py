"""Lists read from the read-model tables: teachers, programmes, disputes and what awaits a decision.

Every list is in a stable order (teacher number, programme code, dispute id) and paged by keyset:
a page is the rows after the last key of the previous one, which the caller gets back as an opaque
cursor (`encode_cursor`), so a page never repeats or skips a row because rows were added before it.
Who may see what is the service's to decide (service/queries/lists.py): it hands these functions
the reach of the caller as paths of org units, org ids and teacher numbers.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from projections.db import LIKE_ESCAPE, ReadModelDB, like_prefix
from projections.reports import hours

Key = list[str]


def encode_cursor(key: Key) -> str:
    """The opaque cursor of a page's last row: its sort key, as base64url of JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> Key:
    """The sort key a cursor names; ValueError if it is not one this list gave (`parts` strings)."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as error:
        raise ValueError("not a cursor") from error
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(part, str) for part in key):
        raise ValueError("not a cursor")
    return key


def search(backend: str, text_column: str, key_column: str, q: str) -> tuple[str, list[Any]]:
    """A condition: `q` anywhere in `text_column` or at the start of `key_column`, ignoring the case
    of Latin letters, alike on SQLite and PostgreSQL (whose LIKE differ in case), every character
    of `q` taken literally."""
    find = "strpos" if backend == "postgres" else "instr"
    return (f"({find}(lower({text_column}), lower(?)) > 0 OR lower(substr({key_column}, 1, ?)) = lower(?))",
            [q, len(q), q])


def page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """The first `limit` rows (the query asked for one more) and the cursor of the next page, if any."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))


@dataclass(frozen=True)
class ProgrammeReach:
    """The programmes a caller may list: owned or provided by a unit at or below one of `under`,
    provided by one of `providers`, or owned by one of `owners`; `everything` for an admin."""

    everything: bool = False
    under: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()

    def clause(self) -> tuple[str, list[Any]]:
        if self.everything:
            return "1 = 1", []
        parts: list[str] = []
        params: list[Any] = []
        for path in self.under:
            parts.append(f"(ow.path LIKE ? {LIKE_ESCAPE} OR pr.path LIKE ? {LIKE_ESCAPE})")
            params += [like_prefix(path), like_prefix(path)]
        if self.providers:
            parts.append(f"p.provider_id IN ({', '.join('?' * len(self.providers))})")
            params += list(self.providers)
        if self.owners:
            parts.append(f"p.owner_org_id IN ({', '.join('?' * len(self.owners))})")
            params += list(self.owners)
        return ("(" + " OR ".join(parts) + ")") if parts else "1 = 0", params


@dataclass(frozen=True)
class ProgrammeFilter:
    level: str | None = None
    form: str | None = None
    selection: str | None = None
    ends_from: date | None = None  # the reporting year's bounds, for `year`
    ends_until: date | None = None
    q: str | None = None
    open_on: date | None = None  # open for enrolment on this day
    for_teacher: str | None = None  # open to this teacher's own enrolment (self-selected, not enrolled yet)


@dataclass(frozen=True)
class AbsenceReach:
    """Pending absences a caller decides: on the school's side those of teachers at or below one of
    `school_under`, on the provider's side those of programmes owned or provided at or below one of
    `provider_under` or provided by one of `providers`; `everything` for an admin (both sides)."""

    everything: bool = False
    school_under: tuple[str, ...] = ()
    provider_under: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()


class Lists:
    def __init__(self, db: ReadModelDB, prefix: str) -> None:
        self.db = db
        self.p = prefix

    def org_path(self, org_id: str) -> str | None:
        rows = self.db.query(f"SELECT path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
        return str(rows[0][0]) if rows else None

    # --- teachers ------------------------------------------------------------------------
    def teachers(self, *, under: str | None, teacher_no: str | None, q: str | None, status: str | None,
                 today: date, after: Key | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Teachers at a school at or below the unit at path `under` (None: anywhere), or only
        `teacher_no`; `q` in the name or the start of the number; `status` active or departed on `today`."""
        p = self.p
        where = ["1 = 1"]
        params: list[Any] = []
        if under is not None:
            where.append(f"o.path LIKE ? {LIKE_ESCAPE}")
            params.append(like_prefix(under))
        if teacher_no is not None:
            where.append("t.teacher_no = ?")
            params.append(teacher_no)
        if q:
            condition, values = search(self.db.backend, "t.name", "t.teacher_no", q)
            where.append(condition)
            params += values
        if status == "active":
            where.append("(t.departed_on IS NULL OR t.departed_on > ?)")
            params.append(today.isoformat())
        elif status == "departed":
            where.append("t.departed_on IS NOT NULL AND t.departed_on <= ?")
            params.append(today.isoformat())
        if after is not None:
            where.append("t.teacher_no > ?")
            params.append(after[0])
        rows = self.db.query(
            f"SELECT t.teacher_no, t.name, t.school_id, o.name, t.hired_on, t.departed_on, t.departure_kind "
            f"FROM {p}teachers t JOIN {p}orgs o ON o.org_id = t.school_id WHERE {' AND '.join(where)} "
            "ORDER BY t.teacher_no LIMIT ?", (*params, limit + 1))
        rows, cursor = page(rows, limit, lambda r: [str(r[0])])
        items = [{
            "teacher_no": r[0], "name": r[1], "school_id": r[2], "school_name": r[3], "hired_on": r[4],
            "status": "departed" if r[5] is not None and r[5] <= today.isoformat() else "active",
            "departure": None if r[5] is None else {"kind": r[6], "effective_on": r[5]},
        } for r in rows]
        return items, cursor

    # --- programmes ----------------------------------------------------------------------
    _PROGRAMME_COLUMNS = (
        "p.code, p.title, p.level, p.form, p.selection, p.school_based_content, p.hours_x10, p.provider_id, "
        "pr.name, p.owner_org_id, ow.name, p.starts_on, p.ends_on, p.session_count, p.capacity, p.decision, "
        "p.needs_approval"
    )

    def _seats(self) -> str:
        """The seats a programme's enrolments take: a substitute takes the absentee's seat."""
        return (f"(SELECT COUNT(*) - COUNT(e.substitutes_for) FROM {self.p}enrolments e "
                "WHERE e.programme_code = p.code)")

    def programmes(self, reach: ProgrammeReach, under: str | None, wanted: ProgrammeFilter, after: Key | None,
                   limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Programmes within `reach` (and, with `under`, owned or provided at or below that path)."""
        p = self.p
        scope, params = reach.clause()
        where = [scope]
        if under is not None:
            where.append(f"(ow.path LIKE ? {LIKE_ESCAPE} OR pr.path LIKE ? {LIKE_ESCAPE})")
            params += [like_prefix(under), like_prefix(under)]
        for column, value in (("level", wanted.level), ("form", wanted.form), ("selection", wanted.selection)):
            if value is not None:
                where.append(f"p.{column} = ?")
                params.append(value)
        if wanted.ends_from is not None and wanted.ends_until is not None:
            where.append("p.ends_on >= ? AND p.ends_on <= ?")
            params += [wanted.ends_from.isoformat(), wanted.ends_until.isoformat()]
        if wanted.q:
            condition, values = search(self.db.backend, "p.title", "p.code", wanted.q)
            where.append(condition)
            params += values
        if wanted.open_on is not None:
            # the enrolment rules (domain/programme.py): not rejected, approved if school-based, not
            # ended, a seat left where seats are counted
            where.append("(p.decision IS NULL OR p.decision <> 'rejected') "
                         "AND (p.needs_approval = 0 OR p.decision = 'approved') AND p.ends_on >= ? "
                         f"AND (p.capacity IS NULL OR {self._seats()} < p.capacity)")
            params.append(wanted.open_on.isoformat())
        if wanted.for_teacher is not None:
            where.append(f"p.selection = 'self_selected' AND NOT EXISTS (SELECT 1 FROM {p}enrolments m "
                         "WHERE m.programme_code = p.code AND m.teacher_no = ?)")
            params.append(wanted.for_teacher)
        if after is not None:
            where.append("p.code > ?")
            params.append(after[0])
        rows = self.db.query(
            f"SELECT {self._PROGRAMME_COLUMNS}, {self._seats()} FROM {p}programmes p "
            f"JOIN {p}orgs ow ON ow.org_id = p.owner_org_id JOIN {p}orgs pr ON pr.org_id = p.provider_id "
            f"WHERE {' AND '.join(where)} ORDER BY p.code LIMIT ?", (*params, limit + 1))
        rows, cursor = page(rows, limit, lambda r: [str(r[0])])
        return [self._programme_item(r) for r in rows], cursor

    @staticmethod
    def _programme_item(r: Any) -> dict[str, Any]:
        needs = bool(r[16])
        status = r[15] if r[15] is not None else ("pending" if needs else "not_required")
        return {
            "code": r[0], "title": r[1], "level": r[2], "form": r[3], "selection": r[4],
            "school_based_content": r[5], "hours": hours(int(r[6])), "provider_id": r[7], "provider_name": r[8],
            "owner_org_id": r[9], "owner_name": r[10], "starts_on": r[11], "ends_on": r[12], "sessions": r[13],
            "capacity": r[14], "seats_taken": int(r[17]), "approval": status,
        }

    # --- disputes ------------------------------------------------------------------------
    def disputes(self, *, under: str | None, teacher_no: str | None, status: str | None, after: Key | None,
                 limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Disputes of teachers now at a school at or below `under` (None: anywhere), or of `teacher_no` only."""
        p = self.p
        where = ["1 = 1"]
        params: list[Any] = []
        if under is not None:
            where.append(f"o.path LIKE ? {LIKE_ESCAPE}")
            params.append(like_prefix(under))
        if teacher_no is not None:
            where.append("d.teacher_no = ?")
            params.append(teacher_no)
        if status == "open":
            where.append("d.decision IS NULL")
        elif status == "resolved":
            where.append("d.decision IS NOT NULL")
        if after is not None:
            where.append("d.dispute_id > ?")
            params.append(after[0])
        rows = self.db.query(
            f"SELECT d.dispute_id, d.teacher_no, t.name, t.school_id, o.name, d.programme_code, g.title, d.claim, "
            f"d.opened_at, d.decision, d.reason, d.resolved_at FROM {p}disputes d "
            f"JOIN {p}teachers t ON t.teacher_no = d.teacher_no JOIN {p}orgs o ON o.org_id = t.school_id "
            f"LEFT JOIN {p}programmes g ON g.code = d.programme_code "
            f"WHERE {' AND '.join(where)} ORDER BY d.dispute_id LIMIT ?", (*params, limit + 1))
        rows, cursor = page(rows, limit, lambda r: [str(r[0])])
        items = [{
            "dispute_id": r[0], "teacher_no": r[1], "name": r[2], "school_id": r[3], "school_name": r[4],
            "programme_code": r[5], "programme_title": r[6], "claim": r[7], "opened_at": r[8],
            "status": "open" if r[9] is None else "resolved", "decision": r[9], "reason": r[10],
            "resolved_at": r[11],
        } for r in rows]
        return items, cursor

    # --- approvals -----------------------------------------------------------------------
    def pending_programmes(self, owned_below: list[str]) -> list[dict[str, Any]]:
        """School-based programmes awaiting a decision, owned at or below every path of `owned_below`."""
        p = self.p
        where = ["p.needs_approval = 1", "p.decision IS NULL"]
        params: list[Any] = []
        for path in owned_below:
            where.append(f"ow.path LIKE ? {LIKE_ESCAPE}")
            params.append(like_prefix(path))
        rows = self.db.query(
            f"SELECT {self._PROGRAMME_COLUMNS}, {self._seats()} FROM {p}programmes p "
            f"JOIN {p}orgs ow ON ow.org_id = p.owner_org_id JOIN {p}orgs pr ON pr.org_id = p.provider_id "
            f"WHERE {' AND '.join(where)} ORDER BY p.code", params)
        return [self._programme_item(r) for r in rows]

    def pending_absences(self, reach: AbsenceReach, under: str | None) -> list[dict[str, Any]]:
        """Each side (school, provider) of a pending absence that has not decided yet and that `reach`
        decides, with `under`: whose deciding unit (the teacher's school, the programme's provider)
        lies at or below that path."""
        p = self.p
        rows = self.db.query(
            f"SELECT e.programme_code, g.title, e.teacher_no, t.name, t.school_id, s.name, g.provider_id, pr.name, "
            "e.absence_kind, e.substitute_teacher_no, e.school_decision, e.provider_decision, s.path, pr.path, "
            f"ow.path FROM {p}enrolments e JOIN {p}teachers t ON t.teacher_no = e.teacher_no "
            f"JOIN {p}orgs s ON s.org_id = t.school_id JOIN {p}programmes g ON g.code = e.programme_code "
            f"JOIN {p}orgs pr ON pr.org_id = g.provider_id JOIN {p}orgs ow ON ow.org_id = g.owner_org_id "
            "WHERE e.absence_status = 'pending' ORDER BY e.programme_code, e.teacher_no")

        def below(path: str, paths: tuple[str, ...]) -> bool:
            return any(path.startswith(unit) for unit in paths)

        items = []
        for r in rows:
            school_path, provider_path, owner_path = str(r[12]), str(r[13]), str(r[14])
            sides = []
            if r[10] is None and (reach.everything or below(school_path, reach.school_under)):
                sides.append(("school", school_path))
            if r[11] is None and (reach.everything or r[6] in reach.providers
                                  or below(provider_path, reach.provider_under)
                                  or below(owner_path, reach.provider_under)):
                sides.append(("provider", provider_path))
            for side, path in sides:
                if under is not None and not path.startswith(under):
                    continue
                items.append({
                    "kind": "absence", "side": side, "programme_code": r[0], "programme_title": r[1],
                    "teacher_no": r[2], "name": r[3], "school_id": r[4], "school_name": r[5],
                    "provider_id": r[6], "provider_name": r[7], "absence_kind": r[8],
                    "substitute_teacher_no": r[9],
                })
        return items
