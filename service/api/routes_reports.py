"""Reads served from projections: programme roster and org compliance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from service.api.deps import CurrentActor, Service
from service.application.values import as_of_instant

router = APIRouter(prefix="/api/v1", tags=["reports"])


AsOf = Annotated[str | None, Query(max_length=64, description="an instant with offset (2025-07-01T00:00:00+08:00) "
                                   "or a date (2025-06-30: the end of that day, Asia/Shanghai): the report as it "
                                   "stood then")]


@router.get("/programmes/{code}/roster")
def roster(
    code: Annotated[str, Path(min_length=1, max_length=64)], actor: CurrentActor, service: Service,
    as_of: AsOf = None,
) -> dict[str, Any]:
    return service.roster(actor, code, None if as_of is None else as_of_instant(as_of, service.policy.zone))


@router.get("/orgs/{org_id}/compliance", response_model=dict[str, Any])
def compliance(
    org_id: Annotated[str, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    service: Service,
    year: Annotated[int, Query(ge=1990, le=2100)],
    as_of: AsOf = None,
    depth: Annotated[int, Query(description="1: the unit's children; 2: their children too")] = 1,
) -> Response:
    # The answer's JSON as the read model gives it: a county's stored answer is sent as it is stored
    # rather than parsed and serialised again (megabytes of teacher numbers).
    instant = None if as_of is None else as_of_instant(as_of, service.policy.zone)
    return Response(service.compliance_json(actor, org_id, year, instant, depth), media_type="application/json")


@router.get("/orgs/{org_id}/compliance/changes")
def compliance_changes(
    org_id: Annotated[str, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    service: Service,
    year: Annotated[int, Query(ge=1990, le=2100)],
    since: Annotated[str, Query(max_length=64, description="an instant with offset or a date (the end of that "
                                "day, Asia/Shanghai)")],
) -> dict[str, Any]:
    return service.compliance_changes(actor, org_id, year, as_of_instant(since, service.policy.zone, "since"))
