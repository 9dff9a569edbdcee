"""`GET /.well-known/trainrec-keys.json`: the public keys that sign credentials and checkpoints.

Public (no sign-in): anyone holding a credential or a checkpoint must be able to check it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.signing.keys import key_ring
from service.transparency.origin import log_origin

router = APIRouter(tags=["keys"])


@router.get("/.well-known/trainrec-keys.json")
def published_keys() -> JSONResponse:
    body: dict[str, Any] = key_ring().published(log_origin())
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})
