"""What makes a programme well defined: dates, sessions that add up, school-based content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import Invalid
from domain.vocabulary import Form, Level, OrgKind, SchoolBasedContent, Selection


@dataclass(frozen=True)
class SessionPlan:
    no: int
    on: date
    hours: Decimal


def ensure_programme_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Invalid("invalid_dates", f"ends_on {ends_on} is before starts_on {starts_on}")


def ensure_sessions_within_programme(
    sessions: Sequence[SessionPlan], starts_on: date, ends_on: date
) -> None:
    if not sessions:
        raise Invalid("sessions_required", "a programme needs at least one session")
    nos = [s.no for s in sessions]
    if len(set(nos)) != len(nos):
        raise Invalid("duplicate_session", "session numbers must be unique")
    if any(no < 1 for no in nos):
        raise Invalid("invalid_session", "session numbers start at 1")
    for s in sessions:
        if not starts_on <= s.on <= ends_on:
            raise Invalid(
                "session_outside_programme",
                f"session {s.no} on {s.on} is outside {starts_on}–{ends_on}",
            )


def ensure_session_hours_add_up(sessions: Sequence[SessionPlan], hours: Decimal) -> None:
    """The programme's 学时 are exactly the sum of its sessions' 学时, so totals reconcile."""
    total = sum((s.hours for s in sessions), Decimal(0))
    if total != hours:
        raise Invalid(
            "session_hours_mismatch",
            f"sessions add up to {total} 学时 but the programme has {hours}",
        )


def ensure_school_based_content(
    selection: Selection, form: Form, content: SchoolBasedContent | None
) -> None:
    """校本 programmes say whether they are designated (指定) or elective (自选) content."""
    school_based = selection is Selection.SCHOOL_BASED or form is Form.SCHOOL_BASED
    if school_based and content is None:
        raise Invalid(
            "school_based_content_required",
            "a school-based programme must say designated or elective content",
        )
    if not school_based and content is not None:
        raise Invalid(
            "school_based_content_not_allowed",
            "only school-based programmes have school_based_content",
        )


def ensure_school_based_level(selection: Selection, level: Level, owner_kind: OrgKind) -> None:
    """A school-based (校本) programme is a school-level programme owned by a school."""
    if selection is Selection.SCHOOL_BASED and (level is not Level.SCHOOL or owner_kind is not OrgKind.SCHOOL):
        raise Invalid(
            "school_based_owner",
            "a school-based programme has level 'school' and is owned by a school",
        )


def ensure_provider_kind(provider_kind: OrgKind) -> None:
    """Programmes are run by a training institution, or by a school for its own 校本 training."""
    if provider_kind not in (OrgKind.PROVIDER, OrgKind.SCHOOL):
        raise Invalid("invalid_provider", "provider_id must name a provider or a school")


def ensure_capacity(capacity: int | None) -> None:
    if capacity is not None and capacity < 1:
        raise Invalid("invalid_capacity", "capacity must be at least 1")


def needs_approval(selection: str, form: str) -> bool:
    """School-based programmes need approval before anyone enrols (R3 in docs/domain.md: 需经审核认定方可实施)."""
    return selection == Selection.SCHOOL_BASED or form == Form.SCHOOL_BASED
