"""Signing in and out: POST and DELETE /api/v1/session.

Signing in answers a bearer token for scripts and sets the same token as a signed (HS256),
HttpOnly, SameSite=Lax cookie for pages (Secure when the request came over https), with the CSRF
token the pages' forms carry. Signing out ends the session: its token and cookie stop working at
once, in every server process."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.errors import Invalid
from service.api.deps import CurrentActor, Service
from service.api.schemas import SignIn
from service.auth.csrf import csrf_token
from service.auth.tokens import SESSION_COOKIE, issue_token

router = APIRouter(prefix="/api/v1", tags=["sign-in"])


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@router.post("/session", status_code=201)
def sign_in(body: SignIn, request: Request, service: Service) -> JSONResponse:
    holder, session_id, expires_at = service.sign_in(body.username, body.password, _address(request))
    secret: str = request.app.state.secret
    now = service.clock()
    token = issue_token(secret, holder, now=now, session_id=session_id, expires_at=expires_at)
    answer: dict[str, Any] = {
        "token": token,
        "token_type": "Bearer",
        "expires_at": expires_at.isoformat(),
        "username": holder.subject,
        "role": holder.role.value,
        "org_id": holder.org_id,
        "teacher_no": holder.teacher_no,
        "csrf_token": csrf_token(secret, session_id),
    }
    response = JSONResponse(answer, status_code=201, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max(1, int((expires_at - now).total_seconds())), path="/",
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )
    return response


@router.delete("/session", status_code=204)
def sign_out(request: Request, actor: CurrentActor, service: Service) -> Response:
    session_id: str | None = request.state.session_id
    if session_id is None:
        raise Invalid("no_session", "this token was not issued by a sign-in; it ends when it expires")
    service.sign_out(actor.subject, session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
