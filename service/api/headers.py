"""Security headers on every answer of the API.

Every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy:
no-referrer` and a Content-Security-Policy that lets no page frame it (`frame-ancestors 'none'`).
The API's JSON gets the strictest policy (`default-src 'none'`: it is data, never a page), and
every answer under `/api/` `Cache-Control: no-store` (they carry personal data).

The pages people use (service/pages: HTML outside `/api/`) get a policy of their own (`PAGES_CSP`):
their style sheet and script from this server, style attributes, forms posted back to this server.

The documentation page (`/docs`: Swagger UI, vendored in service/api/static/swagger-ui/ and served
by service/api/docs_pages.py) loads its script, style and icon from this server and starts Swagger
UI with an inline script. It gets a policy allowing this server's own files, and the inline scripts
of the very page sent by their SHA-256 hashes (computed from its body, so the policy always
matches the page) rather than any inline script. No outside origin is allowed: county networks
block CDNs, and the page must work there.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_ANSWER = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The pages (service/pages): their own style sheet and script from this server, style attributes
# (a chart's bar widths), forms posted to this server only; no inline script, no outside origin.
PAGES_CSP = ("default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; script-src 'self'; "
             "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
NO_STORE = "no-store"
DOCS_SOURCES = {
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",  # Swagger UI sets style attributes
    "img-src": "'self' data:",  # Swagger UI's icons are data: URIs
    "connect-src": "'self'",  # /openapi.json, and "Try it out"
}
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def docs_csp(html: bytes) -> str:
    """The policy of one documentation page: this server's files, and its own inline scripts by hash."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(m[1]).digest()).decode()}'"
              for m in INLINE_SCRIPT.finditer(html)]
    sources = dict(DOCS_SOURCES)
    sources["script-src"] = " ".join([sources["script-src"], *hashes])
    directives = ["default-src 'none'", *(f"{name} {value}" for name, value in sources.items()),
                  "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]
    return "; ".join(directives)


class SecurityHeaders:
    """ASGI middleware adding the headers above to every answer; `docs_paths` are the HTML pages."""

    def __init__(self, app: ASGIApp, docs_paths: Iterable[str | None] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(p for p in docs_paths if p)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in self.docs_paths:
            await self._page(scope, receive, send)
            return
        api = path.startswith("/api/")

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = _secured(message)
                page = not api and headers.get("content-type", "").startswith("text/html")
                headers["content-security-policy"] = PAGES_CSP if page else API_CSP
                if api:
                    headers["cache-control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_secured)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the answer until its body is known, to give it the policy of its inline scripts."""
        start: Message | None = None
        body: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(body)
            _secured(start)["content-security-policy"] = docs_csp(html)
            await send(start)
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app(scope, receive, send_page)


def _secured(start: Message) -> MutableHeaders:
    headers = MutableHeaders(scope=start)
    for name, value in EVERY_ANSWER.items():
        headers[name] = value
    return headers
