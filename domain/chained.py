"""Aggregates whose events form a per-aggregate hash chain (tamper evidence).

Every event carries `prev_hash`, the previous event's `chain_hash`, and its own
`chain_hash`, computed over the canonical encoding of everything else it holds.
A verifier that decodes stored events can recompute each link and name the first one
whose stored bytes no longer match.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Self, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.canonical import GENESIS, canonical_bytes, chain_digest
from domain.errors import Invalid
from domain.text import ensure_clean_values, has_bidi_control, has_control_character


def seal(event: Any) -> Any:
    """Return `event` with its `chain_hash` computed from its other fields."""
    return dataclasses.replace(event, chain_hash=chain_digest(event.prev_hash, _payload(event)))


def _payload(event: Any) -> bytes:
    state = dict(vars(event))
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return canonical_bytes(get_topic(type(event)), event.originator_id, event.originator_version, state)


def _sealed_new(event_class: type[Any], kwargs: dict[str, Any]) -> Any:
    """A new event, refused if any text in it holds a control character or a bidirectional
    control, with its chain hash.

    The canonical encoding escapes control characters (and keeps the bidirectional ones as they
    are), so one search of it replaces a walk over every value; only when it finds one does the
    walk run, to name the field. The hash is set on the event before anyone else sees it (events
    are frozen dataclasses)."""
    event = event_class(**kwargs)
    payload = _payload(event)
    text = payload.decode("utf-8")
    if has_control_character(text) or has_bidi_control(text):
        ensure_clean_values({k: v for k, v in kwargs.items() if k not in ("prev_hash", "chain_hash")})
        # in a value the walk does not reach
        if has_bidi_control(text):
            raise Invalid("bidi_control", "text contains a bidirectional control character")
        raise Invalid("invalid_text", "text contains a control character")
    object.__setattr__(event, "chain_hash", chain_digest(event.prev_hash, payload))
    return event


class ChainedAggregate(Aggregate):
    """Base aggregate: events name their actor and reason and are hash-chained."""

    class Event(Aggregate.Event):
        actor: dict[str, str]
        reason: str
        prev_hash: str
        chain_hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.chain_head = self.chain_hash

    class Created(Event, Aggregate.Created):
        pass

    chain_head = GENESIS  # not annotated: the aggregate metaclass would make it a dataclass field

    @classmethod
    def _create(  # type: ignore[override]
        cls,
        event_class: type[Any],
        *,
        id: UUID,  # noqa: A002
        **kwargs: Any,
    ) -> Self:
        kwargs.update(
            originator_topic=get_topic(cls),
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=kwargs.get("timestamp") or event_class.create_timestamp(),
            prev_hash=GENESIS,
            chain_hash="",
        )
        created = _sealed_new(event_class, kwargs)
        agg = cast(Self, created.mutate(None))
        agg._pending_events.append(created)
        return agg

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.update(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=kwargs.get("timestamp") or event_class.create_timestamp(),
            prev_hash=self.chain_head,
            chain_hash="",
        )
        new_event = _sealed_new(event_class, kwargs)
        new_event.mutate(self)
        self._pending_events.append(new_event)
