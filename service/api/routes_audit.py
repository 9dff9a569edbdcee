"""Audit reads: the event feed with cursor paging, the tamper-evidence check, and the transparency
log's signed checkpoint and proofs (service/transparency/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from service.api.deps import CurrentActor, Service

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/events")
def audit_events(
    actor: CurrentActor,
    service: Service,
    teacher_no: Annotated[str | None, Query(max_length=32)] = None,
    actor_sub: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    late_entry: bool | None = None,
) -> dict[str, Any]:
    return service.audit_events(
        actor, teacher_no=teacher_no, actor_sub=actor_sub, event_type=type_, since=since, until=until,
        after=after, limit=limit, late_entry=late_entry,
    )


@router.get("/verify")
def verify(
    actor: CurrentActor,
    service: Service,
    full: bool = False,
    scope: Annotated[str, Query(max_length=16, description="chain (default): the hash chains; readmodel: every "
                                "read-model table against the log; all: both")] = "chain",
) -> dict[str, Any]:
    return service.verify_all(actor, scope=scope, full=full)


def _wants_text(request: Request) -> bool:
    """`Accept: text/plain` preferred to JSON (the note alone, as witnesses fetch it)."""
    accept = request.headers.get("accept", "").lower()
    return "text/plain" in accept and "application/json" not in accept


@router.get("/checkpoint", response_model=None)
def checkpoint(actor: CurrentActor, service: Service, request: Request) -> Response:
    answer = service.audit_checkpoint(actor)
    if _wants_text(request):
        return PlainTextResponse(answer["note"])
    return JSONResponse(answer)


@router.get("/events/{event_id}/proof")
def inclusion_proof(
    actor: CurrentActor,
    service: Service,
    event_id: Annotated[str, Path(max_length=40)],
    checkpoint_size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    return service.audit_inclusion_proof(actor, event_id, checkpoint_size)


@router.get("/consistency")
def consistency_proof(
    actor: CurrentActor,
    service: Service,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    to: Annotated[int, Query(ge=1, le=2**62)],
) -> dict[str, Any]:
    return service.audit_consistency_proof(actor, from_, to)
