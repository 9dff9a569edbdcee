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
SESSION_COOKIE = "trainrec_session"
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret

ROLES_WITH_ORG = (Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.PROVIDER, Role.AUDITOR)


def data_dir() -> Path:
    """Where the generated secret is kept: `TRAINREC_DATA_DIR`; else the folder of the SQLite
    database file (`TRAINREC_DATABASE_URL`, by default ./var/trainrec.db), so that every command
    run against one database uses one secret whatever its current folder; else (PostgreSQL, or
    the in-memory store) a per-user folder, `$XDG_DATA_HOME/trainrec` or ~/.local/share/trainrec.
    Always absolute."""
    from service.storage.config import ConfigError, storage_from_environment

    configured = os.environ.get("TRAINREC_DATA_DIR")
    if configured:
        return Path(configured).resolve()
    try:
        sqlite_path = storage_from_environment().sqlite_path
    except ConfigError:
        sqlite_path = None
    if sqlite_path is not None:
        return sqlite_path.resolve().parent
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).resolve() / "trainrec"


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
    session_id: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A bearer token for `actor`. With `session_id`, the token of an account's session (`sid`):
    every request it authenticates checks that the account is enabled and the session open."""
    issued = now or datetime.now(tz=UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": actor.subject,
        "role": actor.role.value,
        "iat": int(issued.timestamp()),
        "exp": int((expires_at or issued + ttl).timestamp()),
    }
    if session_id is not None:
        claims["sid"] = session_id
    if actor.org_id:
        claims["org"] = actor.org_id
    if actor.teacher_no:
        claims["teacher_no"] = actor.teacher_no
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


VERIFIED_MAX = 4096
# token (and the secret it was checked with) -> (its actor, its expiry as a Unix time, its session
# id if any). A token's signature and claims never change, so one HMAC check per token is enough;
# its expiry is still checked on every request (and an account session's state, by the caller).
# Bounded: cleared when full.
_verified: dict[tuple[str, str], tuple[Actor, float, str | None]] = {}


def read_token(secret: str, token: str) -> Actor:
    """The actor a bearer token names, if its signature is ours and it has not expired."""
    return read_credential(secret, token)[0]


def read_credential(secret: str, token: str) -> tuple[Actor, str | None]:
    """The actor a token names and the account session it belongs to (None for a token of
    `trainrec token issue`), if its signature is ours and it has not expired."""
    key = (secret, token)
    known = _verified.get(key)
    if known is not None:
        actor, expires, session_id = known
        if time.time() < expires:  # PyJWT's rule: expired once exp <= now
            return actor, session_id
        raise Unauthenticated("token_expired", "the bearer token has expired")
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    return _decode(secret, token)


def _decode(secret: str, token: str) -> tuple[Actor, str | None]:
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
    sid = claims.get("sid")
    session_id = sid if isinstance(sid, str) and sid else None
    _verified[(secret, token)] = (actor, float(claims["exp"]), session_id)
    return actor, session_id
