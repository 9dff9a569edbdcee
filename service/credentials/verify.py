"""Offline verification of a credential's VC-JWT: against a saved `/.well-known/trainrec-keys.json`
(`published_keys`) or the local key ring (`ring_keys`). Checks, in order: the compact form, the
header (`alg` EdDSA, a `kid`), that the key is known and signs credentials, the Ed25519 signature,
that the key was valid at the credential's issue (`iat`, equal to `validFrom`): from its
`valid_from`, before its `valid_until` (a key rotated out still verifies what it signed while
valid), and that `iss` and `sub` name the credential's issuer and subject. Any failure is a
`CredentialRejected` with a one-line reason."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.credentials.signing import ALGORITHM, PURPOSE, KeySource, valid_at


class CredentialRejected(Exception):
    """The credential does not verify; the message says why, in one line."""


@dataclass(frozen=True)
class KnownKey:
    key_id: str
    purpose: str
    public: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class Verified:
    key_id: str
    issued_at: datetime
    credential: dict[str, Any]

    @property
    def subject(self) -> dict[str, Any]:
        subject: dict[str, Any] = self.credential["credentialSubject"]
        return subject

    def summary(self) -> list[str]:
        """What a person checking it reads: who, issued when and by whom, the totals."""
        names = {i.get("identityType"): i.get("identityHash") for i in self.subject.get("identifier", [])}
        cycle = self.subject.get("cycle") or {}
        lines = [
            f"ok: {names.get('name')} (工号 {names.get('identifier')}), issued {self.issued_at.isoformat()} "
            f"by {self.credential['issuer'].get('name')} with key {self.key_id}",
            f"as of {self.credential.get('asOf')}: {len(self.subject.get('verifiableCredential', []))} achievements",
        ]
        lines += [f"{y['year']}: {y['hours']} 学时 (自主选学 {y['selfSelected']}, 校本 {y['schoolBased']}, "
                  f"集中 {y['concentrated']})" for y in self.subject.get("hoursByYear", [])]
        if cycle:
            lines.append(f"cycle {cycle['startYear']}–{cycle['endYear']}: {cycle['hours']} of {cycle['required']} 学时")
        return lines


KeyLookup = Callable[[str], KnownKey | None]


def _instant(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise CredentialRejected(f"the keys file gives {what} {value!r}, not an instant") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def published_keys(document: Mapping[str, Any]) -> KeyLookup:
    """Keys from the JSON of `/.well-known/trainrec-keys.json`: `{"keys": [{"key_id", "purpose",
    "alg": "Ed25519", "jwk": {"kty": "OKP", "crv": "Ed25519", "x"}, "valid_from", "valid_until"}]}`."""
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise CredentialRejected("the keys file has no \"keys\" list")

    def find(key_id: str) -> KnownKey | None:
        for entry in entries:
            if not isinstance(entry, Mapping) or entry.get("key_id") != key_id:
                continue
            jwk = entry.get("jwk") or {}
            if entry.get("alg") not in ("Ed25519", ALGORITHM) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                raise CredentialRejected(f"key {key_id} in the keys file is not an Ed25519 key")
            try:
                public = Ed25519PublicKey.from_public_bytes(_b64url(str(jwk.get("x", ""))))
            except (ValueError, binascii.Error):
                raise CredentialRejected(f"key {key_id} in the keys file has no valid public key") from None
            valid_from = _instant(entry.get("valid_from"), "valid_from")
            if valid_from is None:
                raise CredentialRejected(f"key {key_id} in the keys file has no valid_from")
            return KnownKey(key_id, str(entry.get("purpose")), public, valid_from,
                            _instant(entry.get("valid_until"), "valid_until"))
        return None

    return find


def ring_keys(ring: KeySource) -> KeyLookup:
    """Keys from the local key ring (the server's data directory)."""

    def find(key_id: str) -> KnownKey | None:
        key = ring.find(key_id)
        if key is None:
            return None
        return KnownKey(key.key_id, str(key.purpose), Ed25519PublicKey.from_public_bytes(key.public_raw()),
                        key.valid_from, key.valid_until)

    return find


def verify_credential(token: str, keys: KeyLookup) -> Verified:
    """The credential in the compact JWS `token`, verified against `keys`; else `CredentialRejected`."""
    token = token.strip()
    if token.count(".") != 2:
        raise CredentialRejected("not a compact JWS (three base64url parts separated by dots)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise CredentialRejected(f"unreadable JWS header: {error}") from None
    if header.get("alg") != ALGORITHM:
        raise CredentialRejected(f"the JWS is signed with {header.get('alg')!r}, not {ALGORITHM}")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise CredentialRejected("the JWS header names no key (kid)")
    key = keys(key_id)
    if key is None:
        raise CredentialRejected(f"unknown key {key_id}: not among the published keys")
    if key.purpose != PURPOSE:
        raise CredentialRejected(f"key {key_id} signs {key.purpose}s, not credentials")
    try:
        payload = jwt.decode(token, key.public, algorithms=[ALGORITHM], options={
            "require": ["iat", "iss", "sub"], "verify_aud": False, "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise CredentialRejected(f"bad signature: the credential was altered or not signed by key {key_id}") from None
    except jwt.PyJWTError as error:
        raise CredentialRejected(f"invalid VC-JWT: {error}") from None
    issued_at = datetime.fromtimestamp(payload["iat"], UTC)
    if issued_at < key.valid_from.replace(microsecond=0):
        raise CredentialRejected(f"key {key_id} was not yet valid at the credential's issue ({issued_at.isoformat()}; "
                                 f"valid from {key.valid_from.isoformat()})")
    if key.valid_until is not None and not valid_at(key.valid_from, key.valid_until, issued_at):
        raise CredentialRejected(f"key {key_id} was no longer valid at the credential's issue "
                                 f"({issued_at.isoformat()}; valid until {key.valid_until.isoformat()})")
    _ensure_credential(payload, issued_at)
    credential = {k: v for k, v in payload.items() if k not in ("iss", "sub", "iat", "nbf", "jti")}
    return Verified(key_id, issued_at, credential)


def _ensure_credential(payload: Mapping[str, Any], issued_at: datetime) -> None:
    types = payload.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or "ClrCredential" not in types:
        raise CredentialRejected("the payload is not a ClrCredential")
    issuer, subject = payload.get("issuer"), payload.get("credentialSubject")
    if not isinstance(issuer, Mapping) or payload["iss"] != issuer.get("id"):
        raise CredentialRejected("iss does not name the credential's issuer")
    if not isinstance(subject, Mapping) or payload["sub"] != subject.get("id"):
        raise CredentialRejected("sub does not name the credential's subject")
    try:
        valid_from = datetime.fromisoformat(str(payload.get("validFrom")).replace("Z", "+00:00"))
    except ValueError:
        raise CredentialRejected("validFrom is not an instant") from None
    if valid_from != issued_at:
        raise CredentialRejected(f"validFrom {payload.get('validFrom')} differs from iat ({issued_at.isoformat()})")


def token_of(text: str) -> str:
    """The compact JWS in a saved file: the JWS itself (`application/vc+jwt`), or the JSON answer
    `{"credential", "jwt"}`."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            raise CredentialRejected("the file is neither a compact JWS nor JSON with a \"jwt\"") from None
        if not isinstance(document, dict) or not isinstance(document.get("jwt"), str):
            raise CredentialRejected("the JSON file has no \"jwt\" member")
        return str(document["jwt"])
    return stripped
