"""Bearer tokens: signed with `TRAINREC_SECRET` (HS256, PyJWT), expiring, naming role and scope."""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from domain.actor import Actor
from domain.errors import Invalid, Unauthenticated
from domain.vocabulary import Role

ISSUER = "trainrec"
ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(hours=12)
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret

ROLES_WITH_ORG = (Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.PROVIDER, Role.AUDITOR)


def data_dir() -> Path:
    return Path(os.environ.get("TRAINREC_DATA_DIR") or "./var")


def load_secret() -> str:
    """`TRAINREC_SECRET`, or one generated once and kept in the data directory with mode 0600."""
    configured = os.environ.get("TRAINREC_SECRET")
    if configured:
        return configured
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def actor_for(role: Role, subject: str, org_id: str | None, teacher_no: str | None) -> Actor:
    """Validate that a role carries the scope it needs."""
    if not subject.strip():
        raise Invalid("invalid_subject", "a token names its subject")
    if role in ROLES_WITH_ORG and not org_id:
        raise Invalid("org_required", f"a {role.value} token needs --org")
    if role is Role.TEACHER and not teacher_no:
        raise Invalid("teacher_no_required", "a teacher token needs --teacher-no")
    return Actor(subject=subject, role=role, org_id=org_id or None, teacher_no=teacher_no or None)


def issue_token(
    secret: str,
    actor: Actor,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(tz=UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": actor.subject,
        "role": actor.role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if actor.org_id:
        claims["org"] = actor.org_id
    if actor.teacher_no:
        claims["teacher_no"] = actor.teacher_no
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


VERIFIED_MAX = 4096
# token (and the secret it was checked with) -> (its actor, its expiry as a Unix time). A token's
# signature and claims never change, so one HMAC check per token is enough; its expiry is still
# checked on every request. Bounded: cleared when full.
_verified: dict[tuple[str, str], tuple[Actor, float]] = {}


def read_token(secret: str, token: str) -> Actor:
    """The actor a bearer token names, if its signature is ours and it has not expired."""
    key = (secret, token)
    known = _verified.get(key)
    if known is not None:
        actor, expires = known
        if time.time() < expires:  # PyJWT's rule: expired once exp <= now
            return actor
        raise Unauthenticated("token_expired", "the bearer token has expired")
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    return _decode(secret, token)


def _decode(secret: str, token: str) -> Actor:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "iss"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token_expired", "the bearer token has expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("invalid_token", "the bearer token is not valid") from None
    try:
        role = Role(str(claims.get("role")))
        actor = actor_for(role, str(claims["sub"]), claims.get("org"), claims.get("teacher_no"))
    except (ValueError, Invalid):
        raise Unauthenticated("invalid_token", "the bearer token does not name a valid role and scope") from None
    _verified[(secret, token)] = (actor, float(claims["exp"]))
    return actor
