"""Reads served from the read model (projections), waiting for the caller's writes first."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.errors import Invalid, NotFound, Unavailable
from domain.ids import event_id, org_uuid, teacher_uuid
from domain.org import OrgUnit
from domain.programme import Programme
from projections.db import open_read_model_db
from projections.records import instant
from projections.reports import Reports, answer_json, summary_of
from projections.view import ReadModel
from service.application.base import TrainRecBase
from service.application.values import ensure_instant
from service.auth.scopes import ROSTER_READ, Kind
from service.queries.roster_as_of import programme_as_of, recorded_by, roster_as_of
from service.storage.bulk_reads import notifications

READ_WAIT_SECONDS = 5.0


def sessions_held(programme: Programme, today: date) -> int:
    """The programme's sessions dated on or before `today` (its plan, as recorded)."""
    return sum(1 for session in programme.sessions if session["on"] <= today)


def ensure_depth(depth: int) -> None:
    """How far down a compliance answer goes: 1, its children; 2, their children too."""
    if depth not in (1, 2):
        raise Invalid("invalid_depth", "depth is 1 (the unit's children) or 2 (their children too)")


_OPENING = threading.Lock()  # one read model per application, however many threads ask first


class ReportQueries(TrainRecBase):
    _read_model: ReadModel | None = None

    @property
    def read_model(self) -> ReadModel:
        """The read model, opened on first use: by one thread only (two threads asking at once
        would each open one, with its own connections, and one would be left open)."""
        if self._read_model is None:
            with _OPENING:
                if self._read_model is None:
                    self._read_model = ReadModel(self, open_read_model_db(self.storage.location()))
        return self._read_model

    @property
    def reports(self) -> Reports:
        return Reports(self.read_model.db, self.read_model.prefix, self.policy)

    def fresh_reports(self) -> tuple[Reports, dict[str, Any]]:
        """Read your writes: wait (bounded) until the tables reflect everything recorded so far.
        When they cannot catch up in time the answer says how far behind it is."""
        head = self.read_model.head()
        caught_up = self.read_model.wait_for(head, READ_WAIT_SECONDS)
        freshness: dict[str, Any] = {}
        if not caught_up:
            freshness = {"stale": {"position": self.read_model.position(), "head": head}}
        return self.reports, freshness

    def roster(self, actor: Actor, code: str, as_of: datetime | None = None) -> dict[str, Any]:
        """The roster from the read model; with `as_of`, as it stood then (`roster_as_of`)."""
        self.scopes.gate(actor, ROSTER_READ)
        programme = self.lookup(actor, Programme, Kind.PROGRAMME, code)
        self.scopes.ensure_roster_read(actor, programme)
        reports, freshness = self.fresh_reports()
        if as_of is not None:
            return {**self._roster_as_of(reports, code, self._reported_instant(as_of)), **freshness}
        today = self.policy.local_date(self.clock())
        roster = reports.roster(code, today, held=sessions_held(programme, today))
        if roster is None:
            raise Unavailable("projection_behind", f"programme {code} is recorded but not yet in the read model")
        return {**roster, **freshness}

    def roster_marks(self, actor: Actor, code: str) -> dict[str, Any]:
        """What a roster's forms start from, to its readers (as `roster`): each session's marks as
        recorded now (`attendance`: session no → teacher no → present) and the hours of each
        trainee's valid credit for the programme (`credited`: teacher no → hours)."""
        self.scopes.gate(actor, ROSTER_READ)
        programme = self.lookup(actor, Programme, Kind.PROGRAMME, code)
        self.scopes.ensure_roster_read(actor, programme)
        reports, freshness = self.fresh_reports()
        attendance: dict[int, dict[str, bool]] = {}
        for session_no, teacher_no, present in reports.db.query(
            f"SELECT session_no, teacher_no, present FROM {reports.p}attendance WHERE programme_code = ?",  # noqa: S608
            (code,),
        ):
            attendance.setdefault(int(session_no), {})[str(teacher_no)] = bool(present)
        credited = {str(teacher_no): Decimal(hours_x10) / 10 for teacher_no, hours_x10 in reports.db.query(
            f"SELECT teacher_no, hours_x10 FROM {reports.p}credits WHERE programme_code = ? "  # noqa: S608
            "AND status = 'valid'", (code,))}
        return {"attendance": attendance, "credited": credited, **freshness}

    def _reported_instant(self, as_of: datetime) -> datetime:
        """The instant a report `as_of` is made at: `as_of`, or now when it is later (what is recorded
        by a later instant is not known yet)."""
        ensure_instant(as_of, "as_of")
        return min(as_of, self.clock())

    def _org_name_as_of(self, org_id: str, at: datetime) -> str | None:
        named = [event.name for event in recorded_by(self.events.get(org_uuid(org_id)), at)]
        return named[-1] if named else None

    def _teacher_names_as_of(self, reports: Reports, result: dict[str, Any], at: datetime) -> None:
        """The teachers a report as of `at` lists, named as they were then: those whose name was
        corrected after `at` (the audit index finds them) from their events recorded by then."""
        corrected = reports.corrected_after(instant(at))
        then: dict[str, str | None] = {}
        for shortfall in result.get("shortfalls", []):
            for teacher in shortfall.get("teachers", []):
                no = teacher["teacher_no"]
                if no not in corrected:
                    continue
                if no not in then:
                    names = [name for event in recorded_by(self.events.get(teacher_uuid(no)), at)
                             if (name := getattr(event, "name", None)) is not None]
                    then[no] = names[-1] if names else None
                teacher["name"] = then[no] or teacher["name"]

    def _roster_as_of(self, reports: Reports, code: str, at: datetime) -> dict[str, Any]:
        programme = programme_as_of(self.events, code, at)
        if programme is None:
            raise NotFound("programme_not_found", f"programme {code} was not recorded by {at.isoformat()}")
        today = self.policy.local_date(at)
        teachers = reports.enrolled_teachers(code, instant(at))
        withdrawn = reports.withdrawals_after(instant(at))  # enrolled then, perhaps, and withdrawn since
        if withdrawn:
            events = self._decoded([position for position, _ in withdrawn])
            teachers += [teacher_no for position, teacher_no in withdrawn
                         if getattr(events[position], "programme_code", None) == code]
        roster = roster_as_of(self.events, self.policy, programme, sorted(set(teachers)), at,
                              sessions_held(programme, today))
        if roster is None:
            raise Unavailable("projection_behind", f"programme {code} is recorded but not yet in the read model")
        return {**roster, "as_of": at.isoformat()}

    def top_org_id(self) -> str | None:
        """The unit at the top of the tree (the first, by id, if several): an admin's home page."""
        reports, _ = self.fresh_reports()
        rows = reports.db.query(f"SELECT org_id FROM {reports.p}orgs WHERE parent_id IS NULL "  # noqa: S608 - the prefix
                                "AND kind <> 'provider' ORDER BY org_id LIMIT 1")
        return str(rows[0][0]) if rows else None

    def org_names(self, org_ids: list[str]) -> dict[str, str]:
        """The names of units whose ids a scoped answer already gave (a roster's schools, a
        programme's provider and owner), so a page shows names; ids not in the tables are left out."""
        wanted = sorted({org_id for org_id in org_ids if org_id})
        if not wanted:
            return {}
        reports, _ = self.fresh_reports()
        marks = ", ".join("?" for _ in wanted)
        rows = reports.db.query(f"SELECT org_id, name FROM {reports.p}orgs WHERE org_id IN ({marks})",  # noqa: S608
                                tuple(wanted))
        return {str(r[0]): str(r[1]) for r in rows if r[1] is not None}

    def compliance(self, actor: Actor, org_id: str, year: int, as_of: datetime | None = None, depth: int = 1
                   ) -> dict[str, Any]:
        """The unit's figures and its children's; with `depth` 2 each child's children's too."""
        ensure_depth(depth)
        reports, freshness = self._compliance_reports(actor, org_id, year)
        if as_of is not None:
            at = self._reported_instant(as_of)
            result = reports.compliance(org_id, year, self.policy.local_date(at), at=at)
            if result is None:
                raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
            if depth == 2:
                reports.add_grandchildren(result, year, self.policy.local_date(at), at=at)
            # units as they were named then (org units are renamed, never moved)
            kids = result.get("children", [])
            for unit in [result, *kids, *(grandkid for kid in kids for grandkid in kid.get("children", []))]:
                unit["name"] = self._org_name_as_of(unit["org_id"], at) or unit["name"]
            self._teacher_names_as_of(reports, result, at)
            return {**result, "as_of": at.isoformat(), **freshness}
        today = self.policy.local_date(self.clock())
        result = reports.compliance(org_id, year, today)
        if result is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        if depth == 2:
            reports.add_grandchildren(result, year, today)
        return {**result, **freshness}

    def compliance_changes(self, actor: Actor, org_id: str, year: int, since: datetime) -> dict[str, Any]:
        """What the unit's figures for `year` were at `since` and are now, and every event recorded
        after `since` that moved one of them, oldest first."""
        at = self._reported_instant(since)
        then = self.compliance(actor, org_id, year, as_of=at)
        reports, freshness = self.fresh_reports()
        now = reports.compliance(org_id, year, self.policy.local_date(self.clock()), children=False)
        moved = reports.compliance_changes(org_id, year, self.policy.local_date(self.clock()), at, self._decoded)
        if now is None or moved is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        decoded = self._decoded([change.position for change in moved])
        events = []
        for change in moved:
            event = decoded[change.position]
            events.append({"event_id": event_id(event.originator_id, event.originator_version), "type": change.type,
                           "teacher_no": change.teacher_no, "recorded_at": change.recorded_at,
                           "occurred_on": change.occurred_on, "late_entry": change.late_entry,
                           "actor": change.actor})
        return {"org_id": org_id, "year": year, "since": at.isoformat(), "figures_then": then["figures"],
                "figures_now": now["figures"], "events": events, **freshness}

    def _decoded(self, positions: list[int]) -> dict[int, Any]:
        """The events at these log positions."""
        stored = notifications(self.recorder, positions)
        return {position: self.mapper.to_domain_event(stored[position]) for position in positions}

    def compliance_summary(self, actor: Actor, org_id: str, year: int, as_of: datetime | None = None
                           ) -> dict[str, Any]:
        """`compliance` as a page shows it: each shortfall with its `count` and first named teachers,
        without every teacher's number (projections/unit_answers.py: a county's summary is kB, its
        answer megabytes)."""
        if as_of is not None:
            return summary_of(self.compliance(actor, org_id, year, as_of))
        reports, freshness = self._compliance_reports(actor, org_id, year)
        result = reports.compliance_summary(org_id, year, self.policy.local_date(self.clock()))
        if result is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        return {**result, **freshness}

    def compliance_json(self, actor: Actor, org_id: str, year: int, as_of: datetime | None = None, depth: int = 1
                        ) -> str:
        """`compliance` as JSON text: what the API sends, without parsing a stored answer only to
        write it out again (a county's is megabytes)."""
        ensure_depth(depth)
        if as_of is not None or depth != 1:
            return answer_json(self.compliance(actor, org_id, year, as_of, depth))
        reports, freshness = self._compliance_reports(actor, org_id, year)
        text = reports.compliance_json(org_id, year, self.policy.local_date(self.clock()))
        if text is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        if not freshness:
            return text
        return f"{text[:-1]},{answer_json(freshness)[1:]}"  # the object's members, then the freshness's

    def _compliance_reports(self, actor: Actor, org_id: str, year: int) -> tuple[Reports, dict[str, Any]]:
        if not 1990 <= year <= 2100:
            raise Invalid("invalid_year", "year must be between 1990 and 2100")
        self.scopes.ensure_org_read(actor, org_id)  # before existence: unknown ids are outside the scope too
        self.lookup(actor, OrgUnit, Kind.ORG, org_id)
        return self.fresh_reports()

    def close(self) -> None:
        if self._read_model is not None:
            self._read_model.close()
            self._read_model = None
        super().close()
