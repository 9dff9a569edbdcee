"""Credits revocation and disputes: revoke, open, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from service.api.deps import CurrentActor, IdempotencyKey, Service, write
from service.api.schemas import DisputeIn, ResolutionIn, RevocationIn

router = APIRouter(prefix="/api/v1", tags=["credits and disputes"])

TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]
Id = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/teachers/{teacher_no}/credits/{credit_id}/revocation", status_code=201)
async def revoke(
    teacher_no: TeacherNoPath, credit_id: Id, body: RevocationIn, actor: CurrentActor, service: Service,
    key: IdempotencyKey,
) -> JSONResponse:
    return await write(service, lambda: service.revoke_credit(
        actor, teacher_no, credit_id, body.reason, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/teachers/{teacher_no}/disputes", status_code=201)
async def open_dispute(
    teacher_no: TeacherNoPath, body: DisputeIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    evidence = [{"name": e.name, "sha256": e.sha256.lower()} for e in body.evidence]
    return await write(service, lambda: service.open_dispute(
        actor, teacher_no, body.programme_code, body.claim, evidence, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))


@router.post("/disputes/{dispute_id}/resolution", status_code=201)
async def resolve(
    dispute_id: Id, body: ResolutionIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.resolve_dispute(
        actor, dispute_id, body.decision, body.reason, body.award_hours, idempotency_key=key,
        occurred_on=body.occurred_on, late_reason=body.late_reason))
