"""Security headers on every answer of the API.

Every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy:
no-referrer` and a Content-Security-Policy that lets no page frame it (`frame-ancestors 'none'`).
The API's JSON gets the strictest policy (`default-src 'none'`: it is data, never a page), and
every answer under `/api/` `Cache-Control: no-store` (they carry personal data).

The documentation page (`/docs`: Swagger UI, vendored in service/api/static/swagger-ui/ and served
by service/api/docs_pages.py) loads its script, style and icon from this server and starts Swagger
UI with an inline script. It gets a policy allowing this server's own files, and the inline scripts
of the very page sent by their SHA-256 hashes (computed from its body, so the policy always
matches the page) rather than any inline script. No outside origin is allowed: county networks
block CDNs, and the page must work there.

The pages (service/pages/: any other answer in HTML) get a policy of their own as well: this
server's style sheet (and inline `style` attributes: the charts' bar widths), images of this server,
forms sent to this server only (`form-action 'self'`: the strictest policy, `'none'`, keeps a
browser from sending any form), and their inline scripts and event handlers (the year chooser's
`onchange`) by the SHA-256 hashes of the very page sent, never any inline script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from html import unescape

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_ANSWER = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
NO_STORE = "no-store"
DOCS_SOURCES = {
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",  # Swagger UI sets style attributes
    "img-src": "'self' data:",  # Swagger UI's icons are data: URIs
    "connect-src": "'self'",  # /openapi.json, and "Try it out"
}
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)
TAG = re.compile(rb"<[a-z][^>]*>", re.I)
EVENT_HANDLER = re.compile(rb"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
HTML_TYPE = b"text/html"
PAGE_SOURCES = {
    "style-src": "'self' 'unsafe-inline'",  # the charts set each bar's width in a style attribute
    "img-src": "'self' data:",
}


def _sha256(code: bytes) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(code).digest()).decode()}'"


def page_csp(html: bytes) -> str:
    """The policy of one page: this server's files, forms to this server, its own inline scripts and
    event handlers by hash (the handlers' as attribute values, entities decoded)."""
    scripts = [_sha256(m[1]) for m in INLINE_SCRIPT.finditer(html)]
    handlers = [_sha256(unescape((m[1] or m[2] or b"").decode()).encode()) for m in _handlers(html)]
    allowed = list(dict.fromkeys(scripts + handlers))
    script_src = " ".join((["'unsafe-hashes'"] if handlers else []) + allowed) or "'none'"
    directives = ["default-src 'none'", f"script-src {script_src}",
                  *(f"{name} {value}" for name, value in PAGE_SOURCES.items()),
                  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]
    return "; ".join(directives)


def _handlers(html: bytes) -> list[re.Match[bytes]]:
    """Every `on...=` attribute of every tag (a tag may have more than one)."""
    found: list[re.Match[bytes]] = []
    for tag in TAG.finditer(html):
        found.extend(EVENT_HANDLER.finditer(tag[0]))
    return found


def docs_csp(html: bytes) -> str:
    """The policy of one documentation page: this server's files, and its own inline scripts by hash."""
    hashes = [_sha256(m[1]) for m in INLINE_SCRIPT.finditer(html)]
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
            await self._page(scope, receive, send, docs_csp)
            return
        api = path.startswith("/api/")
        if not api:
            await self._page(scope, receive, send, page_csp, only_html=True)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = _secured(message)
                headers["content-security-policy"] = API_CSP
                headers["cache-control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_secured)

    async def _page(self, scope: Scope, receive: Receive, send: Send, policy: Callable[[bytes], str],
                    only_html: bool = False) -> None:
        """Hold the answer until its body is known, to give it the policy of its inline scripts
        (`only_html`: an answer of another type passes as it comes, with the API's policy)."""
        start: Message | None = None
        body: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = _secured(message)
                if only_html and not headers.get("content-type", "").encode().startswith(HTML_TYPE):
                    headers["content-security-policy"] = API_CSP
                    await send(message)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(body)
            _secured(start)["content-security-policy"] = policy(html)
            await send(start)
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app(scope, receive, send_page)


def _secured(start: Message) -> MutableHeaders:
    headers = MutableHeaders(scope=start)
    for name, value in EVERY_ANSWER.items():
        headers[name] = value
    return headers
