"""Bearer tokens: signed with `TRAINREC_SECRET` (HS256, PyJWT), expiring, naming role and scope."""

from __future__ import annotations

import os
import secrets
import tempfile
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


class SecretFileError(RuntimeError):
    """The secret file cannot be used."""


def load_secret() -> str:
    """`TRAINREC_SECRET`, or one generated once and kept in the data directory with mode 0600.

    Processes starting together agree on one secret, and none reads a partial one: each writes its
    candidate in full to a temporary file of its own (mode 0600) in the same directory, then links
    it to the secret's name, which fails if the name exists; the first link wins and the others
    read the winner's file, complete since before it had the name."""
    configured = os.environ.get("TRAINREC_SECRET")
    if configured:
        return configured
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    if path.exists():
        return _read_secret(path)
    candidate = secrets.token_urlsafe(48)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".secret-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(candidate)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_secret(path)  # another process won
        return candidate
    finally:
        os.unlink(temporary)


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        msg = f"the secret file {path} is empty (left by an interrupted start?): delete it, or set TRAINREC_SECRET"
        raise SecretFileError(msg)
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
