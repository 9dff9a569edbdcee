"""The pages people use in a browser, in Chinese, server-rendered from `templates/` (every asset
served from `static/`, nothing from a CDN). Each page calls the same service methods as the API with
the signed-in account's actor, so it enforces the same scopes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from domain.errors import DomainError
from service.api.problems import STATUS_OF_KIND
from service.labels import CODES
from service.pages import (
    routes_audit,
    routes_certificates,
    routes_disputes,
    routes_programmes,
    routes_school,
    routes_signin,
    routes_teacher,
    routes_units,
    routes_verify,
)
from service.pages.auth import SignInFirst, sign_in_url
from service.pages.render import STATIC, page

ASSETS = "/assets"


def is_page(request: Request) -> bool:
    """A request for a page (not the API, its docs or a file)."""
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/") or path.startswith(ASSETS + "/")
                or path in ("/docs", "/openapi.json", "/metrics"))


def install(app: FastAPI) -> None:
    """Mount the pages' files and routes; errors met on a page answer as a page."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="assets")
    app.include_router(routes_signin.router)
    app.include_router(routes_verify.router)  # public: no sign-in
    app.include_router(routes_units.router)
    # the teacher's before the disputes desk: `/disputes/new` is not a dispute's id
    app.include_router(routes_teacher.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_disputes.router)
    app.include_router(routes_school.router)
    app.include_router(routes_certificates.router)
    app.include_router(routes_programmes.router)
    api_error: Any = app.exception_handlers[DomainError]

    @app.exception_handler(SignInFirst)
    async def sign_in_first(_: Request, error: SignInFirst) -> Response:
        return RedirectResponse(sign_in_url(error.back_to), status_code=303)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if not is_page(request):
            response: Response = await api_error(request, error)
            return response
        status = STATUS_OF_KIND.get(error.kind, 409)
        if status == 401:
            return RedirectResponse(sign_in_url(request.url.path), status_code=303)
        caller = getattr(request.state, "page_caller", None)
        return page(request, "error.html", caller, "出错了", status=status,
                    message=CODES.get(error.code, "请求未能完成。"), code=error.code)
