"""Every error as application/problem+json with a stable `code`; never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError, Unavailable
from service.auth.throttle import TooManyAttempts
from service.labels import CODES, prefers_chinese

log = logging.getLogger("trainrec.api")

STATUS_OF_KIND = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403, "unauthenticated": 401,
                  "unavailable": 503, "too_many": 429, "too_large": 413, "unsupported": 415}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Outside your scope",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflicts with recorded history",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many attempts",
    431: "Request header fields too large",
    500: "Internal error",
    503: "Not available yet",
}
CODES_OF_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden_scope",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}


def problem(status: int, code: str, detail: str, retry_after: int | None = None, *,
            headers: dict[str, str] | None = None, chinese: bool = False, **extra: Any) -> JSONResponse:
    """The problem+json answer; `chinese`: its `title` is the code's Chinese label (service/labels.py),
    for a request that prefers Chinese (`detail` stays as the code wrote it)."""
    body = {
        "type": f"urn:trainrec:problem:{code}",
        "title": CODES[code] if chinese and code in CODES else TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc if part != "body") or "body"


def chinese(request: Request) -> bool:
    """Whether the request's Accept-Language prefers Chinese (service/labels.py)."""
    return prefers_chinese(request.headers.get("accept-language"))


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        retry_after = error.retry_after if isinstance(error, (Unavailable, TooManyAttempts)) else None
        return problem(STATUS_OF_KIND.get(error.kind, 409), error.code, error.detail, retry_after,
                       chinese=chinese(request))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _location(e.get("loc", ())), "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in error.errors()[:50]
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(422, "malformed_json", "the body is not valid JSON", errors=errors,
                           chinese=chinese(request))
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem(422, "invalid_input", f"{first['field']}: {first['message']}", errors=errors,
                       chinese=chinese(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = CODES_OF_STATUS.get(error.status_code, "error")
        return problem(error.status_code, code, str(error.detail), chinese=chinese(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "an unexpected error occurred; nothing was recorded",
                       chinese=chinese(request))
