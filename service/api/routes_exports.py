"""Reports as Excel workbooks: the compliance of a unit and a programme's roster, as the JSON reads
give them, with names (service/queries/exports.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from service.api.deps import CurrentActor, Service
from service.api.routes_reports import AsOf
from service.application.values import as_of_instant
from service.exports.xlsx import MEDIA_TYPE
from service.queries.exports import Download

router = APIRouter(prefix="/api/v1", tags=["reports"])

XLSX = {200: {"content": {MEDIA_TYPE: {}}, "description": "an Excel workbook (attachment)"}}


def _download(download: Download) -> Response:
    return Response(download.content, media_type=MEDIA_TYPE,
                    headers={"Content-Disposition": download.disposition, "Cache-Control": "no-store"})


@router.get("/orgs/{org_id}/compliance.xlsx", response_class=Response, responses=XLSX)  # type: ignore[arg-type]
def compliance_xlsx(
    org_id: Annotated[str, Path(min_length=1, max_length=64)],
    actor: CurrentActor,
    service: Service,
    year: Annotated[int, Query(ge=1990, le=2100)],
    as_of: AsOf = None,
) -> Response:
    """The unit's compliance as a workbook: 汇总 (the unit and its children), one sheet per shortfall
    listing every teacher behind it with what they lack, and 说明."""
    instant = None if as_of is None else as_of_instant(as_of, service.policy.zone)
    return _download(service.compliance_xlsx(actor, org_id, year, instant))


@router.get("/programmes/{code}/roster.xlsx", response_class=Response, responses=XLSX)  # type: ignore[arg-type]
def roster_xlsx(code: Annotated[str, Path(min_length=1, max_length=64)], actor: CurrentActor,
                service: Service) -> Response:
    """The programme's roster as a workbook: a row per enrolment, a column per session."""
    return _download(service.roster_xlsx(actor, code))
