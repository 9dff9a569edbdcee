"""Plain-data queries answered from the event store itself (a replay), scope-checked."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.errors import NotFound, Unavailable
from domain.ids import event_id, teacher_uuid
from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from projections.records import occurred_on
from projections.transcript import transcript_of
from service.application.values import ensure_instant, json_safe
from service.auth.scopes import TEACHER_READ, Kind
from service.queries.reports import ReportQueries
from service.queries.roster_as_of import recorded_by
from service.queries.verify import ChainVerifier, Verification
from service.queries.verify_read_model import DEFAULT_SCOPE, ReadModelVerifier, ensure_scope, verification_answer

GATED_TYPES = ("Assessed", "CreditAwarded")
_CREATING = threading.Lock()  # one verifier per application, however many requests ask at once
HISTORY_HIDDEN = ("originator_id", "originator_version", "timestamp", "actor", "reason", "prev_hash",
                  "chain_hash", "originator_topic", "occurred_on", "late_entry", "late_reason")


class Queries(ReportQueries):
    def _teacher(self, teacher_no: str, actor: Actor | None = None) -> Teacher:
        """The teacher now; named by `actor`, an unknown number is answered as its scope allows (`lookup`)."""
        return self.lookup(actor, Teacher, Kind.TEACHER, teacher_no)

    def teacher_as_of(self, teacher_no: str, as_of: datetime) -> Teacher:
        """The teacher exactly as recorded at `as_of`: a replay of the events recorded up to then."""
        ensure_instant(as_of, "as_of")
        aggregate: Any = None
        for event in recorded_by(self.events.get(teacher_uuid(teacher_no)), as_of):
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            raise NotFound("teacher_not_found", f"no teacher {teacher_no} was recorded by {as_of.isoformat()}")
        assert isinstance(aggregate, Teacher)
        return aggregate

    def programme(self, actor: Actor, code: str) -> dict[str, Any]:
        school = self._teacher(actor.teacher_no, actor).school_id if actor.teacher_no else None
        programme = self.lookup(actor, Programme, Kind.PROGRAMME, code)
        self.scopes.ensure_programme_read(actor, programme, school)
        return {
            **programme.facts(),
            "sessions": programme.sessions,
            "capacity": programme.capacity,
            "decision": programme.decision,
            "needs_approval": programme.needs_approval,
            "seats_taken": len(programme.seats) if programme.capacity is not None else None,
        }

    def org(self, actor: Actor, org_id: str) -> dict[str, Any]:
        self.scopes.ensure_org_read(actor, org_id)
        org = self.lookup(actor, OrgUnit, Kind.ORG, org_id)
        return {"org_id": org.org_id, "name": org.name, "kind": org.kind, "parent_id": org.parent_id}

    def teacher_history(self, actor: Actor, teacher_no: str) -> list[dict[str, Any]]:
        """Every event of the teacher, oldest first, with who acted and why."""
        self.scopes.gate(actor, TEACHER_READ)
        teacher = self._teacher(teacher_no, actor)
        self.scopes.ensure_teacher_read(actor, teacher)
        lines = [history_line(event) for event in self.events.get(teacher.id)]
        if actor.teacher_no != teacher_no:
            return lines
        # R6 (docs/domain.md): the trainee sees a programme's assessment and hours only after evaluating it.
        pending = {e.code for e in teacher.enrolments.values() if e.assessment is not None and e.evaluation is None}
        for line in lines:
            code = line["data"].get("programme_code") or (line["data"].get("programme") or {}).get("code")
            if line["type"] in GATED_TYPES and code in pending:
                line["data"] = {"programme_code": code, "hidden_until": "evaluated"}
        return lines

    def transcript(self, actor: Actor, teacher_no: str, as_of: datetime | None = None) -> dict[str, Any]:
        """The transcript from the read model (after waiting for the caller's writes), or, with
        `as_of`, from a replay of the events recorded up to that instant."""
        trainee = actor.teacher_no == teacher_no
        self.scopes.gate(actor, TEACHER_READ)
        if as_of is None:
            # The tables reflect every event recorded before this read (or say they do not), so
            # the teacher's school there is the one to check the scope against; the aggregate is
            # loaded only when the tables do not know the teacher (unknown: 404 to an admin or the
            # teacher, outside the scope to anyone else; not yet projected: 503).
            reports, freshness = self.fresh_reports()
            known = None if freshness else reports.teacher_ref(teacher_no)  # stale tables: ask the aggregate
            self.scopes.ensure_teacher_read(actor, known or self._teacher(teacher_no, actor))
            answer = reports.transcript(teacher_no, self.policy.local_date(self.clock()), trainee)
            if answer is None:
                raise Unavailable("projection_behind", f"teacher {teacher_no} is not yet in the read model")
            return {**answer, **freshness}
        self.scopes.ensure_teacher_read(actor, self._teacher(teacher_no, actor))
        teacher = self.teacher_as_of(teacher_no, as_of)
        replayed = transcript_of(teacher, self.policy, self.policy.local_date(as_of), viewer_is_trainee=trainee)
        return {**replayed, "as_of": as_of.isoformat()}

    def transcript_replay(self, teacher_no: str, viewer_is_trainee: bool = False) -> dict[str, Any]:
        """The transcript computed from the aggregate itself, to compare with the read model."""
        teacher = self._teacher(teacher_no)
        return transcript_of(teacher, self.policy, self.policy.local_date(self.clock()),
                             viewer_is_trainee=viewer_is_trainee)

    _verifier: ChainVerifier | None = None

    @property
    def chain_verifier(self) -> ChainVerifier:
        """The store's tamper-evidence check, remembering how far it verified (one per application)."""
        if self._verifier is None:
            with _CREATING:
                if self._verifier is None:
                    self._verifier = ChainVerifier(self, self.read_model.db)
        return self._verifier

    def verify(self, actor: Actor, *, full: bool = False) -> Verification:
        """Check the hash chains of what was recorded since the last verification (`full`: of the
        whole log again). Admins and auditors."""
        self.scopes.ensure_audit_read(actor)
        return self.chain_verifier.verify(full=full)

    _read_model_verifier: ReadModelVerifier | None = None

    def verify_all(self, actor: Actor, *, scope: str = DEFAULT_SCOPE, full: bool = False) -> dict[str, Any]:
        """`/audit/verify`: the hash chains (`scope` chain; `full` as `verify`), every read-model table
        against the log at the tables' position (readmodel), or both (all). Admins and auditors."""
        ensure_scope(scope)
        self.scopes.ensure_audit_read(actor)
        chain = self.chain_verifier.verify(full=full) if scope in ("chain", "all") else None
        checked = None
        if scope in ("readmodel", "all"):
            if self._read_model_verifier is None:
                with _CREATING:
                    if self._read_model_verifier is None:
                        self._read_model_verifier = ReadModelVerifier(self.read_model)
            checked = self._read_model_verifier.verify()
        return verification_answer(scope, chain, checked)

    def close(self) -> None:
        self._verifier = None
        self._read_model_verifier = None
        super().close()


def history_line(event: Any) -> dict[str, Any]:
    originator: UUID = event.originator_id
    data = {k: v for k, v in vars(event).items() if k not in HISTORY_HIDDEN}
    return {
        "id": event_id(originator, event.originator_version),
        "type": type(event).__name__,
        "version": event.originator_version,
        "recorded_at": event.timestamp.isoformat(),
        "occurred_on": occurred_on(event).isoformat(),
        "late_entry": bool(getattr(event, "late_entry", False)),
        "late_reason": getattr(event, "late_reason", None),
        "actor": dict(event.actor),
        "reason": event.reason,
        "data": json_safe(data),
        "chain_hash": event.chain_hash,
    }
