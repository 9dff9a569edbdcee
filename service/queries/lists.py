"""Lists and search: teachers, programmes, disputes and what awaits the caller's decision, scoped
like every other read (docs/decisions.md "Lists"), paged by an opaque cursor (projections/lists.py)."""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from domain.errors import Invalid, Unavailable
from domain.org import OrgUnit
from domain.text import ensure_clean_text
from domain.vocabulary import Form, Level, Role, Selection
from projections.lists import (
    AbsenceReach,
    Key,
    Lists,
    ProgrammeFilter,
    ProgrammeReach,
    decode_cursor,
    encode_cursor,
)
from service.auth.scopes import APPROVALS_READ, DISPUTE_READ, TEACHER_READ, Kind
from service.queries.reports import ReportQueries

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
TEACHER_STATUSES = ("active", "departed")
DISPUTE_STATUSES = ("open", "resolved")

Page = dict[str, Any]


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("invalid_limit", f"limit is between 1 and {MAX_LIMIT}")
    return limit


def _after(after: str | None, parts: int = 1) -> Key | None:
    if after is None:
        return None
    try:
        return decode_cursor(after, parts)
    except ValueError:
        raise Invalid("invalid_cursor", "after is the `next` cursor of a previous page of this list") from None


def _status(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise Invalid("invalid_status", f"status is one of {', '.join(allowed)}")
    return value


def _filter(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise Invalid("invalid_filter", f"{name} is one of {', '.join(allowed)}")
    return value


def _search(q: str | None) -> str | None:
    if q is None:
        return None
    q = ensure_clean_text(q, "q").strip()
    return q or None


class ListQueries(ReportQueries):
    # --- shared ------------------------------------------------------------------------------
    def _lists(self) -> tuple[Lists, dict[str, Any]]:
        """The lists of the read model once it reflects the caller's writes (as every read waits)."""
        _, freshness = self.fresh_reports()
        return Lists(self.read_model.db, self.read_model.prefix), freshness

    def _path(self, lists: Lists, org_id: str) -> str:
        path = lists.org_path(org_id)
        if path is None:
            raise Unavailable("projection_behind", f"org {org_id} is recorded but not yet in the read model")
        return path

    def _narrowed(self, actor: Actor, lists: Lists, org_id: str | None, home_school: str | None = None,
                  catalogue: bool = False) -> str | None:
        """The path of the unit `?org_id=` names, once the caller may name it (scope before existence)."""
        if org_id is None:
            return None
        self.scopes.ensure_list_org(actor, org_id, home_school, catalogue)
        self.lookup(actor, OrgUnit, Kind.ORG, org_id)
        return self._path(lists, org_id)

    def _own_school(self, actor: Actor) -> str | None:
        """A teacher's school now, as the read model has it (None when it does not have them yet)."""
        if actor.teacher_no is None:
            return None
        ref = self.reports.teacher_ref(actor.teacher_no)
        return None if ref is None else ref.school_id

    def _home(self, actor: Actor, lists: Lists) -> str | None:
        """The path a scoped staff reader sees at and below (None for an admin: everything)."""
        if actor.role is Role.ADMIN or actor.org_id is None:
            return None
        return self._path(lists, actor.org_id)

    # --- teachers ----------------------------------------------------------------------------
    def list_teachers(self, actor: Actor, *, org_id: str | None = None, q: str | None = None,
                      status: str | None = None, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
        """Teachers at schools at or below a unit, by number; `q` in the name or the start of the number."""
        limit, key = _limit(limit), _after(after)
        status = _status(status, TEACHER_STATUSES)
        q = _search(q)
        self.scopes.gate(actor, TEACHER_READ)
        lists, freshness = self._lists()
        today = self.policy.local_date(self.clock())
        if actor.role is Role.TEACHER:
            under = self._narrowed(actor, lists, org_id, self._own_school(actor))
            items, cursor = lists.teachers(under=under, teacher_no=actor.teacher_no or "", q=q, status=status,
                                           today=today, after=key, limit=limit)
        else:
            under = self._narrowed(actor, lists, org_id)
            if under is None:
                under = self._home(actor, lists)
            items, cursor = lists.teachers(under=under, teacher_no=None, q=q, status=status, today=today,
                                           after=key, limit=limit)
        return {"items": items, "next": cursor, **freshness}

    # --- programmes --------------------------------------------------------------------------
    def _programme_reach(self, actor: Actor, lists: Lists, home_school: str | None) -> ProgrammeReach:
        """The programmes a caller reads (`Scopes.may_read_programme`): an admin all; a supervisor or
        auditor those owned or provided at or below its unit; a provider, and a school, those it
        provides or owns; a school, and a teacher, too those owned by its school or a unit above it
        (the catalogue open to its staff)."""
        role, org = actor.role, actor.org_id
        if role is Role.ADMIN:
            return ProgrammeReach(everything=True)
        if role in (Role.SUPERVISOR, Role.AUDITOR) and org is not None:
            return ProgrammeReach(under=(self._path(lists, org),))
        if role is Role.PROVIDER and org is not None:
            return ProgrammeReach(providers=(org,), owners=(org,))
        if role is Role.SCHOOL_ADMIN and org is not None:
            return ProgrammeReach(providers=(org,), owners=tuple(self.org_chain(org)))
        if role is Role.TEACHER and home_school is not None:
            return ProgrammeReach(owners=tuple(self.org_chain(home_school)))
        return ProgrammeReach()

    def list_programmes(self, actor: Actor, *, org_id: str | None = None, level: str | None = None,
                        form: str | None = None, selection: str | None = None, year: int | None = None,
                        open_for_enrolment: bool = False, q: str | None = None, after: str | None = None,
                        limit: int = DEFAULT_LIMIT) -> Page:
        """Programmes the caller reads, by code; `open_for_enrolment`: those one could enrol in today
        (a teacher: those they could enrol themself in, 自主选课)."""
        limit, key = _limit(limit), _after(after)
        level = _filter(level, tuple(Level), "level")
        form = _filter(form, tuple(Form), "form")
        selection = _filter(selection, tuple(Selection), "selection")
        if year is not None and not 1990 <= year <= 2100:
            raise Invalid("invalid_year", "year must be between 1990 and 2100")
        q = _search(q)
        lists, freshness = self._lists()
        home_school = self._own_school(actor) if actor.role is Role.TEACHER else None
        under = self._narrowed(actor, lists, org_id, home_school, catalogue=True)
        today = self.policy.local_date(self.clock())
        bounds = self.policy.year_bounds(year) if year is not None else (None, None)
        wanted = ProgrammeFilter(
            level=level, form=form, selection=selection, ends_from=bounds[0], ends_until=bounds[1], q=q,
            open_on=today if open_for_enrolment else None,
            for_teacher=actor.teacher_no if open_for_enrolment and actor.role is Role.TEACHER else None)
        items, cursor = lists.programmes(self._programme_reach(actor, lists, home_school), under, wanted, key, limit)
        return {"items": items, "next": cursor, **freshness}

    # --- disputes ----------------------------------------------------------------------------
    def list_disputes(self, actor: Actor, *, org_id: str | None = None, status: str | None = None,
                      after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
        """Disputes of the teachers the caller reads (by their school now), by dispute id."""
        limit, key = _limit(limit), _after(after)
        status = _status(status, DISPUTE_STATUSES)
        self.scopes.gate(actor, DISPUTE_READ)
        lists, freshness = self._lists()
        if actor.role is Role.TEACHER:
            under = self._narrowed(actor, lists, org_id, self._own_school(actor))
            items, cursor = lists.disputes(under=under, teacher_no=actor.teacher_no or "", status=status,
                                           after=key, limit=limit)
        else:
            under = self._narrowed(actor, lists, org_id)
            if under is None:
                under = self._home(actor, lists)
            items, cursor = lists.disputes(under=under, teacher_no=None, status=status, after=key, limit=limit)
        return {"items": items, "next": cursor, **freshness}

    # --- approvals ---------------------------------------------------------------------------
    def list_approvals(self, actor: Actor, *, org_id: str | None = None, after: str | None = None,
                       limit: int = DEFAULT_LIMIT) -> Page:
        """What awaits the caller's decision: school-based programmes it approves (an admin, a
        supervisor above the owner) and each side of a pending absence it decides (the school's:
        the teacher's school or a supervisor above it; the provider's: the programme's provider or
        a supervisor above its owner or provider). Absences first, then programmes, by code."""
        limit, key = _limit(limit), _after(after, 4)
        self.scopes.gate(actor, APPROVALS_READ)
        lists, freshness = self._lists()
        under = self._narrowed(actor, lists, org_id)
        role, org = actor.role, actor.org_id or ""
        owned_below: list[str] | None = None  # programmes owned at or below each of these paths: approved
        if role is Role.ADMIN:
            owned_below, absences = [], AbsenceReach(everything=True)
        elif role is Role.SUPERVISOR:
            home = self._path(lists, org)
            owned_below, absences = [home], AbsenceReach(school_under=(home,), provider_under=(home,))
        elif role is Role.SCHOOL_ADMIN:
            absences = AbsenceReach(school_under=(self._path(lists, org),), providers=(org,))
        else:  # a provider
            absences = AbsenceReach(providers=(org,))
        found: list[tuple[Key, dict[str, Any]]] = []
        for item in lists.pending_absences(absences, under):
            found.append((["absence", item["programme_code"], item["teacher_no"], item["side"]], item))
        if owned_below is not None:
            for programme in lists.pending_programmes(owned_below + ([under] if under is not None else [])):
                found.append((["programme", programme["code"], "", ""], {"kind": "programme", **programme}))
        found.sort(key=lambda pair: pair[0])
        if key is not None:
            found = [pair for pair in found if pair[0] > key]
        page = found[:limit]
        cursor = encode_cursor(page[-1][0]) if len(found) > limit else None
        return {"items": [item for _, item in page], "next": cursor, **freshness}
