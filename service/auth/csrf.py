"""CSRF protection for cookie-authenticated requests (the server-rendered pages' forms).

A synchronizer token derived from the session: HMAC-SHA256(secret, "csrf:" + session id). A page
puts it in each form as the field `csrf_token` (urlencoded or multipart, as upload forms are), or a
script sends it as the header `X-CSRF-Token`;
an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the session cookie without it is
refused, 403 `csrf_failed`. A request with a bearer token needs none: a browser never adds one by
itself."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from domain.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MAX_FORM = 1 << 20


def csrf_token(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_failed() -> Forbidden:
    return Forbidden("csrf_failed", "a form sent with the session cookie needs its csrf_token (or X-CSRF-Token)")


async def ensure_csrf(request: Request, secret: str, session_id: str) -> None:
    """Refuse an unsafe cookie-authenticated request whose CSRF token does not match its session."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent is None and media_type in (FORM, MULTIPART):
        # a page's form (a sheet or an evidence file beside it, for multipart): its field, from the
        # form parsed once per request (an endpoint's Form and File parameters read the same one,
        # whichever reads first)
        try:
            value = (await request.form()).get(FIELD)
        except Exception:  # noqa: BLE001 - a malformed body has no token; the endpoint answers it
            value = None
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(secret, session_id)):
        raise csrf_failed()
