"""Scope before existence in the queries: every read naming an org unit, a teacher or a programme
refuses an id nothing is recorded under in the words an id recorded outside the caller's scope
gets, and tells an admin (or the id's own holder) it is not found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.actor import Actor
from domain.errors import DomainError, NotFound
from domain.teacher import Teacher
from domain.vocabulary import Role
from service.app import TrainRec
from service.auth.scopes import Kind
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    build_neighbour,
    define,
    teacher_actor,
)

SCOPED = [COUNTY_SUP, TOWN_SUP, SCHOOL_ADMIN, PROVIDER, teacher_actor("A001"), AUDITOR]


@pytest.fixture
def world(county: TrainRec, clock: Clock) -> TrainRec:
    build_neighbour(county)
    define(county, "CP9", owner_org_id="C2", provider_id="P9")
    county.enrol(ADMIN, "CP9", "Z001")
    return county


READS: dict[str, tuple[str, Callable[[TrainRec, Actor, str], Any]]] = {
    "org": ("org", lambda app, actor, ident: app.org(actor, ident)),
    "compliance": ("org", lambda app, actor, ident: app.compliance(actor, ident, 2024)),
    "compliance-json": ("org", lambda app, actor, ident: app.compliance_json(actor, ident, 2024)),
    "history": ("teacher", lambda app, actor, ident: app.teacher_history(actor, ident)),
    "transcript": ("teacher", lambda app, actor, ident: app.transcript(actor, ident)),
    "transcript-as-of": ("teacher", lambda app, actor, ident: app.transcript(actor, ident, app.clock())),
    "programme": ("programme", lambda app, actor, ident: app.programme(actor, ident)),
    "roster": ("programme", lambda app, actor, ident: app.roster(actor, ident)),
}
RECORDED = {"org": "S9", "teacher": "Z001", "programme": "CP9"}
UNKNOWN = {"org": "S404", "teacher": "Z404", "programme": "NOPE"}


def _answer(app: TrainRec, read: Callable[[TrainRec, Actor, str], Any], actor: Actor, ident: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        read(app, actor, ident)
    return caught.value


@pytest.mark.parametrize("actor", SCOPED, ids=lambda a: a.subject)
@pytest.mark.parametrize("read", list(READS))
def test_reads_refuse_unknown_ids_as_ids_outside_the_scope(world: TrainRec, read: str, actor: Actor) -> None:
    kind, query = READS[read]
    recorded = _answer(world, query, actor, RECORDED[kind])
    unknown = _answer(world, query, actor, UNKNOWN[kind])
    assert (recorded.code, recorded.kind) == ("forbidden_scope", "forbidden")
    assert (unknown.code, unknown.kind, unknown.detail.replace(UNKNOWN[kind], "<id>")) == (
        recorded.code, recorded.kind, recorded.detail.replace(RECORDED[kind], "<id>"))


@pytest.mark.parametrize("read", list(READS))
def test_reads_tell_an_admin_an_id_is_not_found(world: TrainRec, read: str) -> None:
    kind, query = READS[read]
    answer = _answer(world, query, ADMIN, UNKNOWN[kind])
    assert (answer.code, answer.kind) == (f"{kind}_not_found", "not_found")


def test_reads_tell_the_holder_of_an_id_it_is_not_found(world: TrainRec) -> None:
    newcomer = teacher_actor("N404")
    for query in (READS["history"][1], READS["transcript"][1], READS["transcript-as-of"][1]):
        assert _answer(world, query, newcomer, "N404").code == "teacher_not_found"
    unregistered = Actor("sup", Role.SUPERVISOR, org_id="T404")
    for query in (READS["org"][1], READS["compliance"][1]):
        assert _answer(world, query, unregistered, "T404").code == "org_not_found"


def test_a_transcript_read_from_stale_tables_refuses_an_unknown_teacher_alike(
    world: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables that are behind are not asked who the teacher is: the aggregate answers, with the same scope."""
    reports, _ = world.fresh_reports()
    monkeypatch.setattr(type(world), "fresh_reports", lambda _self: (reports, {"stale": {"position": 1, "head": 2}}))
    recorded = _answer(world, READS["transcript"][1], COUNTY_SUP, "Z001")
    unknown = _answer(world, READS["transcript"][1], COUNTY_SUP, "Z404")
    assert (recorded.code, unknown.code) == ("forbidden_scope", "forbidden_scope")
    assert unknown.detail.replace("Z404", "<id>") == recorded.detail.replace("Z001", "<id>")
    assert _answer(world, READS["transcript"][1], ADMIN, "Z404").code == "teacher_not_found"


def test_lookup_answers_as_the_scope_allows(world: TrainRec) -> None:
    """The queries' one lookup: without an actor (the service's own reads) and for an admin, not found."""
    with pytest.raises(NotFound):
        world.lookup(None, Teacher, Kind.TEACHER, "Z404")
    with pytest.raises(NotFound):
        world.lookup(ADMIN, Teacher, Kind.TEACHER, "Z404")
    forbidden = _answer(world, lambda app, actor, ident: app.lookup(actor, Teacher, Kind.TEACHER, ident), AUDITOR,
                        "Z404")
    assert (forbidden.code, forbidden.detail) == ("forbidden_scope", "teacher Z404 is outside your scope")
    assert world.lookup(AUDITOR, Teacher, Kind.TEACHER, "A001").teacher_no == "A001"  # recorded: the caller checks


def test_as_of_before_registration_is_not_found_once_in_scope(world: TrainRec, clock: Clock) -> None:
    """A teacher in scope but not yet recorded at `as_of` stays a not-found: the scope was checked on today's record."""
    with pytest.raises(NotFound):
        world.transcript(COUNTY_SUP, "A001", as_of=clock.now - timedelta(days=3650))
