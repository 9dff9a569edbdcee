"""Events are forever: an event stored in an older version still loads, verifies and counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from eventsourcing.persistence import StoredEvent

from domain.canonical import canonical_bytes, chain_digest
from domain.ids import teacher_uuid
from domain.teacher import Teacher
from service.app import TrainRec
from tests.conftest import ADMIN, AUDITOR, PROVIDER, Clock, build_county, define

ASSESSED_TOPIC = "domain.teacher:Teacher.Assessed"


def _store_v1_assessment(app: TrainRec, teacher_no: str, code: str) -> None:
    """Write an `Assessed` event exactly as release v1 stored it: no attendance_rate, no class_version."""
    teacher = app.repository.get(teacher_uuid(teacher_no))
    assert isinstance(teacher, Teacher)
    state = {
        "timestamp": app.clock(),
        "actor": {"sub": "p1", "role": "provider", "org": "P1"},
        "reason": "",
        "prev_hash": teacher.chain_head,
        "chain_hash": "",
        "programme_code": code,
        "attitude": 4,
        "assignments": 5,
        "result": "good",
        "due_on": date(2024, 3, 11),
        "late": False,
        "policy_version": "seeds-default-1",
    }
    version = teacher.version + 1
    state["chain_hash"] = chain_digest(
        teacher.chain_head, canonical_bytes(ASSESSED_TOPIC, teacher.id, version, state)
    )
    app.recorder.insert_events([
        StoredEvent(originator_id=teacher.id, originator_version=version, topic=ASSESSED_TOPIC,
                    state=app.mapper.transcoder.encode(state))
    ])


def test_v1_assessment_loads_with_upcast_field(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 7))
    _store_v1_assessment(app, "A001", "K1")
    teacher = app.repository.get(teacher_uuid("A001"))
    assessment = teacher.enrolments["K1"].assessment
    assert assessment is not None
    assert assessment["attendance_rate"] is None
    assert assessment["result"] == "good"
    stored = list(app.events.get(teacher_uuid("A001")))[-1]  # through both upcasters, v1 → v3
    assert (stored.occurred_on, stored.late_entry, stored.late_reason) == (date(2024, 3, 7), False, None)
    assert app.verify(AUDITOR).ok is True
    credit = app.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    assert credit.status == 201
    assert app.verify(AUDITOR).ok is True


def test_new_assessments_are_stored_as_v3(app: TrainRec, clock: Clock) -> None:
    from domain.vocabulary import AssessmentResult

    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 7))
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    stored = list(app.recorder.select_events(teacher_uuid("A001")))[-1]
    assert stored.topic == ASSESSED_TOPIC
    assert b'"class_version":3' in stored.state
    assert b'"attendance_rate"' in stored.state
    assert b'"occurred_on":{"_type_":"date_iso","_data_":"2024-03-07"},"late_entry":false' in stored.state
