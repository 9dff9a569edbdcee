"""VC-JWT (VC-JOSE-COSE): the credential itself is the JWS payload, with `iss`, `sub`, `iat` and
`nbf` beside it; header `{"alg": "EdDSA", "typ": "vc+jwt", "kid": key_id}`; signed with PyJWT over
`cryptography`'s Ed25519 with the key ring's active `credential` key (service/signing/keys.py).

The key ring is named here by what is used of it (`CredentialKey`, `KeySource`), so that this room
depends on nothing but the interface of the key ring."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "EdDSA"
MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"
PURPOSE: Literal["credential"] = "credential"


class CredentialKey(Protocol):
    """A signing key of the key ring, as its `SigningKey` offers it."""

    @property
    def key_id(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def private(self) -> Ed25519PrivateKey: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_until(self) -> datetime | None: ...
    def public_raw(self) -> bytes: ...


class KeySource(Protocol):
    """The key ring: the key to sign with now, and any key by its id (rotated-out keys included)."""

    def active(self, purpose: Literal["credential"]) -> CredentialKey: ...
    def find(self, key_id: str) -> CredentialKey | None: ...


def sign_credential(credential: Mapping[str, Any], key: CredentialKey, issued_at: datetime) -> str:
    """The compact JWS of `credential` signed with `key` at `issued_at` (the credential's
    `validFrom`, to the second): `iss` is the issuer's id, `sub` the subject's."""
    moment = int(issued_at.timestamp())
    payload = {
        **credential,
        "iss": credential["issuer"]["id"],
        "sub": credential["credentialSubject"]["id"],
        "iat": moment,
        "nbf": moment,
        "jti": credential["id"],
    }
    # UTF-8 JSON as it is (RFC 8259), not escaped to ASCII: a Chinese character takes 3 bytes, not 6
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return jwt.api_jws.encode(body, key.private, algorithm=ALGORITHM, headers={"kid": key.key_id, "typ": TYP})


def valid_at(valid_from: datetime, valid_until: datetime | None, issued_at: datetime) -> bool:
    """Whether a key valid from `valid_from` until `valid_until` (None: still active) may have signed
    at `issued_at`. `iat` counts whole seconds, so a key counts as valid from the start of the second
    it was made in: a key made at 10:00:00.4 signs a credential issued at 10:00:00."""
    return valid_from.replace(microsecond=0) <= issued_at and (valid_until is None or issued_at < valid_until)
