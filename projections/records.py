"""The `records` projection: each event's effect on the read-model tables, as SQL.

One handler per event type. A page of events is applied to a row buffer (`projections.rows`)
and written back in bulk inside the caller's transaction, which also advances the tracking
position, so an event is applied exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.ids import event_id
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY, Policy
from domain.programme import Programme
from domain.rules.late_entry import Occurrence
from domain.teacher import Teacher
from projections.db import Tx
from projections.rows import Rows
from projections.school_years import mark_changed
from projections.teacher_years import derive

AUDIT_HIDDEN = {"originator_id", "originator_version", "timestamp", "actor", "reason", "prev_hash", "chain_hash",
                "originator_topic", "occurred_on", "late_entry", "late_reason"}


def x10(hours: Decimal) -> int:
    return int((hours * 10).to_integral_value())


def x100(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def occurred_on(event: Any) -> date:
    """The date an event's fact happened: its own `occurred_on` (teacher events), else the day it was
    recorded, Asia/Shanghai (domain/rules/late_entry.py)."""
    on = getattr(event, "occurred_on", None)
    return on if isinstance(on, date) else Occurrence.recorded(event.timestamp).on


def registration_date(timestamp: datetime) -> str:
    """The local (policy time zone) date of a registration, for a teacher without a hire date."""
    return DEFAULT_POLICY.local_date(timestamp).isoformat()


def eid(event: Any) -> str:
    return event_id(event.originator_id, event.originator_version)


class Names:
    """Aggregate id → natural id (teacher_no, programme code, org id), cached, backed by the tables.
    These never change once recorded, so the cache outlives transactions."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], str] = {}

    def remember(self, table: str, aggregate_id: Any, natural: str) -> None:
        self.cache[(table, str(aggregate_id))] = natural

    def lookup(self, rows: Rows, table: str, key_column: str, aggregate_id: Any) -> str:
        key = (table, str(aggregate_id))
        if key not in self.cache:
            found = rows.tx.query(f"SELECT {key_column} FROM {rows.p}{table} WHERE aggregate_id = ?",
                                  (str(aggregate_id),))
            if not found:
                msg = f"{table} row for aggregate {aggregate_id} missing: the log was applied out of order"
                raise LookupError(msg)
            self.cache[key] = str(found[0][0])
        return self.cache[key]


class RecordsProjection:
    """Applies events to one generation of tables (`prefix`). With `derive` false (a rebuild's bulk
    load), `rm_teacher_years` is left to `teacher_years.derive_all` once the rows are in."""

    def __init__(self, prefix: str, policy: Policy = DEFAULT_POLICY, derive: bool = True) -> None:
        self.p = prefix
        self.policy = policy
        self.derive = derive
        self.names = Names()
        self.teachers_touched: set[str] = set()  # of the page being applied: their schools' compliance changes
        self.orgs_touched = False  # whether the page being applied changed an org (units' answers change)
        self.handlers: dict[type[Any], Callable[[Rows, Any], None]] = {
            OrgUnit.Registered: self._org_registered,
            OrgUnit.Renamed: self._org_renamed,
            Programme.Defined: self._programme_defined,
            Programme.Decided: self._programme_decided,
            Programme.Resubmitted: self._programme_resubmitted,
            Programme.SessionCancelled: self._session_cancelled,
            Teacher.Registered: self._teacher_registered,
            Teacher.Transferred: self._transferred,
            Teacher.Enrolled: self._enrolled,
            Teacher.AbsenceRequested: self._absence_requested,
            Teacher.AbsenceDecided: self._absence_decided,
            Teacher.AttendanceRecorded: self._attendance,
            Teacher.Assessed: self._assessed,
            Teacher.Evaluated: self._evaluated,
            Teacher.CreditAwarded: self._credit_awarded,
            Teacher.CreditRevoked: self._credit_revoked,
            Teacher.DisputeOpened: self._dispute_opened,
            Teacher.DisputeResolved: self._dispute_resolved,
            Teacher.PriorHoursRecorded: self._prior_hours_recorded,
            Teacher.PriorHoursRevoked: self._prior_hours_revoked,
            Teacher.Corrected: self._corrected,
            Teacher.Departed: self._departed,
            Teacher.EnrolmentWithdrawn: self._withdrawn,
        }

    def apply_page(self, tx: Tx, events: Iterable[tuple[int, Any]]) -> None:
        """Apply `(position, event)` pairs in order, then write the rows back, all in `tx`."""
        rows = Rows(tx, self.p)
        self.teachers_touched = set()
        self.orgs_touched = False
        last = 0
        for position, event in events:
            self.apply(rows, position, event)
            last = position
        touched = {teacher_no for _, teacher_no in rows.touched("enrolments")}
        touched |= {row["teacher_no"] for row in rows.touched_rows("credits")}
        touched |= {row["teacher_no"] for row in rows.touched_rows("prior_hours")}
        rows.flush()
        if self.derive and touched:
            derive(tx, self.p, self.policy, touched)
        if self.derive and last:  # (a rebuild's bulk load starts without stored compliance rows)
            mark_changed(tx, self.p, self.teachers_touched, last, orgs=self.orgs_touched)

    def apply(self, rows: Rows, position: int, event: Any) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(rows, event)
        if isinstance(event, (Teacher.Event, Programme.Event, OrgUnit.Event)):
            self._audit(rows, position, event)
        if isinstance(event, OrgUnit.Event):
            self.orgs_touched = True

    # --- helpers -------------------------------------------------------------------------
    def _teacher(self, rows: Rows, event: Any) -> str:
        return self.names.lookup(rows, "teachers", "teacher_no", event.originator_id)

    def _audit(self, rows: Rows, position: int, event: Any) -> None:
        teacher_no: str | None = None
        org_id: str | None
        if isinstance(event, Teacher.Event):
            aggregate = "teacher"
            teacher_no = self._teacher(rows, event)
            self.teachers_touched.add(teacher_no)
            org_id = _must(rows.get("teachers", teacher_no))["school_id"]
        elif isinstance(event, Programme.Event):
            aggregate = "programme"
            code = self.names.lookup(rows, "programmes", "code", event.originator_id)
            org_id = _must(rows.get("programmes", code))["owner_org_id"]
        else:
            aggregate = "org"
            org_id = self.names.lookup(rows, "orgs", "org_id", event.originator_id)
        rows.insert("audit", {
            "position": position, "type": type(event).__name__, "aggregate": aggregate,
            "teacher_no": teacher_no, "org_id": org_id, "actor_sub": event.actor.get("sub", ""),
            "actor_role": event.actor.get("role", ""), "recorded_at": instant(event.timestamp),
            "reason": event.reason, "occurred_on": occurred_on(event).isoformat(),
            "late_entry": int(getattr(event, "late_entry", False)),
        })

    # --- orgs ----------------------------------------------------------------------------
    def _org_registered(self, rows: Rows, e: Any) -> None:
        path = f"/{e.org_id}/"
        if e.parent_id is not None:
            path = f"{_must(rows.get('orgs', e.parent_id))['path']}{e.org_id}/"
        self.names.remember("orgs", e.originator_id, e.org_id)
        rows.insert("orgs", {"org_id": e.org_id, "aggregate_id": str(e.originator_id), "name": e.name,
                             "kind": e.kind, "parent_id": e.parent_id, "path": path})

    def _org_renamed(self, rows: Rows, e: Any) -> None:
        rows.update("orgs", (self.names.lookup(rows, "orgs", "org_id", e.originator_id),), name=e.name)

    # --- programmes ----------------------------------------------------------------------
    def _programme_defined(self, rows: Rows, e: Any) -> None:
        self.names.remember("programmes", e.originator_id, e.code)
        rows.insert("programmes", {
            "code": e.code, "aggregate_id": str(e.originator_id), "title": e.title, "level": e.level,
            "form": e.form, "selection": e.selection, "school_based_content": e.school_based_content,
            "hours_x10": x10(e.hours), "provider_id": e.provider_id, "owner_org_id": e.owner_org_id,
            "starts_on": e.starts_on.isoformat(), "ends_on": e.ends_on.isoformat(), "session_count": len(e.sessions),
            "capacity": e.capacity, "decision": None,
            "needs_approval": int(e.selection == "school_based" or e.form == "school_based"),
        })

    def _programme_resubmitted(self, rows: Rows, e: Any) -> None:
        rows.update("programmes", (self.names.lookup(rows, "programmes", "code", e.originator_id),),
                    title=e.title, level=e.level, form=e.form, selection=e.selection,
                    school_based_content=e.school_based_content, hours_x10=x10(e.hours), provider_id=e.provider_id,
                    owner_org_id=e.owner_org_id, starts_on=e.starts_on.isoformat(), ends_on=e.ends_on.isoformat(),
                    session_count=len(e.sessions), capacity=e.capacity, decision=None,
                    needs_approval=int(e.selection == "school_based" or e.form == "school_based"))

    def _session_cancelled(self, rows: Rows, e: Any) -> None:
        """The programme loses the session and its hours; every enrolment counts the sessions left."""
        code = self.names.lookup(rows, "programmes", "code", e.originator_id)
        programme = _must(rows.get("programmes", code))
        count = programme["session_count"] - 1
        rows.update("programmes", (code,), hours_x10=programme["hours_x10"] - x10(e.hours), session_count=count)
        stored = rows.tx.query(f"SELECT teacher_no FROM {self.p}enrolments WHERE programme_code = ?", (code,))
        teacher_nos = {str(r[0]) for r in stored} | {key[1] for key in rows.new["enrolments"] if key[0] == code}
        for teacher_no in sorted(teacher_nos):
            rows.update("enrolments", (code, teacher_no), session_count=count)

    def _programme_decided(self, rows: Rows, e: Any) -> None:
        rows.update("programmes", (self.names.lookup(rows, "programmes", "code", e.originator_id),),
                    decision=e.decision)

    # --- teachers ------------------------------------------------------------------------
    def _teacher_registered(self, rows: Rows, e: Any) -> None:
        event_id = eid(e)
        self.names.remember("teachers", e.originator_id, e.teacher_no)
        hired = e.hired_on.isoformat() if e.hired_on else None
        rows.insert("teachers", {"teacher_no": e.teacher_no, "aggregate_id": str(e.originator_id), "name": e.name,
                                 "school_id": e.school_id, "hired_on": hired})
        # Without a hire date, the teacher counts from the day they were registered.
        rows.insert("postings", {"teacher_no": e.teacher_no, "seq": 1, "school_id": e.school_id,
                                 "from_date": hired or registration_date(e.timestamp), "event_id": event_id,
                                 "recorded_at": instant(e.timestamp)})

    def _transferred(self, rows: Rows, e: Any) -> None:
        event_id = eid(e)
        teacher_no = self._teacher(rows, e)
        seq = int(rows.tx.query(f"SELECT COALESCE(MAX(seq), 0) FROM {self.p}postings WHERE teacher_no = ?",
                                (teacher_no,))[0][0])
        while rows.get("postings", teacher_no, seq + 1) is not None:  # postings of this page, not yet written
            seq += 1
        # Each earlier posting ends where the first later one starts (so the posting in force on a
        # day is the one with from_date <= day < until_date, whatever order transfers were recorded in).
        start = e.effective_on.isoformat()
        at = instant(e.timestamp)
        for earlier in range(1, seq + 1):
            row = rows.get("postings", teacher_no, earlier)
            if row is not None and (row["until_date"] is None or row["until_date"] > start):
                rows.update("postings", (teacher_no, earlier), until_date=start, until_recorded_at=at)
        rows.insert("postings", {"teacher_no": teacher_no, "seq": seq + 1, "school_id": e.to_school_id,
                                 "from_date": e.effective_on.isoformat(), "event_id": event_id, "recorded_at": at})
        rows.update("teachers", (teacher_no,), school_id=e.to_school_id)

    def _enrolled(self, rows: Rows, e: Any) -> None:
        programme = e.programme
        rows.insert("enrolments", {
            "programme_code": programme["code"], "teacher_no": self._teacher(rows, e),
            "ends_on": programme["ends_on"].isoformat(), "enrolled_at": instant(e.timestamp),
            "substitutes_for": e.substitutes_for, "sessions_present": 0, "sessions_marked": 0, "marks_corrected": 0,
            # the programme's sessions now (a substitute's copy of the programme may predate a cancellation)
            "session_count": _must(rows.get("programmes", programme["code"]))["session_count"],
        })

    def _absence_requested(self, rows: Rows, e: Any) -> None:
        rows.update("enrolments", (e.programme_code, self._teacher(rows, e)), absence_kind=e.kind,
                    absence_status="pending", substitute_teacher_no=e.substitute_teacher_no, school_decision=None,
                    provider_decision=None)

    def _absence_decided(self, rows: Rows, e: Any) -> None:
        column = "school_decision" if e.by == "school" else "provider_decision"
        row = rows.update("enrolments", (e.programme_code, self._teacher(rows, e)), **{column: e.decision})
        if row is None:
            return
        decisions = (row["school_decision"], row["provider_decision"])
        if "rejected" in decisions:
            row["absence_status"] = "rejected"
        elif decisions == ("approved", "approved"):
            row["absence_status"] = "approved"
            row["absence_approved_at"] = instant(e.timestamp)
        else:
            row["absence_status"] = "pending"

    def _attendance(self, rows: Rows, e: Any) -> None:
        event_id = eid(e)
        teacher_no = self._teacher(rows, e)
        key = (e.programme_code, teacher_no, e.session_no)
        present = int(e.present)
        enrolment = rows.get("enrolments", e.programme_code, teacher_no)
        mark = {"event_id": event_id, "programme_code": e.programme_code, "teacher_no": teacher_no,
                "session_no": e.session_no, "present": present, "recorded_at": instant(e.timestamp)}
        if e.corrects is None:
            rows.insert("marks", mark)
            rows.insert("attendance", {"programme_code": e.programme_code, "teacher_no": teacher_no,
                                       "session_no": e.session_no, "present": present, "event_id": event_id})
            if enrolment is not None:
                rows.update("enrolments", key[:2], sessions_marked=enrolment["sessions_marked"] + 1,
                            sessions_present=enrolment["sessions_present"] + present)
                if present and enrolment["attended_at"] is None:  # its first present mark
                    enrolment["attended_at"] = mark["recorded_at"]
            return
        before = rows.get("attendance", *key)
        if before is None:
            return  # a correction of nothing recorded changes nothing
        was = before["present"]
        rows.update("marks", (before["event_id"],), superseded_at=mark["recorded_at"])
        rows.insert("marks", mark)
        rows.update("attendance", key, present=present, event_id=event_id)
        if enrolment is not None:
            rows.update("enrolments", key[:2], sessions_present=enrolment["sessions_present"] + present - was,
                        marks_corrected=1)

    def _assessed(self, rows: Rows, e: Any) -> None:
        rows.update("enrolments", (e.programme_code, self._teacher(rows, e)), assessment_result=e.result,
                    assessment_late=int(e.late), assessed_at=instant(e.timestamp))

    def _evaluated(self, rows: Rows, e: Any) -> None:
        rows.update("enrolments", (e.programme_code, self._teacher(rows, e)), evaluated_at=instant(e.timestamp),
                    evaluation_late=int(e.late))

    def _credit_awarded(self, rows: Rows, e: Any) -> None:
        event_id = eid(e)
        p = e.programme
        rows.insert("credits", {
            "credit_id": e.credit_id, "teacher_no": self._teacher(rows, e), "programme_code": p["code"],
            "title": p["title"], "level": p["level"], "form": p["form"], "selection": p["selection"],
            "school_based_content": p["school_based_content"], "hours_x10": x10(e.hours),
            "credits_x100": x100(e.credits), "year": e.year, "awarded_on": e.awarded_on.isoformat(),
            "awarded_at": instant(e.timestamp), "certified_by": e.actor.get("sub", ""),
            "certifier_role": e.actor.get("role", ""), "school_id": e.school_id, "event_id": event_id,
            "policy_version": e.policy_version, "status": "valid",
        })

    def _credit_revoked(self, rows: Rows, e: Any) -> None:
        event_id = eid(e)
        rows.update("credits", (e.credit_id,), status="revoked", revoked_event_id=event_id, revoked_reason=e.reason,
                    revoked_at=instant(e.timestamp))

    def _corrected(self, rows: Rows, e: Any) -> None:
        teacher_no = self._teacher(rows, e)
        if e.name is not None:
            rows.update("teachers", (teacher_no,), name=e.name)
        if e.hired_on is not None:
            rows.update("teachers", (teacher_no,), hired_on=e.hired_on.isoformat())
            first = _must(rows.get("postings", teacher_no, 1))
            rows.insert("starts", {"event_id": eid(e), "teacher_no": teacher_no, "recorded_at": instant(e.timestamp),
                                   "previous_from": first["from_date"]})
            rows.update("postings", (teacher_no, 1), from_date=e.hired_on.isoformat())  # the first posting starts then

    def _departed(self, rows: Rows, e: Any) -> None:
        """From `effective_on` no posting is in force: each ends then at the latest."""
        teacher_no = self._teacher(rows, e)
        end = e.effective_on.isoformat()
        rows.update("teachers", (teacher_no,), departed_on=end, departure_kind=e.kind)
        seq = int(rows.tx.query(f"SELECT COALESCE(MAX(seq), 0) FROM {self.p}postings WHERE teacher_no = ?",
                                (teacher_no,))[0][0])
        while rows.get("postings", teacher_no, seq + 1) is not None:  # postings of this page, not yet written
            seq += 1
        for nth in range(1, seq + 1):
            row = rows.get("postings", teacher_no, nth)
            if row is not None and (row["until_date"] is None or row["until_date"] > end):
                rows.update("postings", (teacher_no, nth), until_date=end, until_recorded_at=instant(e.timestamp))

    def _withdrawn(self, rows: Rows, e: Any) -> None:
        rows.delete("enrolments", (e.programme_code, self._teacher(rows, e)))

    def _dispute_opened(self, rows: Rows, e: Any) -> None:
        rows.insert("disputes", {"dispute_id": e.dispute_id, "teacher_no": self._teacher(rows, e),
                                 "programme_code": e.programme_code, "claim": e.claim,
                                 "opened_at": instant(e.timestamp)})
        self._cite(rows, e.evidence, e.dispute_id, self._teacher(rows, e))

    @staticmethod
    def _cite(rows: Rows, evidence: Any, cited_by: str, teacher_no: str) -> None:
        """The evidence files a record cites, by sha256 (each once)."""
        for sha256 in dict.fromkeys(str(item.get("sha256", "")) for item in evidence or ()):
            if sha256:
                rows.insert("citations", {"sha256": sha256, "cited_by": cited_by, "teacher_no": teacher_no})

    def _dispute_resolved(self, rows: Rows, e: Any) -> None:
        rows.update("disputes", (e.dispute_id,), decision=e.decision, reason=e.reason,
                    resolved_at=instant(e.timestamp))

    def _prior_hours_recorded(self, rows: Rows, e: Any) -> None:
        rows.insert("prior_hours", {
            "record_id": e.record_id, "teacher_no": self._teacher(rows, e), "year": e.year,
            "hours_x10": x10(e.hours), "self_selected_x10": x10(e.self_selected),
            "school_based_x10": x10(e.school_based), "concentrated_x10": x10(e.concentrated), "source": e.source,
            "recorded_at": instant(e.timestamp), "recorded_by": e.actor.get("sub", ""),
            "recorder_role": e.actor.get("role", ""), "event_id": eid(e), "status": "valid",
        })
        self._cite(rows, e.evidence, e.record_id, self._teacher(rows, e))

    def _prior_hours_revoked(self, rows: Rows, e: Any) -> None:
        rows.update("prior_hours", (e.record_id,), status="revoked", revoked_event_id=eid(e), revoked_reason=e.reason,
                    revoked_at=instant(e.timestamp))


def _must(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        msg = "a row the event refers to is missing: the log was applied out of order"
        raise LookupError(msg)
    return row
