"""Reads served from projections: programme roster and org compliance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from service.api.deps import CurrentActor, Service

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/programmes/{code}/roster")
def roster(
    code: Annotated[str, Path(min_length=1, max_length=64)], actor: CurrentActor, service: Service
) -> dict[str, Any]:
    return service.roster(actor, code)


@router.get("/orgs/{org_id}/compliance", response_model=dict[str, Any])
def compliance(
    org_id: Annotated[str, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    service: Service,
    year: Annotated[int, Query(ge=1990, le=2100)],
) -> Response:
    # The answer's JSON as the read model gives it: a county's stored answer is sent as it is stored
    # rather than parsed and serialised again (megabytes of teacher numbers).
    return Response(service.compliance_json(actor, org_id, year), media_type="application/json")
