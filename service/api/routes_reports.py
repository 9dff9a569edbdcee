"""Reads served from projections: programme roster and org compliance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from service.api.deps import CurrentActor, Service

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/programmes/{code}/roster")
def roster(
    code: Annotated[str, Path(min_length=1, max_length=64)], actor: CurrentActor, service: Service
) -> dict[str, Any]:
    return service.roster(actor, code)


@router.get("/orgs/{org_id}/compliance")
def compliance(
    org_id: Annotated[str, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    service: Service,
    year: Annotated[int, Query(ge=1990, le=2100)],
) -> dict[str, Any]:
    return service.compliance(actor, org_id, year)
