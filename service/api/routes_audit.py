"""Audit reads: the event feed with cursor paging, and the tamper-evidence check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

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
