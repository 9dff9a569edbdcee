"""GET /api/v1/teachers/{teacher_no}/credential: the transcript as a signed CLR 2.0 / Open Badges 3.0
credential (service/credentials/). The answer is the compact JWS (`application/vc+jwt`), or, to a
request that accepts `application/json` and not `application/vc+jwt`, `{"credential", "jwt"}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from service.api.deps import CurrentActor, Service
from service.app import TrainRec
from service.application.values import as_of_instant
from service.credentials.issue import issue_credential
from service.credentials.signing import MEDIA_TYPE
from service.signing.keys import key_ring
from service.transparency.log import latest_checkpoint

router = APIRouter(prefix="/api/v1", tags=["orgs and teachers"])

TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]


def issued_under(service: TrainRec) -> Mapping[str, Any]:
    """The transparency checkpoint a credential is issued under: the log's latest, signed now if the
    log grew since (service/transparency/log.py), so the credential's records are in it."""
    return latest_checkpoint(service)


def wants_json(accept: str | None) -> bool:
    kinds = {part.split(";")[0].strip().lower() for part in (accept or "").split(",")}
    return "application/json" in kinds and MEDIA_TYPE not in kinds


@router.get("/teachers/{teacher_no}/credential", response_class=Response, responses={200: {
    "content": {MEDIA_TYPE: {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}}},
    "description": "the compact JWS, or {\"credential\", \"jwt\"} with Accept: application/json"}})
def credential(
    teacher_no: TeacherNoPath,
    request: Request,
    actor: CurrentActor,
    service: Service,
    as_of: Annotated[str | None, Query(max_length=64, description="an instant with offset "
                                       "(2025-07-01T00:00:00+08:00) or a date (2025-06-30: the end of that day, "
                                       "Asia/Shanghai): the transcript as it stood then")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    instant = None if as_of is None else as_of_instant(as_of, service.policy.zone)
    issued = issue_credential(service, actor, teacher_no, key_ring(), as_of=instant,
                              checkpoint=issued_under(service))
    if wants_json(accept):
        return JSONResponse({"credential": issued.credential, "jwt": issued.jwt})
    return Response(issued.jwt, media_type=MEDIA_TYPE, headers={
        "Content-Disposition": "attachment; filename=\"credential.jwt\"; "
                               f"filename*=UTF-8''{quote(f'credential-{teacher_no}.jwt', safe='')}"})
