"""Org units and teachers: PUT /orgs/{org_id}, POST /teachers, transfers, history, transcript."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from service.api.deps import CurrentActor, IdempotencyKey, Service, write
from service.api.schemas import CorrectionIn, DepartureIn, OrgPut, TeacherCreate, TransferCreate
from service.application.values import as_of_instant

router = APIRouter(prefix="/api/v1", tags=["orgs and teachers"])

OrgId = Annotated[str, Path(min_length=1, max_length=64)]
TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]


@router.put("/orgs/{org_id}", status_code=201)
async def put_org(
    org_id: OrgId, body: OrgPut, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.put_org(
        actor, org_id, body.name, body.kind, body.parent_id, idempotency_key=key))


@router.get("/orgs/{org_id}")
def get_org(org_id: OrgId, actor: CurrentActor, service: Service) -> dict[str, Any]:
    return service.org(actor, org_id)


@router.post("/teachers", status_code=201)
async def register_teacher(
    body: TeacherCreate, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.register_teacher(
        actor, body.teacher_no, body.name, body.school_id, body.hired_on, idempotency_key=key))


@router.post("/teachers/{teacher_no}/transfers", status_code=201)
async def transfer(
    teacher_no: TeacherNoPath, body: TransferCreate, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.transfer_teacher(
        actor, teacher_no, body.to_school_id, body.effective_on, idempotency_key=key))


@router.post("/teachers/{teacher_no}/corrections", status_code=201)
async def correct_teacher(
    teacher_no: TeacherNoPath, body: CorrectionIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.correct_teacher(
        actor, teacher_no, body.name, body.hired_on, body.reason, idempotency_key=key))


@router.post("/teachers/{teacher_no}/departure", status_code=201)
async def record_departure(
    teacher_no: TeacherNoPath, body: DepartureIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.record_departure(
        actor, teacher_no, body.kind, body.effective_on, body.reason, idempotency_key=key))


@router.get("/teachers/{teacher_no}/history")
def history(teacher_no: TeacherNoPath, actor: CurrentActor, service: Service) -> dict[str, Any]:
    return {"teacher_no": teacher_no, "events": service.teacher_history(actor, teacher_no)}


@router.get("/teachers/{teacher_no}/transcript")
def transcript(
    teacher_no: TeacherNoPath,
    actor: CurrentActor,
    service: Service,
    as_of: Annotated[str | None, Query(max_length=64, description="an instant with offset "
                                       "(2025-07-01T00:00:00+08:00) or a date (2025-06-30: the end of that day, "
                                       "Asia/Shanghai)")] = None,
) -> dict[str, Any]:
    instant = None if as_of is None else as_of_instant(as_of, service.policy.zone)
    return service.transcript(actor, teacher_no, instant)
