"""Org units: province → city → county → town → school, and training providers beside them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.errors import Conflict, Invalid
from domain.ids import org_uuid
from domain.vocabulary import OrgKind

# Which kinds may sit directly under which. A provider sits under the org that supervises it.
ALLOWED_PARENTS: dict[OrgKind, frozenset[OrgKind | None]] = {
    OrgKind.PROVINCE: frozenset({None}),
    OrgKind.CITY: frozenset({None, OrgKind.PROVINCE}),
    OrgKind.COUNTY: frozenset({None, OrgKind.PROVINCE, OrgKind.CITY}),
    OrgKind.TOWN: frozenset({OrgKind.COUNTY, OrgKind.CITY}),
    OrgKind.SCHOOL: frozenset({OrgKind.TOWN, OrgKind.COUNTY, OrgKind.CITY}),
    OrgKind.PROVIDER: frozenset(
        {None, OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY, OrgKind.TOWN}
    ),
}

MAX_NAME = 200
MAX_ID = 64


def ensure_valid_org_id(org_id: str) -> None:
    if not org_id or len(org_id) > MAX_ID or org_id != org_id.strip() or "/" in org_id:
        raise Invalid("invalid_org_id", f"org id must be 1–{MAX_ID} characters, no '/' or edge spaces")


def ensure_parent_fits(kind: OrgKind, parent_kind: OrgKind | None) -> None:
    if parent_kind not in ALLOWED_PARENTS[kind]:
        under = parent_kind.value if parent_kind else "nothing"
        raise Invalid("invalid_parent", f"a {kind.value} cannot sit under {under}")


def ensure_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid("invalid_name", f"name must be 1–{MAX_NAME} characters")
    return name


class OrgUnit(ChainedAggregate):
    """One org unit. Its kind and parent are fixed once registered; its name may change."""

    if TYPE_CHECKING:
        org_id: str
        name: str
        kind: str
        parent_id: str | None

    class Registered(ChainedAggregate.Created):
        org_id: str
        name: str
        kind: str
        parent_id: str | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.org_id = self.org_id
            aggregate.name = self.name
            aggregate.kind = self.kind
            aggregate.parent_id = self.parent_id

    class Renamed(ChainedAggregate.Event):
        name: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.name = self.name

    @classmethod
    def register(
        cls,
        org_id: str,
        name: str,
        kind: OrgKind,
        parent: OrgUnit | None,
        actor: Actor,
        now: datetime,
    ) -> OrgUnit:
        ensure_valid_org_id(org_id)
        ensure_parent_fits(kind, OrgKind(parent.kind) if parent else None)
        return cls._create(
            cls.Registered,
            id=org_uuid(org_id),
            timestamp=now,
            org_id=org_id,
            name=ensure_name(name),
            kind=kind.value,
            parent_id=parent.org_id if parent else None,
            actor=actor.as_record(),
            reason="",
        )

    def rename(self, name: str, kind: OrgKind, parent_id: str | None, actor: Actor, now: datetime) -> bool:
        """Rename; returns False when nothing changed. Kind and parent cannot change."""
        if kind.value != self.kind or parent_id != self.parent_id:
            raise Conflict(
                "org_structure_fixed",
                f"org {self.org_id} is a {self.kind} under {self.parent_id}; kind and parent cannot change",
            )
        name = ensure_name(name)
        if name == self.name:
            return False
        self.trigger_event(self.Renamed, timestamp=now, name=name, actor=actor.as_record(), reason="")
        return True
