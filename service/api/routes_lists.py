"""Lists and search: teachers, programmes, disputes, approvals; each paged by `limit` and the `after`
cursor of the previous page (`{"items", "next"}`). Bad values are refused by the service with
stable codes (invalid_limit, invalid_cursor, invalid_status, invalid_filter), not by the schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.api.deps import CurrentActor, Service
from service.queries.lists import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["lists"])

OrgId = Annotated[str | None, Query(max_length=64, description="a unit: the list is narrowed to it and below")]
After = Annotated[str | None, Query(max_length=400, description="the `next` cursor of the previous page")]
Limit = Annotated[int, Query(description="items per page, 1–500")]
Text = Annotated[str | None, Query(max_length=64)]


@router.get("/teachers")
def teachers(actor: CurrentActor, service: Service, org_id: OrgId = None,
             q: Annotated[str | None, Query(max_length=64, description="in the name, or the start of the "
                                            "teacher number")] = None,
             status: Text = None, after: After = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    return service.list_teachers(actor, org_id=org_id, q=q, status=status, after=after, limit=limit)


@router.get("/programmes")
def programmes(actor: CurrentActor, service: Service, org_id: OrgId = None, level: Text = None, form: Text = None,
               selection: Text = None, year: int | None = None, open_for_enrolment: bool = False,
               q: Annotated[str | None, Query(max_length=64, description="in the title, or the start of the "
                                              "code")] = None,
               after: After = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    return service.list_programmes(actor, org_id=org_id, level=level, form=form, selection=selection, year=year,
                                   open_for_enrolment=open_for_enrolment, q=q, after=after, limit=limit)


@router.get("/disputes")
def disputes(actor: CurrentActor, service: Service, org_id: OrgId = None, status: Text = None,
             after: After = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    return service.list_disputes(actor, org_id=org_id, status=status, after=after, limit=limit)


@router.get("/approvals")
def approvals(actor: CurrentActor, service: Service, org_id: OrgId = None, after: After = None,
              limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    return service.list_approvals(actor, org_id=org_id, after=after, limit=limit)
