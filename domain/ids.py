"""Deterministic aggregate ids from natural keys, so uniqueness needs no database constraint."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid5

NS = UUID("6b1c5d52-8f0e-4d3e-9a57-2f1d6c0e7a11")


def org_uuid(org_id: str) -> UUID:
    return uuid5(NS, f"org:{org_id}")


def teacher_uuid(teacher_no: str) -> UUID:
    return uuid5(NS, f"teacher:{teacher_no}")


def programme_uuid(code: str) -> UUID:
    return uuid5(NS, f"programme:{code}")


def dispute_uuid(dispute_id: str) -> UUID:
    return uuid5(NS, f"dispute:{dispute_id}")


def idempotency_uuid(subject: str, key: str) -> UUID:
    return uuid5(NS, f"idempotency:{subject}:{key}")


def event_id(originator_id: UUID, originator_version: int) -> str:
    """Public id of a stored event: stable, derived from its place in its aggregate.

    It is `str(uuid5(originator_id, str(originator_version)))`, written out by hand because
    every event of a replay asks for one and `uuid.uuid5` builds two UUID objects on the way."""
    name = originator_id.bytes + str(originator_version).encode()
    digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest()[:16])  # as uuid5 does
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def account_uuid(username: str) -> UUID:
    return uuid5(NS, f"account:{username}")


ACCOUNT_DIRECTORY = uuid5(NS, "account-directory")


def certificate_uuid(certificate_no: str) -> UUID:
    return uuid5(NS, f"certificate:{certificate_no}")
