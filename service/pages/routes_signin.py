"""The sign-in page, signing out, and `/`, which sends each role to its home page.

Signing in from the page does what `POST /api/v1/session` does (the same throttle, the same signed
HttpOnly SameSite=Lax cookie). The sign-in form carries a token of its own, matched against a
cookie set with the form (double submit), so another site cannot sign a browser into an account of
its choosing."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import DomainError
from domain.vocabulary import Role
from service.api.deps import Service, get_actor
from service.auth.tokens import SESSION_COOKIE, issue_token
from service.labels import CODES
from service.pages.auth import PageCaller, SignInFirst
from service.pages.render import page

router = APIRouter(include_in_schema=False)
SIGNIN_COOKIE = "trainrec_signin"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (never `//host` or a scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _signin_form(request: Request, next_path: str, username: str = "", error: str | None = None,
                 status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "signin.html", None, "登录", status=status, next=next_path, username=username,
                    form_token=token, error=error)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, path="/signin", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query's name
    return _signin_form(request, safe_next(next))


@router.post("/signin")
def sign_in(request: Request, service: Service, username: Annotated[str, Form()] = "",
            password: Annotated[str, Form()] = "", form_token: Annotated[str, Form()] = "",
            next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002 - the form field's name
    back = safe_next(next)
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not expected or not form_token or not hmac.compare_digest(expected, form_token):
        return _signin_form(request, back, username, "登录表单已过期，请重新登录。", status=403)
    address = request.client.host if request.client is not None else "unknown"
    try:
        holder, session_id, expires_at = service.sign_in(username, password, address)
    except DomainError as refused:
        status = 429 if refused.code == "too_many_attempts" else 401
        return _signin_form(request, back, username, CODES.get(refused.code, "用户名或密码错误。"), status=status)
    now = service.clock()
    token = issue_token(request.app.state.secret, holder, now=now, session_id=session_id, expires_at=expires_at)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=max(1, int((expires_at - now).total_seconds())), path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
async def sign_out(request: Request, caller: PageCaller, service: Service) -> Response:
    if caller.session_id is not None:
        await run_in_threadpool(service.sign_out, caller.actor.subject, caller.session_id)
    response = RedirectResponse("/signin?done=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response


@router.get("/")
async def home(request: Request, service: Service) -> Response:
    """Each role's home page; the sign-in page for a browser not signed in."""
    try:
        actor = await get_actor(request, None)
    except DomainError as refused:
        raise SignInFirst("/") from refused
    if actor.role is Role.TEACHER:
        return RedirectResponse("/me", status_code=303)
    if actor.role is Role.PROVIDER:
        return RedirectResponse("/programmes", status_code=303)
    unit = actor.org_id or await run_in_threadpool(service.top_org_id)
    return RedirectResponse(f"/units/{unit}" if unit else "/units", status_code=303)


