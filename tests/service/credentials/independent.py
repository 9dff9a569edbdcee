"""A second verifier of VC-JWTs, written from RFC 7515 and RFC 8032 alone (not the code that signs
nor the one that verifies in service/credentials): base64url decoded by hand, the Ed25519 signature
checked with `cryptography` over the JWS signing input `BASE64URL(header) '.' BASE64URL(payload)`."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url_decode(text: str) -> bytes:
    """Base64url without padding (RFC 7515 §2), decoded six bits at a time."""
    bits = "".join(format(B64URL.index(char), "06b") for char in text)
    usable = len(bits) - len(bits) % 8
    return bytes(int(bits[i:i + 8], 2) for i in range(0, usable, 8))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_key_of(keys_document: dict[str, Any], key_id: str) -> bytes:
    """The raw 32-byte public key of `key_id` in a `/.well-known/trainrec-keys.json` document."""
    (entry,) = [k for k in keys_document["keys"] if k["key_id"] == key_id]
    assert entry["jwk"]["kty"] == "OKP"
    assert entry["jwk"]["crv"] == "Ed25519"
    raw = b64url_decode(entry["jwk"]["x"])
    assert len(raw) == 32
    return raw


def verify(token: str, public_raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS whose Ed25519 signature holds; raises InvalidSignature else."""
    header_part, payload_part, signature_part = token.split(".")
    signature = b64url_decode(signature_part)
    assert len(signature) == 64
    Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, f"{header_part}.{payload_part}".encode("ascii"))
    return json.loads(b64url_decode(header_part)), json.loads(b64url_decode(payload_part))


def header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0]))
    return header
