"""Ed25519 signing keys with ids, validity periods and rotation, one active key per purpose.

Kept in the data directory (`service.auth.tokens.data_dir()`), file `signing-keys.json`, mode 0600,
created on first use. Private keys are never logged or printed: `SigningKey`'s repr leaves them out.
A rotated-out key keeps its place in the file with its `valid_until` set, so what it signed can still
be verified against `/.well-known/trainrec-keys.json`.

Processes sharing the data directory agree: every change (the first keys, a rotation) is made under
an exclusive lock of `signing-keys.lock`, re-reading the file first, and written to a temporary file
renamed over the old one, so a reader never sees a partial file. A `KeyRing` re-reads the file when
it changed on disk (a rotation by `trainrec keys rotate` reaches a running server).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

Purpose = Literal["credential", "checkpoint"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
KEYS_FILE = "signing-keys.json"
LOCK_FILE = "signing-keys.lock"
FORMAT = 1
NOTE_ED25519 = b"\x01"  # the C2SP signed-note signature type of Ed25519


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def note_key_hash(name: str, public_raw: bytes) -> bytes:
    """The C2SP signed-note key ID of an Ed25519 key: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + NOTE_ED25519 + public_raw).digest()[:4]


def verifier_key(name: str, public_raw: bytes) -> str:
    """The C2SP signed-note verifier key: `<name>+<hex8 key hash>+<base64(0x01 ‖ public key)>`."""
    encoded = base64.b64encode(NOTE_ED25519 + public_raw).decode("ascii")
    return f"{name}+{note_key_hash(name, public_raw).hex()}+{encoded}"


@dataclass(frozen=True)
class SigningKey:
    key_id: str  # e.g. "trainrec-checkpoint-2026-12-03-ab12cd34": purpose, day made, hash of the public key
    purpose: Purpose
    private: Ed25519PrivateKey = field(repr=False, compare=False)
    valid_from: datetime  # aware UTC
    valid_until: datetime | None  # None while active; set when rotated out (still published for verifying)

    def public_raw(self) -> bytes:
        """The 32-byte Ed25519 public key (RFC 8032)."""
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `data`."""
        return self.private.sign(data)

    def published(self, origin: str) -> dict[str, Any]:
        """What anyone may know of this key (no private part)."""
        public = self.public_raw()
        entry: dict[str, Any] = {
            "key_id": self.key_id,
            "purpose": self.purpose,
            "alg": "Ed25519",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url(public), "kid": self.key_id},
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until) if self.valid_until is not None else None,
        }
        if self.purpose == "checkpoint":
            entry["vkey"] = verifier_key(origin, public)
        return entry


class KeyFileError(RuntimeError):
    """The signing-keys file cannot be used."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        msg = f"a time without a zone in {KEYS_FILE}: {text!r}"
        raise KeyFileError(msg)
    return moment.astimezone(UTC)


def _new_key(purpose: Purpose, now: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = f"trainrec-{purpose}-{now.astimezone(UTC).date().isoformat()}-{hashlib.sha256(public).hexdigest()[:8]}"
    return SigningKey(key_id, purpose, private, now.astimezone(UTC), None)


def _encode(keys: list[SigningKey]) -> str:
    rows = [{
        "key_id": key.key_id,
        "purpose": key.purpose,
        "private": base64.b64encode(key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
        .decode("ascii"),
        "valid_from": _iso(key.valid_from),
        "valid_until": _iso(key.valid_until) if key.valid_until is not None else None,
    } for key in keys]
    return json.dumps({"format": FORMAT, "keys": rows}, indent=2) + "\n"


def _decode(text: str, path: Path) -> list[SigningKey]:
    try:
        document = json.loads(text)
        keys = []
        for row in document["keys"]:
            purpose = row["purpose"]
            if purpose not in PURPOSES:
                msg = f"unknown purpose {purpose!r}"
                raise KeyFileError(msg)
            private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(row["private"], validate=True))
            until = row.get("valid_until")
            keys.append(SigningKey(str(row["key_id"]), cast("Purpose", purpose), private,
                                   _parse_moment(row["valid_from"]), _parse_moment(until) if until else None))
    except (ValueError, KeyError, TypeError) as error:
        msg = f"the signing-keys file {path} cannot be read ({type(error).__name__}); restore it from a backup"
        raise KeyFileError(msg) from None
    return keys


class KeyRing:
    """The signing keys of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / KEYS_FILE
        self._keys: list[SigningKey] = []
        self._stamp: tuple[int, int] | None = None

    @classmethod
    def open(cls, directory: Path | None = None) -> KeyRing:
        """The key ring of `directory` (None: the data directory); a key is made for each purpose
        that has no active one."""
        if directory is None:
            from service.auth.tokens import data_dir

            directory = data_dir()
        ring = cls(Path(directory))
        ring._load()
        if any(ring._active_or_none(purpose) is None for purpose in PURPOSES):
            with ring._changing() as keys:
                now = datetime.now(tz=UTC)
                for purpose in PURPOSES:
                    if not any(k.purpose == purpose and k.valid_until is None for k in keys):
                        keys.append(_new_key(purpose, now))
        return ring

    def all_keys(self) -> list[SigningKey]:
        """Every key, active and retired, oldest first."""
        self._refresh()
        return list(self._keys)

    def active(self, purpose: Purpose) -> SigningKey:
        self._refresh()
        key = self._active_or_none(purpose)
        if key is None:
            msg = f"no active {purpose} key in {self.path}"
            raise KeyFileError(msg)
        return key

    def find(self, key_id: str) -> SigningKey | None:
        self._refresh()
        return next((key for key in self._keys if key.key_id == key_id), None)

    def rotate(self, purpose: Purpose, now: datetime) -> SigningKey:
        """A new active key for `purpose`; the old one gets `valid_until=now` and stays published."""
        if now.tzinfo is None:
            msg = "rotate needs an aware time"
            raise ValueError(msg)
        with self._changing() as keys:
            for index, key in enumerate(keys):
                if key.purpose == purpose and key.valid_until is None:
                    keys[index] = replace(key, valid_until=now.astimezone(UTC))
            new = _new_key(purpose, now)
            if any(key.key_id == new.key_id for key in keys):  # a 32-bit clash on one day: try again
                new = _new_key(purpose, now)
            keys.append(new)
        return new

    def published(self, origin: str) -> dict[str, Any]:
        """The body of `GET /.well-known/trainrec-keys.json`: every key, active and retired."""
        return {"origin": origin, "keys": [key.published(origin) for key in self.all_keys()]}

    # -- the file

    def _active_or_none(self, purpose: Purpose) -> SigningKey | None:
        return next((k for k in reversed(self._keys) if k.purpose == purpose and k.valid_until is None), None)

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_ino

    def _refresh(self) -> None:
        if self._file_stamp() != self._stamp:
            self._load()

    def _load(self) -> None:
        stamp = self._file_stamp()
        if stamp is None:
            self._keys, self._stamp = [], None
            return
        self._keys = _decode(self.path.read_text(encoding="utf-8"), self.path)
        self._stamp = stamp

    @contextlib.contextmanager
    def _changing(self) -> Iterator[list[SigningKey]]:
        """The keys to change in place, re-read under the lock; written back when the block ends."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._load()
            keys = list(self._keys)
            yield keys
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".signing-keys-", suffix=".tmp")  # 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(_encode(keys))
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            self._load()
        finally:
            os.close(lock)


_rings: dict[Path, KeyRing] = {}
_rings_lock = threading.Lock()


def key_ring(directory: Path | None = None) -> KeyRing:
    """The key ring of `directory` (None: the data directory), opened once per process and
    directory (it re-reads its file when another process changed it)."""
    if directory is None:
        from service.auth.tokens import data_dir

        directory = data_dir()
    with _rings_lock:
        ring = _rings.get(directory)
        if ring is None:
            ring = _rings[directory] = KeyRing.open(directory)
        return ring
