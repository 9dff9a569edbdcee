"""Control characters in a request's path or query string: refused once, before any route runs.

No path or query parameter of the API is free text (they are ids, codes, dates, numbers and event
type names), and a control character in one is never meant: a NUL, for one, cannot even be sent
to PostgreSQL (`GET /api/v1/teachers/%00/transcript` answered 500 there). So every C0 control
character (U+0000–U+001F, tab and line breaks included) and DEL (U+007F), in the percent-decoded
path or in any name or value of the decoded query string, answers 400 `invalid_characters`. Text
in JSON bodies is checked by the domain, on every event (domain/text.py: `invalid_text`, and
`bidi_control` for the bidirectional controls).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import problems

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def refused_part(scope: Scope) -> str | None:
    """What of the request holds a control character ("the path", "query parameter …"), or None."""
    path: str = scope.get("path", "")
    found = CONTROL.search(path)
    if found:
        return f"the path holds the control character U+{ord(found[0]):04X}"
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return None
    # as Starlette reads it: percent-decoded as UTF-8 (undecodable bytes become U+FFFD)
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        found = CONTROL.search(name) or CONTROL.search(value)
        if found:
            shown = CONTROL.sub("?", name)[:40]
            return f"query parameter {shown!r} holds the control character U+{ord(found[0]):04X}"
    return None


class RefuseControlCharacters:
    """ASGI middleware: 400 `invalid_characters` for a control character in the path or query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = refused_part(scope)
            if refused is not None:
                response = problems.problem(400, "invalid_characters", refused)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
