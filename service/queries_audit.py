"""The audit feed: every recorded event, filterable, in recorded order, with cursor paging.

Read straight from the notification log; events of aggregates outside the reader's org
subtree are left out for scoped readers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.errors import Invalid
from domain.ids import event_id, teacher_uuid
from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import Role
from service.application import TrainRecBase, json_safe

PAGE = 500
MAX_SCANNED = 20_000
HIDDEN = {"originator_id", "originator_version", "timestamp", "actor", "reason", "prev_hash", "chain_hash",
          "originator_topic"}
AGGREGATES: dict[str, type[Any]] = {"teacher": Teacher, "programme": Programme, "org": OrgUnit}
AGGREGATE_NAMES = {cls.__name__: name for name, cls in AGGREGATES.items()}


def event_topics() -> dict[str, list[str]]:
    """Public event type name → stored topics (a name may exist on several aggregates)."""
    topics: dict[str, list[str]] = {}
    for cls in AGGREGATES.values():
        for name, member in vars(cls).items():
            if isinstance(member, type) and issubclass(member, cls.Event) and not name.startswith("_"):
                if name in ("Event", "Created"):
                    continue
                topics.setdefault(name, []).append(f"{member.__module__}:{member.__qualname__}")
    return topics


TOPICS = event_topics()
PUBLIC_TOPICS = [t for ts in TOPICS.values() for t in ts]


class AuditQueries(TrainRecBase):
    def audit_events(
        self,
        actor: Actor,
        *,
        teacher_no: str | None = None,
        actor_sub: str | None = None,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        self.scopes.ensure_audit_read(actor)
        for instant in (since, until):
            if instant is not None and instant.tzinfo is None:
                raise Invalid("invalid_instant", "since/until need a UTC offset")
        try:
            start = int(after) + 1 if after else 1
        except ValueError:
            raise Invalid("invalid_cursor", "after is the `next` cursor of a previous page") from None
        if event_type is not None and event_type not in TOPICS:
            raise Invalid("unknown_event_type", f"unknown type {event_type!r}; known: {', '.join(sorted(TOPICS))}")
        topics = TOPICS[event_type] if event_type else PUBLIC_TOPICS
        wanted = teacher_uuid(teacher_no) if teacher_no else None
        scope_cache: dict[UUID, str | None] = {}
        found: list[dict[str, Any]] = []
        scanned = 0
        last = start - 1
        max_id = self.recorder.max_notification_id() or 0
        while len(found) < limit and scanned < MAX_SCANNED and last < max_id:
            batch = self.recorder.select_notifications(start=last + 1, limit=PAGE, topics=topics)
            if not batch:
                last = max_id
                break
            for notification in batch:
                scanned += 1
                last = notification.id
                if wanted is not None and notification.originator_id != wanted:
                    continue
                event: Any = self.mapper.to_domain_event(notification)
                if actor_sub is not None and event.actor.get("sub") != actor_sub:
                    continue
                if (since is not None and event.timestamp < since) or (until is not None and event.timestamp > until):
                    continue
                if not self._in_scope(actor, event.originator_id, scope_cache):
                    continue
                found.append(self._feed_line(notification.id, event))
                if len(found) >= limit:
                    break
        more = last < max_id
        return {"events": found, "next": str(last) if more else None}

    def _in_scope(self, actor: Actor, originator_id: UUID, cache: dict[UUID, str | None]) -> bool:
        if actor.role is Role.ADMIN:
            return True
        if originator_id not in cache:
            aggregate: Any = self.repository.get(originator_id)
            if isinstance(aggregate, Teacher):
                cache[originator_id] = aggregate.school_id
            elif isinstance(aggregate, Programme):
                cache[originator_id] = aggregate.owner_org_id
            elif isinstance(aggregate, OrgUnit):
                cache[originator_id] = aggregate.org_id
            else:
                cache[originator_id] = None
        org_id = cache[originator_id]
        return org_id is not None and self.scopes.within(actor, org_id)

    def _feed_line(self, notification_id: int, event: Any) -> dict[str, Any]:
        line: dict[str, Any] = {
            "id": event_id(event.originator_id, event.originator_version),
            "position": notification_id,
            "type": type(event).__name__,
            "aggregate": AGGREGATE_NAMES.get(type(event).__qualname__.split(".")[0], "other"),
            "recorded_at": event.timestamp.isoformat(),
            "actor": dict(event.actor),
            "reason": event.reason,
            "data": json_safe({k: v for k, v in vars(event).items() if k not in HIDDEN}),
        }
        return line
