"""FastAPI dependencies: the service, the authenticated actor, the idempotency key.

They are `async def` on purpose: none of them does I/O (a token is checked by HMAC in memory; an
account session's token reads the account in the thread pool), and
FastAPI runs every plain `def` dependency in the thread pool, a hand-off to another thread and back
per dependency per request, which under load cost more than the dependencies themselves. The
eventsourcing library is synchronous: read endpoints stay `def` (the thread pool), and write
endpoints hand their command to `write`, which runs it off the event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from domain.actor import Actor
from domain.errors import Invalid, Unauthenticated
from service.app import TrainRec
from service.application.unit import CommandResult
from service.auth.csrf import csrf_token, ensure_csrf
from service.auth.tokens import SESSION_COOKIE, read_credential

MAX_KEY = 200
HEAVY = 64  # a command of this weight (lines of an attendance sheet) or more checks its rules in a worker thread
HEAVY_AT_ONCE = 1  # such commands checked at the same time per server process; the others wait their turn


async def get_service(request: Request) -> TrainRec:
    service: TrainRec = request.app.state.trainrec
    return service


async def get_actor(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    """The caller: from `Authorization: Bearer <token>`, else from the session cookie of a signed-in
    account (an unsafe request then needs its CSRF token). A token of an account's session (bearer
    or cookie) is good only while the account is enabled and the session open: read from the store
    on every request, in the thread pool. A token of `trainrec token issue` reads nothing."""
    secret: str = request.app.state.secret
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("unauthenticated", "send Authorization: Bearer <token>")
        actor, session_id = read_credential(secret, token.strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise Unauthenticated("unauthenticated", "send Authorization: Bearer <token>")
        actor, session_id = read_credential(secret, cookie)
        if session_id is None:
            raise Unauthenticated("invalid_token", "the session cookie does not name a session")
        await ensure_csrf(request, secret, session_id)
    request.state.session_id = session_id
    if session_id is None:
        return actor
    service: TrainRec = request.app.state.trainrec
    return await run_in_threadpool(service.session_actor, actor.subject, session_id)


async def get_idempotency_key(idempotency_key: Annotated[str | None, Header()] = None) -> str | None:
    if idempotency_key is None:
        return None
    if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY:
        raise Invalid("invalid_idempotency_key", f"Idempotency-Key must be 1–{MAX_KEY} characters")
    return idempotency_key


Service = Annotated[TrainRec, Depends(get_service)]
CurrentActor = Annotated[Actor, Depends(get_actor)]


@dataclass(frozen=True)
class Caller:
    """The caller of a page: its actor, its session (None for a token of `trainrec token issue`),
    and the CSRF token a page puts in each of its forms (field `csrf_token`)."""

    actor: Actor
    session_id: str | None
    csrf_token: str | None


async def get_caller(request: Request, actor: CurrentActor) -> Caller:
    """`CurrentActor`, with what a server-rendered page needs: an unsafe request authenticated by
    the session cookie has already been checked for its CSRF token (`get_actor`)."""
    session_id: str | None = request.state.session_id
    secret: str = request.app.state.secret
    return Caller(actor, session_id, csrf_token(secret, session_id) if session_id is not None else None)


CurrentCaller = Annotated[Caller, Depends(get_caller)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]


def answer(result: CommandResult) -> JSONResponse:
    """A write's answer: its status and body; a replay says so in a header."""
    headers = {}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    if result.notification_id is not None:
        headers["Trainrec-Position"] = str(result.notification_id)
    return JSONResponse(result.body, status_code=result.status, headers=headers)


async def write(service: TrainRec, command: Callable[[], CommandResult], weight: int = 1) -> JSONResponse:
    """Run a write command and answer it. With group commit (the server's default), the committer
    thread runs it in the next group and the request waits for its answer without occupying a
    thread (service.application.group_commit); otherwise it runs in the thread pool, saving on its own.

    A command of `weight` `HEAVY` or more (a large attendance sheet: one load and check per line)
    would hold the committer, and every write queued behind it, for as long as it runs: it runs in
    a worker thread of the pool instead, against the current state, and only its events, once its
    rules accepted them, join a group (`GroupCommitter.commit`: the same one transaction for the
    whole command; a refused one never reaches the committer). At most `HEAVY_AT_ONCE` run at a
    time per process, so that they share the interpreter with the rest of the server rather than
    crowd it out."""
    committer = service.group_committer
    if committer is None:
        result = await run_in_threadpool(command)
    elif weight >= HEAVY:
        async with _heavy_slot():
            result = await run_in_threadpool(command)
    else:
        result = await asyncio.wrap_future(committer.submit(command))
    return answer(result)


_heavy_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _heavy_slot() -> asyncio.Semaphore:
    """The semaphore of heavy commands of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    slot = _heavy_slots.get(loop)
    if slot is None:
        slot = _heavy_slots[loop] = asyncio.Semaphore(HEAVY_AT_ONCE)
    return slot
