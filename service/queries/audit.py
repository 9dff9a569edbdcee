"""The audit feed: every recorded event, filterable by teacher, actor, type and time, in recorded
order, with cursor paging. The `audit` projection table finds the page's events (its columns are
what the feed filters and scopes by); each event's id and data are then read from the log itself,
so the feed shows the stored event, not a copy of it. Scoped readers see the events of aggregates
in their org subtree (a teacher's event belongs to their school of the time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from domain.actor import Actor
from domain.errors import Invalid
from domain.ids import event_id
from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from domain.text import ensure_clean_text
from domain.vocabulary import Role
from projections.db import LIKE_ESCAPE, like_prefix
from projections.records import AUDIT_HIDDEN
from service.application.values import ensure_instant, json_safe
from service.queries.replay import Queries
from service.storage.bulk_reads import notifications

AGGREGATES: tuple[type[Any], ...] = (Teacher, Programme, OrgUnit)


def event_types() -> set[str]:
    names = set()
    for cls in AGGREGATES:
        for name, member in vars(cls).items():
            if isinstance(member, type) and issubclass(member, cls.Event) and name not in ("Event", "Created"):
                names.add(name)
    return names


EVENT_TYPES = event_types()


CURSOR = re.compile(r"^[0-9]{1,18}$")


def _data(event: Any) -> Any:
    """What an event records beyond who, when and why, as JSON values (text for dates and
    decimals), members in name order at every level (as the feed has always given them)."""
    return json_safe({k: v for k, v in vars(event).items() if k not in AUDIT_HIDDEN}, sort_keys=True)


def _utc(value: datetime, name: str) -> str:
    return ensure_instant(value, name).astimezone(UTC).isoformat(timespec="microseconds")


class AuditQueries(Queries):
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
        late_entry: bool | None = None,
    ) -> dict[str, Any]:
        self.scopes.ensure_feed_read(actor)
        for label, text in (("teacher_no", teacher_no), ("actor", actor_sub), ("type", event_type)):
            if text is not None:
                ensure_clean_text(text, label)
        if event_type is not None and event_type not in EVENT_TYPES:
            raise Invalid("unknown_event_type", f"unknown type {event_type!r}; known: {', '.join(sorted(EVENT_TYPES))}")
        if after and not CURSOR.match(after):
            raise Invalid("invalid_cursor", "after is the `next` cursor of a previous page")
        cursor = int(after) if after else 0
        if not 1 <= limit <= 1000:
            raise Invalid("invalid_limit", "limit is between 1 and 1000")
        _, freshness = self.fresh_reports()
        p = self.read_model.prefix
        where = ["a.position > ?"]
        params: list[Any] = [cursor]
        join = ""
        if actor.role is not Role.ADMIN:
            org_path = self.read_model.db.query(f"SELECT path FROM {p}orgs WHERE org_id = ?", (actor.org_id,))
            if not org_path:
                return {"events": [], "next": None, **freshness}
            join = f"JOIN {p}orgs o ON o.org_id = a.org_id"
            where.append(f"o.path LIKE ? {LIKE_ESCAPE}")
            params.append(like_prefix(org_path[0][0]))
        for column, value in (("a.teacher_no", teacher_no), ("a.actor_sub", actor_sub), ("a.type", event_type)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if late_entry is not None:
            where.append("a.late_entry = ?")
            params.append(int(late_entry))
        if since is not None:
            where.append("a.recorded_at >= ?")
            params.append(_utc(since, "since"))
        if until is not None:
            where.append("a.recorded_at <= ?")
            params.append(_utc(until, "until"))
        rows = self.read_model.db.query(
            "SELECT a.position, a.type, a.aggregate, a.teacher_no, a.org_id, a.actor_sub, a.actor_role, "
            f"a.recorded_at, a.reason, a.occurred_on, a.late_entry FROM {p}audit a {join} WHERE {' AND '.join(where)} "
            "ORDER BY a.position LIMIT ?",
            (*params, limit + 1),
        )
        stored = notifications(self.recorder, [r[0] for r in rows[:limit]])
        events = []
        for r in rows[:limit]:
            event = self.mapper.to_domain_event(stored[r[0]])
            events.append({
                "id": event_id(event.originator_id, event.originator_version), "position": r[0], "type": r[1],
                "aggregate": r[2], "teacher_no": r[3], "org_id": r[4], "actor": {"sub": r[5], "role": r[6]},
                "recorded_at": r[7], "occurred_on": r[9], "late_entry": bool(r[10]),
                "late_reason": getattr(event, "late_reason", None), "reason": r[8],
                "data": _data(event),
            })
        more = len(rows) > limit
        return {"events": events, "next": str(events[-1]["position"]) if more else None, **freshness}
