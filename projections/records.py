"""The `records` projection: each event's effect on the read-model tables, as SQL.

One handler per event type. Handlers run inside the caller's transaction, which also
advances the tracking position, so an event is applied exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.ids import event_id
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY
from domain.programme import Programme
from domain.teacher import Teacher
from projections.db import Tx
from service.application import json_safe

AUDIT_HIDDEN = {"originator_id", "originator_version", "timestamp", "actor", "reason", "prev_hash", "chain_hash",
                "originator_topic"}


def x10(hours: Decimal) -> int:
    return int((hours * 10).to_integral_value())


def x100(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def registration_date(timestamp: datetime) -> str:
    """The local (policy time zone) date of a registration, for a teacher without a hire date."""
    return DEFAULT_POLICY.local_date(timestamp).isoformat()


def eid(event: Any) -> str:
    return event_id(event.originator_id, event.originator_version)


class Names:
    """Aggregate id → natural id (teacher_no, programme code, org id), cached, backed by the tables."""

    def __init__(self, prefix: str) -> None:
        self.p = prefix
        self.cache: dict[tuple[str, str], str] = {}

    def remember(self, table: str, aggregate_id: Any, natural: str) -> None:
        self.cache[(table, str(aggregate_id))] = natural

    def lookup(self, tx: Tx, table: str, key_column: str, aggregate_id: Any) -> str:
        key = (table, str(aggregate_id))
        if key not in self.cache:
            rows = tx.query(f"SELECT {key_column} FROM {self.p}{table} WHERE aggregate_id = ?", (str(aggregate_id),))
            if not rows:
                msg = f"{table} row for aggregate {aggregate_id} missing: the log was applied out of order"
                raise LookupError(msg)
            self.cache[key] = str(rows[0][0])
        return self.cache[key]


class RecordsProjection:
    """Applies events to one generation of tables (`prefix`)."""

    def __init__(self, prefix: str) -> None:
        self.p = prefix
        self.names = Names(prefix)
        self.school_of: dict[str, str] = {}
        self.applied_up_to: int | None = None
        self.owner_of: dict[str, str] = {}
        self.handlers: dict[type[Any], Callable[[Tx, Any], None]] = {
            OrgUnit.Registered: self._org_registered,
            OrgUnit.Renamed: self._org_renamed,
            Programme.Defined: self._programme_defined,
            Programme.Decided: self._programme_decided,
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
        }

    def forget(self) -> None:
        """Drop the caches of mutable facts (a teacher's school), e.g. after a rolled-back page or
        when another applier applied events this one did not see."""
        self.school_of.clear()

    def apply(self, tx: Tx, position: int, event: Any) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(tx, event)
        if isinstance(event, (Teacher.Event, Programme.Event, OrgUnit.Event)):
            self._audit(tx, position, event)

    # --- helpers -------------------------------------------------------------------------
    def _teacher(self, tx: Tx, event: Any) -> str:
        return self.names.lookup(tx, "teachers", "teacher_no", event.originator_id)

    def _audit(self, tx: Tx, position: int, event: Any) -> None:
        teacher_no: str | None = None
        org_id: str | None
        if isinstance(event, Teacher.Event):
            aggregate = "teacher"
            teacher_no = self._teacher(tx, event)
            if teacher_no not in self.school_of:
                rows = tx.query(f"SELECT school_id FROM {self.p}teachers WHERE teacher_no = ?", (teacher_no,))
                self.school_of[teacher_no] = str(rows[0][0])
            org_id = self.school_of[teacher_no]
        elif isinstance(event, Programme.Event):
            aggregate = "programme"
            code = self.names.lookup(tx, "programmes", "code", event.originator_id)
            if code not in self.owner_of:  # a programme's owner never changes
                rows = tx.query(f"SELECT owner_org_id FROM {self.p}programmes WHERE code = ?", (code,))
                self.owner_of[code] = str(rows[0][0])
            org_id = self.owner_of[code]
        else:
            aggregate = "org"
            org_id = self.names.lookup(tx, "orgs", "org_id", event.originator_id)
        data = json_safe({k: v for k, v in vars(event).items() if k not in AUDIT_HIDDEN})
        tx.execute(
            f"INSERT INTO {self.p}audit (position, event_id, type, aggregate, teacher_no, org_id, actor_sub, "
            "actor_role, recorded_at, reason, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (position, eid(event), type(event).__name__, aggregate, teacher_no, org_id, event.actor.get("sub", ""),
             event.actor.get("role", ""), instant(event.timestamp), event.reason,
             json.dumps(data, ensure_ascii=False, sort_keys=True)),
        )

    # --- orgs ----------------------------------------------------------------------------
    def _org_registered(self, tx: Tx, e: Any) -> None:
        path = f"/{e.org_id}/"
        if e.parent_id is not None:
            rows = tx.query(f"SELECT path FROM {self.p}orgs WHERE org_id = ?", (e.parent_id,))
            path = f"{rows[0][0]}{e.org_id}/"
        self.names.remember("orgs", e.originator_id, e.org_id)
        tx.execute(
            f"INSERT INTO {self.p}orgs (org_id, aggregate_id, name, kind, parent_id, path) VALUES (?,?,?,?,?,?)",
            (e.org_id, str(e.originator_id), e.name, e.kind, e.parent_id, path),
        )

    def _org_renamed(self, tx: Tx, e: Any) -> None:
        org_id = self.names.lookup(tx, "orgs", "org_id", e.originator_id)
        tx.execute(f"UPDATE {self.p}orgs SET name = ? WHERE org_id = ?", (e.name, org_id))

    # --- programmes ----------------------------------------------------------------------
    def _programme_defined(self, tx: Tx, e: Any) -> None:
        self.names.remember("programmes", e.originator_id, e.code)
        self.owner_of[e.code] = e.owner_org_id
        needs = int(e.selection == "school_based" or e.form == "school_based")
        tx.execute(
            f"INSERT INTO {self.p}programmes (code, aggregate_id, title, level, form, selection, school_based_content, "
            "hours_x10, provider_id, owner_org_id, starts_on, ends_on, session_count, capacity, decision, "
            "needs_approval) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.code, str(e.originator_id), e.title, e.level, e.form, e.selection, e.school_based_content,
             x10(e.hours), e.provider_id, e.owner_org_id, e.starts_on.isoformat(), e.ends_on.isoformat(),
             len(e.sessions), e.capacity, None, needs),
        )

    def _programme_decided(self, tx: Tx, e: Any) -> None:
        code = self.names.lookup(tx, "programmes", "code", e.originator_id)
        tx.execute(f"UPDATE {self.p}programmes SET decision = ? WHERE code = ?", (e.decision, code))

    # --- teachers ------------------------------------------------------------------------
    def _teacher_registered(self, tx: Tx, e: Any) -> None:
        self.names.remember("teachers", e.originator_id, e.teacher_no)
        self.school_of[e.teacher_no] = e.school_id
        hired = e.hired_on.isoformat() if e.hired_on else None
        # Without a hire date, the teacher counts from the day they were registered.
        joined = hired or registration_date(e.timestamp)
        tx.execute(
            f"INSERT INTO {self.p}teachers (teacher_no, aggregate_id, name, school_id, hired_on) VALUES (?,?,?,?,?)",
            (e.teacher_no, str(e.originator_id), e.name, e.school_id, hired),
        )
        tx.execute(
            f"INSERT INTO {self.p}postings (teacher_no, seq, school_id, from_date, event_id) VALUES (?,?,?,?,?)",
            (e.teacher_no, 1, e.school_id, joined, eid(e)),
        )

    def _transferred(self, tx: Tx, e: Any) -> None:
        teacher_no = self._teacher(tx, e)
        seq = tx.query(f"SELECT MAX(seq) FROM {self.p}postings WHERE teacher_no = ?", (teacher_no,))[0][0]
        tx.execute(
            f"INSERT INTO {self.p}postings (teacher_no, seq, school_id, from_date, event_id) VALUES (?,?,?,?,?)",
            (teacher_no, int(seq) + 1, e.to_school_id, e.effective_on.isoformat(), eid(e)),
        )
        tx.execute(f"UPDATE {self.p}teachers SET school_id = ? WHERE teacher_no = ?", (e.to_school_id, teacher_no))
        self.school_of[teacher_no] = e.to_school_id

    def _enrolled(self, tx: Tx, e: Any) -> None:
        teacher_no = self._teacher(tx, e)
        programme = e.programme
        tx.execute(
            f"INSERT INTO {self.p}enrolments (programme_code, teacher_no, ends_on, enrolled_at, substitutes_for, "
            "sessions_present, sessions_marked, session_count) VALUES (?,?,?,?,?,?,?,?)",
            (programme["code"], teacher_no, programme["ends_on"].isoformat(), instant(e.timestamp),
             e.substitutes_for, 0, 0, len(programme["session_nos"])),
        )

    def _absence_requested(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"UPDATE {self.p}enrolments SET absence_kind = ?, absence_status = 'pending', substitute_teacher_no = ?, "
            "school_decision = NULL, provider_decision = NULL WHERE programme_code = ? AND teacher_no = ?",
            (e.kind, e.substitute_teacher_no, e.programme_code, self._teacher(tx, e)),
        )

    def _absence_decided(self, tx: Tx, e: Any) -> None:
        teacher_no = self._teacher(tx, e)
        column = "school_decision" if e.by == "school" else "provider_decision"
        tx.execute(
            f"UPDATE {self.p}enrolments SET {column} = ? WHERE programme_code = ? AND teacher_no = ?",
            (e.decision, e.programme_code, teacher_no),
        )
        tx.execute(
            f"UPDATE {self.p}enrolments SET absence_status = CASE "
            "WHEN school_decision = 'rejected' OR provider_decision = 'rejected' THEN 'rejected' "
            "WHEN school_decision = 'approved' AND provider_decision = 'approved' THEN 'approved' "
            "ELSE 'pending' END WHERE programme_code = ? AND teacher_no = ?",
            (e.programme_code, teacher_no),
        )

    def _attendance(self, tx: Tx, e: Any) -> None:
        teacher_no = self._teacher(tx, e)
        key = (e.programme_code, teacher_no, e.session_no)
        if e.corrects is None:
            tx.execute(
                f"INSERT INTO {self.p}attendance (programme_code, teacher_no, session_no, present, event_id) "
                "VALUES (?,?,?,?,?)",
                (*key, int(e.present), eid(e)),
            )
        else:
            tx.execute(
                f"UPDATE {self.p}attendance SET present = ?, event_id = ? "
                "WHERE programme_code = ? AND teacher_no = ? AND session_no = ?",
                (int(e.present), eid(e), *key),
            )
        tx.execute(
            f"UPDATE {self.p}enrolments SET "
            f"sessions_present = (SELECT COUNT(*) FROM {self.p}attendance a WHERE a.programme_code = ? "
            "AND a.teacher_no = ? AND a.present = 1), "
            f"sessions_marked = (SELECT COUNT(*) FROM {self.p}attendance a WHERE a.programme_code = ? "
            "AND a.teacher_no = ?) WHERE programme_code = ? AND teacher_no = ?",
            (e.programme_code, teacher_no) * 3,
        )

    def _assessed(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"UPDATE {self.p}enrolments SET assessment_result = ?, assessment_late = ?, assessed_at = ? "
            "WHERE programme_code = ? AND teacher_no = ?",
            (e.result, int(e.late), instant(e.timestamp), e.programme_code, self._teacher(tx, e)),
        )

    def _evaluated(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"UPDATE {self.p}enrolments SET evaluated_at = ?, evaluation_late = ? "
            "WHERE programme_code = ? AND teacher_no = ?",
            (instant(e.timestamp), int(e.late), e.programme_code, self._teacher(tx, e)),
        )

    def _credit_awarded(self, tx: Tx, e: Any) -> None:
        p = e.programme
        tx.execute(
            f"INSERT INTO {self.p}credits (credit_id, teacher_no, programme_code, title, level, form, selection, "
            "school_based_content, hours_x10, credits_x100, year, awarded_on, awarded_at, certified_by, "
            "certifier_role, school_id, event_id, policy_version, status) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.credit_id, self._teacher(tx, e), p["code"], p["title"], p["level"], p["form"], p["selection"],
             p["school_based_content"], x10(e.hours), x100(e.credits), e.year, e.awarded_on.isoformat(),
             instant(e.timestamp), e.actor.get("sub", ""), e.actor.get("role", ""), e.school_id, eid(e),
             e.policy_version, "valid"),
        )

    def _credit_revoked(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"UPDATE {self.p}credits SET status = 'revoked', revoked_event_id = ?, revoked_reason = ? "
            "WHERE credit_id = ?",
            (eid(e), e.reason, e.credit_id),
        )

    def _dispute_opened(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"INSERT INTO {self.p}disputes (dispute_id, teacher_no, programme_code, claim, opened_at) "
            "VALUES (?,?,?,?,?)",
            (e.dispute_id, self._teacher(tx, e), e.programme_code, e.claim, instant(e.timestamp)),
        )

    def _dispute_resolved(self, tx: Tx, e: Any) -> None:
        tx.execute(
            f"UPDATE {self.p}disputes SET decision = ?, reason = ?, resolved_at = ? WHERE dispute_id = ?",
            (e.decision, e.reason, instant(e.timestamp), e.dispute_id),
        )
