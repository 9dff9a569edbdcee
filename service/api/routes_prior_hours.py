"""Earlier hours (历史学时): record and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from service.api.deps import CurrentActor, IdempotencyKey, Service, write
from service.api.schemas import PriorHoursIn, RevocationIn

router = APIRouter(prefix="/api/v1", tags=["earlier hours"])

TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]
Id = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/teachers/{teacher_no}/prior-hours", status_code=201)
async def record(
    teacher_no: TeacherNoPath, body: PriorHoursIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    evidence = [{"name": e.name, "sha256": e.sha256.lower()} for e in body.evidence]
    return await write(service, lambda: service.record_prior_hours(
        actor, teacher_no, body.year, body.hours, body.source, evidence, body.reason, body.self_selected,
        body.school_based, body.concentrated, idempotency_key=key))


@router.post("/teachers/{teacher_no}/prior-hours/{record_id}/revocation", status_code=201)
async def revoke(
    teacher_no: TeacherNoPath, record_id: Id, body: RevocationIn, actor: CurrentActor, service: Service,
    key: IdempotencyKey,
) -> JSONResponse:
    return await write(service, lambda: service.revoke_prior_hours(
        actor, teacher_no, record_id, body.reason, idempotency_key=key))
