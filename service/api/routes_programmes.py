"""Programmes: define, approve, enrol, absences and their approvals, attendance, results, credits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from domain.rules.programme_definition import SessionPlan
from service.api.deps import CurrentActor, IdempotencyKey, Service, write
from service.api.schemas import (
    AbsenceApprovalIn,
    AbsenceIn,
    ApprovalIn,
    AssessmentIn,
    AttendanceIn,
    CancellationIn,
    CreditIn,
    EnrolmentIn,
    EvaluationIn,
    ProgrammeCreate,
    ProgrammeDefinition,
    RescheduleIn,
    WithdrawalIn,
)

router = APIRouter(prefix="/api/v1/programmes", tags=["programmes"])

Code = Annotated[str, Path(min_length=1, max_length=64)]
TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]
SessionNo = Annotated[int, Path(ge=1, le=1000)]


@router.post("", status_code=201)
async def define_programme(
    body: ProgrammeCreate, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    sessions = [SessionPlan(s.no, s.on, s.hours) for s in body.sessions]
    return await write(service, lambda: service.define_programme(
        actor, code=body.code, title=body.title, level=body.level, form=body.form, selection=body.selection,
        school_based_content=body.school_based_content, hours=body.hours, provider_id=body.provider_id,
        owner_org_id=body.owner_org_id, starts_on=body.starts_on, ends_on=body.ends_on, sessions=sessions,
        capacity=body.capacity, idempotency_key=key))


@router.post("/{code}/resubmission", status_code=201)
async def resubmit_programme(
    code: Code, body: ProgrammeDefinition, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    sessions = [SessionPlan(s.no, s.on, s.hours) for s in body.sessions]
    return await write(service, lambda: service.resubmit_programme(
        actor, code=code, title=body.title, level=body.level, form=body.form, selection=body.selection,
        school_based_content=body.school_based_content, hours=body.hours, provider_id=body.provider_id,
        owner_org_id=body.owner_org_id, starts_on=body.starts_on, ends_on=body.ends_on, sessions=sessions,
        capacity=body.capacity, idempotency_key=key))


@router.get("/{code}")
def get_programme(code: Code, actor: CurrentActor, service: Service) -> dict[str, Any]:
    return service.programme(actor, code)


@router.post("/{code}/approval", status_code=201)
async def approve(
    code: Code, body: ApprovalIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.decide_programme(
        actor, code, body.decision, body.reason, idempotency_key=key))


@router.post("/{code}/enrolments", status_code=201)
async def enrol(
    code: Code, body: EnrolmentIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.enrol(
        actor, code, body.teacher_no, idempotency_key=key, occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/{code}/enrolments/{teacher_no}/absence", status_code=201)
async def request_absence(
    code: Code, teacher_no: TeacherNoPath, body: AbsenceIn, actor: CurrentActor, service: Service,
    key: IdempotencyKey,
) -> JSONResponse:
    return await write(service, lambda: service.request_absence(
        actor, code, teacher_no, body.kind, body.reason, body.substitute_teacher_no, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/{code}/enrolments/{teacher_no}/absence/approval", status_code=201)
async def decide_absence(
    code: Code, teacher_no: TeacherNoPath, body: AbsenceApprovalIn, actor: CurrentActor, service: Service,
    key: IdempotencyKey,
) -> JSONResponse:
    return await write(service, lambda: service.decide_absence(
        actor, code, teacher_no, body.by, body.decision, body.reason, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/{code}/sessions/{no}/attendance", status_code=201)
async def attendance(
    code: Code, no: SessionNo, body: AttendanceIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.record_attendance(
        actor, code, no, body.present, body.absent, idempotency_key=key, late_reason=body.late_reason),
        weight=len(body.present) + len(body.absent))


@router.post("/{code}/sessions/{no}/reschedule", status_code=201)
async def reschedule(
    code: Code, no: SessionNo, body: RescheduleIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.reschedule_session(actor, code, no, body.on, body.reason,
                                                                   idempotency_key=key))


@router.post("/{code}/sessions/{no}/cancellation", status_code=201)
async def cancel_session(
    code: Code, no: SessionNo, body: CancellationIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.cancel_session(actor, code, no, body.reason, idempotency_key=key))


@router.post("/{code}/enrolments/{teacher_no}/withdrawal", status_code=201)
async def withdraw_enrolment(
    code: Code, teacher_no: TeacherNoPath, body: WithdrawalIn, actor: CurrentActor, service: Service,
    key: IdempotencyKey,
) -> JSONResponse:
    return await write(service, lambda: service.withdraw_enrolment(
        actor, code, teacher_no, body.reason, idempotency_key=key))


@router.post("/{code}/assessments", status_code=201)
async def assess(
    code: Code, body: AssessmentIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.assess(
        actor, code, body.teacher_no, body.attitude, body.assignments, body.result, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/{code}/evaluations", status_code=201)
async def evaluate(
    code: Code, body: EvaluationIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.evaluate(
        actor, code, body.teacher_no, body.form, body.instructors, body.management, body.comment, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/{code}/credits", status_code=201)
async def award_credit(
    code: Code, body: CreditIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.award_credit(
        actor, code, body.teacher_no, body.hours, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))
