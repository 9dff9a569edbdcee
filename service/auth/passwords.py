"""Password hashing (argon2id, argon2-cffi) and the rule a new password must meet.

A password is never stored, logged or put in an event: only its hash is. Verification costs the
same whether or not the account exists (an unknown username is checked against a dummy hash)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 256
# argon2id with OWASP's password-storage parameters (19 MiB, 2 passes, 1 lane): a hash read back
# is checked with the parameters stored in it, so they may be raised later without a migration
TIME_COST = 2
MEMORY_KIB = 19 * 1024
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=1)
_DUMMY = _hasher.hash("trainrec-dummy-password-for-unknown-usernames")


def ensure_strong(password: str, username: str) -> None:
    """Refuse an empty, short, overlong or guessable password, saying why (never echoing it)."""
    if not password or not password.strip():
        raise Invalid("weak_password", "the password is empty")
    if len(password) < MIN_LENGTH:
        raise Invalid("weak_password", f"the password is shorter than {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Invalid("weak_password", f"the password is longer than {MAX_LENGTH} characters")
    if len(set(password)) < 4:
        raise Invalid("weak_password", "the password repeats too few different characters")
    if username.lower() in password.lower():
        raise Invalid("weak_password", "the password contains the username")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with no hash (no such account), a check against
    a dummy hash that takes as long and fails."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH + 1]  # still checked (and failing), in bounded time
    try:
        _hasher.verify(password_hash or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None
