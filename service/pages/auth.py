"""Who is asking for a page: the signed-in account of the session cookie. A page asked without one
(or with an ended session, or a disabled account's) sends the browser to the sign-in page, which
brings it back afterwards; a form posted without its CSRF token is refused (service/auth/csrf.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from domain.errors import Unauthenticated
from service.api.deps import Caller, get_actor, get_caller


class SignInFirst(Exception):
    """The page needs a signed-in caller: answered with a redirect to the sign-in page."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


def sign_in_url(back_to: str) -> str:
    return f"/signin?next={quote(back_to, safe='/')}" if back_to and back_to != "/" else "/signin"


async def page_caller(request: Request) -> Caller:
    """The caller of a page, from the session cookie only (pages never take a bearer token: a
    browser does not send one)."""
    try:
        actor = await get_actor(request, None)
    except Unauthenticated as refused:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInFirst(back if request.method == "GET" else "/") from refused
    caller = await get_caller(request, actor)
    request.state.page_caller = caller  # for an error page met later in the request
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]
