"""Scope before existence in the unit of work: the lookups of org units, teachers, programmes and
disputes answer an id nothing is recorded under as the caller's scope allows (an admin, or the id's
own holder: not found; anyone else: the refusal an id recorded outside its scope gets), and the
commands check who may act before they read, so both answers are the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.actor import Actor
from domain.errors import DomainError, Forbidden, NotFound
from domain.ids import teacher_uuid
from domain.vocabulary import AssessmentResult, Decision, DisputeDecision, Role
from service.app import TrainRec
from service.application.unit import Unit
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
from tests.helpers import last_notification, refused

EVIDENCE = [{"name": "签到表.pdf", "sha256": "b" * 64}]


@pytest.fixture
def world(county: TrainRec, clock: Clock) -> dict[str, str]:
    """The county, its neighbour C2 with programme CP9 and a dispute of Z001's; returns the disputes."""
    build_neighbour(county)
    define(county, "CP")
    define(county, "CP9", owner_org_id="C2", provider_id="P9")
    county.enrol(ADMIN, "CP", "A001")
    county.enrol(ADMIN, "CP9", "Z001")
    clock.set(date(2024, 3, 7))
    disputes = {}
    for code, teacher_no in (("CP", "A001"), ("CP9", "Z001")):
        county.assess(ADMIN, code, teacher_no, 4, 4, AssessmentResult.GOOD)
        opened = county.open_dispute(ADMIN, teacher_no, code, "学时不对", EVIDENCE)
        disputes[teacher_no] = str(opened.body["dispute_id"])
    return disputes


LOOKUPS: dict[str, Callable[[Unit, str], Any]] = {
    "org": lambda unit, ident: unit.org(ident),
    "teacher": lambda unit, ident: unit.teacher(ident),
    "programme": lambda unit, ident: unit.programme(ident),
    "dispute": lambda unit, ident: unit.dispute(ident),
}
UNKNOWN = {"org": "S404", "teacher": "Z404", "programme": "NOPE", "dispute": "D-0000000000000000"}
SCOPED = [COUNTY_SUP, TOWN_SUP, SCHOOL_ADMIN, PROVIDER, teacher_actor("A001"), AUDITOR]


@pytest.mark.parametrize("kind", list(LOOKUPS))
def test_unit_lookups_tell_an_admin_an_id_is_not_found(world: dict[str, str], county: TrainRec, kind: str) -> None:
    unit = Unit(county, ADMIN, county.clock())
    with pytest.raises(NotFound) as caught:
        LOOKUPS[kind](unit, UNKNOWN[kind])
    assert caught.value.code == f"{kind}_not_found"


@pytest.mark.parametrize("actor", SCOPED, ids=lambda a: a.subject)
@pytest.mark.parametrize("kind", list(LOOKUPS))
def test_unit_lookups_refuse_an_unknown_id_as_one_outside_the_scope(
    world: dict[str, str], county: TrainRec, kind: str, actor: Actor
) -> None:
    unit = Unit(county, actor, county.clock())
    with pytest.raises(Forbidden) as caught:
        LOOKUPS[kind](unit, UNKNOWN[kind])
    assert caught.value.code == "forbidden_scope"
    assert caught.value.detail == f"{Kind(kind)} {UNKNOWN[kind]} is outside your scope"


def test_unit_lookups_tell_the_holder_of_an_id_it_is_not_found(world: dict[str, str], county: TrainRec) -> None:
    """A teacher's own number and an org unit's own id are their scope: unrecorded, they are not found."""
    with pytest.raises(NotFound):
        Unit(county, teacher_actor("N404"), county.clock()).teacher("N404")
    with pytest.raises(NotFound):
        Unit(county, Actor("sup", Role.SUPERVISOR, org_id="T404"), county.clock()).org("T404")
    with pytest.raises(Forbidden):  # another unrecorded id is outside the holder's scope
        Unit(county, teacher_actor("N404"), county.clock()).teacher("N405")


def test_an_org_anyone_may_name_is_not_found_unscoped(world: dict[str, str], county: TrainRec) -> None:
    """A reference that is not the caller's scope (the provider or owner a definition names) stays a not-found."""
    with pytest.raises(NotFound):
        Unit(county, PROVIDER, county.clock()).org("S404", scoped=False)


def _refusal(app: TrainRec, command: Callable[..., Any], *args: Any) -> DomainError:
    """The scope's refusal of `command(*args)`, which records nothing."""
    before = last_notification(app)
    with pytest.raises(DomainError) as caught:
        command(*args)
    assert caught.value.code == "forbidden_scope", caught.value.detail
    assert last_notification(app) == before
    return caught.value


def _same_refusal(app: TrainRec, command: Callable[[str], Any], recorded: str, unknown: str) -> None:
    """`command` naming `recorded` (outside the caller's scope) and `unknown` is refused alike,
    recording nothing: the same code, the same detail once the id given is set aside."""
    answers = [_refusal(app, command, ident).detail.replace(ident, "<id>") for ident in (recorded, unknown)]
    assert answers[0] == answers[1], answers
    assert "<id>" in answers[0], "refused by the scope of the id named, not before"


def test_commands_refuse_unknown_and_out_of_scope_ids_alike(world: dict[str, str], county: TrainRec) -> None:
    _same_refusal(county, lambda t: county.transfer_teacher(COUNTY_SUP, t, "S2", date(2024, 3, 7)), "Z001", "Z404")
    _same_refusal(county, lambda t: county.revoke_credit(TOWN_SUP, t, "C-1", "重复登记"), "Z001", "Z404")
    _same_refusal(county, lambda t: county.open_dispute(SCHOOL_ADMIN, t, "CP", "学时不对", EVIDENCE), "Z001", "Z404")
    _same_refusal(county, lambda t: county.enrol(SCHOOL_ADMIN, "CP", t), "Z001", "Z404")
    _same_refusal(county, lambda c: county.enrol(SCHOOL_ADMIN, c, "A001"), "CP9", "NOPE")
    _same_refusal(county, lambda c: county.decide_programme(COUNTY_SUP, c, Decision.APPROVED, ""), "CP9", "NOPE")
    _same_refusal(county, lambda c: county.assess(PROVIDER, c, "A001", 4, 4, AssessmentResult.GOOD), "CP9", "NOPE")
    # a provider's scope over teachers is its programme's trainees
    _same_refusal(county, lambda t: county.award_credit(PROVIDER, "CP", t, Decimal(8)), "Z001", "Z404")
    _same_refusal(county, lambda t: county.record_attendance(PROVIDER, "CP", 1, [t], []), "Z001", "Z404")
    _same_refusal(county, lambda c: county.evaluate(teacher_actor("A001"), c, "A001", 5, 4, 4), "CP9", "NOPE")
    _same_refusal(county, lambda d: county.resolve_dispute(COUNTY_SUP, d, DisputeDecision.REJECTED, "证据不足"),
                  world["Z001"], "D-0000000000000000")


def test_a_role_that_never_may_is_refused_before_anything_is_read(world: dict[str, str], county: TrainRec) -> None:
    """Refusals that depend on no record come first, in the same words whichever id is named."""
    for ident in ("A001", "Z001", "Z404"):
        auditor = _refusal(county, county.transfer_teacher, AUDITOR, ident, "S2", date(2024, 3, 7))
        assert auditor.detail == "auditors read; they never write"
        admin = _refusal(county, county.evaluate, ADMIN, "CP", ident, 5, 4, 4)
        assert admin.detail == "only the trainee evaluates a programme"
        provider = _refusal(county, county.transfer_teacher, PROVIDER, ident, "S2", date(2024, 3, 7))
        assert provider.detail == "only a teacher's school, or a supervisor above it, does this"


def test_in_scope_ids_keep_their_not_found(world: dict[str, str], county: TrainRec) -> None:
    """Once the teacher is in the caller's scope, an unknown credit of theirs is simply not found."""
    with refused(county, "credit_not_found"):
        county.revoke_credit(COUNTY_SUP, "A001", "C-0000000000000000", "重复登记")


def test_refusals_in_a_batch_are_the_same(world: dict[str, str], county: TrainRec) -> None:
    """Inside a batch (an import), where an id read ahead is known to be absent, the lookup answers the same."""
    with county.batched(SCHOOL_ADMIN, read_ahead=[teacher_uuid("Z404"), teacher_uuid("Z001")]) as batch:
        for ident in ("Z001", "Z404"):
            with pytest.raises(Forbidden) as caught:
                county.enrol(SCHOOL_ADMIN, "CP", ident)
            assert caught.value.detail == f"teacher {ident} is outside your scope"
    assert batch.events == []

