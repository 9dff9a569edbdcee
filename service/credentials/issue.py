"""Issuing a credential: the transcript the caller may read (the same query and scope as `GET
/api/v1/teachers/{teacher_no}/transcript`, as of an instant), as a CLR credential issued by the
county of the teacher's school (a departed teacher's last school; where the school lies under no
county, the nearest city, else province, else the top of its tree), signed with the key ring's active credential key."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.errors import Unavailable
from domain.org import OrgUnit
from service.auth.scopes import Kind
from service.credentials.document import clr_credential
from service.credentials.signing import PURPOSE, KeySource, sign_credential, valid_at

if TYPE_CHECKING:
    from service.app import TrainRec

ISSUER_KINDS = ("county", "city", "province")


@dataclass(frozen=True)
class Issued:
    credential: dict[str, Any]
    jwt: str
    key_id: str


def issuing_unit(service: TrainRec, school_id: str) -> dict[str, str]:
    """The unit that issues the credentials of a school's teachers: `{"id", "name"}`."""
    chain = service.org_chain(school_id)
    kinds = {org_id: service.org_kind(org_id) for org_id in chain}
    chosen = next((org_id for kind in ISSUER_KINDS for org_id in chain if kinds[org_id] == kind), chain[-1])
    return {"id": chosen, "name": service.lookup(None, OrgUnit, Kind.ORG, chosen).name}


def issue_credential(
    service: TrainRec,
    actor: Actor,
    teacher_no: str,
    ring: KeySource,
    *,
    as_of: datetime | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> Issued:
    """The signed credential of `teacher_no`'s transcript as of `as_of` (default now), for `actor`
    (refused as the transcript is refused). `checkpoint`: the transparency checkpoint it is issued
    under, recorded in the credential."""
    transcript = service.transcript(actor, teacher_no, as_of)
    issuer = issuing_unit(service, str(transcript["school_id"]))  # a departed teacher's: their last school's
    issued_at = service.clock().replace(microsecond=0)
    credential = clr_credential(transcript, issuer, issued_at, credential_id=f"urn:uuid:{uuid.uuid4()}",
                                zone=service.policy.zone, as_of=as_of, checkpoint=checkpoint)
    key = ring.active(PURPOSE)
    if not valid_at(key.valid_from, key.valid_until, issued_at):
        raise Unavailable("credential_key_not_valid", f"the active credential key {key.key_id} is not valid at "
                          f"{issued_at.isoformat()}: rotate it (trainrec keys rotate --purpose credential)")
    return Issued(credential, sign_credential(credential, key, issued_at), key.key_id)
