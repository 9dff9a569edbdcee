"""Scope before existence, through HTTP: an id outside the caller's scope answers the same whether or
not anything is recorded under it.

For every route naming an org unit, a teacher, a programme or a dispute (in its path, or a teacher
the caller acts on in its body), and every role but admin: the request naming an id recorded in
another county (outside every role's scope here) and the same request naming an id under which
nothing is recorded get the same problem (403, `forbidden_scope`, the same title and detail once
the id the caller gave is set aside), and record nothing. An admin naming the unrecorded id gets
404 `<kind>_not_found`. The other ids of each request are in the caller's scope, so the check of
the varied id is the one that answers (or a refusal of the caller's role, before anything is read).

One world, built once through the service layer on the in-memory backend, serves every case: a
refused request records nothing (each case checks it), and writes go through group commit as in a
server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.actor import Actor
from domain.vocabulary import AssessmentResult, Decision, Form, Level, SchoolBasedContent, Selection
from service.api.main import create_app
from service.app import TrainRec
from service.storage.config import storage_from_url
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    build_county,
    build_neighbour,
    define,
    teacher_actor,
)
from tests.service.api.conftest import SECRET, bearer

PROBLEM = "application/problem+json"
EVIDENCE = [{"name": "签到表.pdf", "sha256": "a" * 64}]
SCHOOL_BASED: dict[str, Any] = {"level": Level.SCHOOL, "form": Form.SCHOOL_BASED, "selection": Selection.SCHOOL_BASED,
                                "content": SchoolBasedContent.DESIGNATED, "provider_id": "S1", "owner_org_id": "S1"}


@dataclass(frozen=True)
class Ids:
    """The ids one request names. `dispute` is a key of `World.disputes` or an id as it is."""

    org: str = "S1"
    teacher: str = "A001"
    programme: str = "CP"
    dispute: str = "home"


# Recorded in the neighbouring county C2, outside the scope of every role but admin here; and ids
# under which nothing is recorded.
OUTSIDE = {"org": "S9", "teacher": "Z001", "programme": "CP9", "dispute": "outside"}
MISSING = {"org": "S404", "teacher": "Z404", "programme": "NOPE9", "dispute": "D-0000000000000000"}

# Each role with ids in its own scope (its school-based programme SB1 for the town and the school,
# whose provider work they may do).
ROLES: dict[str, tuple[Actor, Ids]] = {
    "county_supervisor": (COUNTY_SUP, Ids()),
    "town_supervisor": (TOWN_SUP, Ids(programme="SB1")),
    "school_admin": (SCHOOL_ADMIN, Ids(programme="SB1")),
    "provider": (PROVIDER, Ids()),
    "teacher": (teacher_actor("A001"), Ids()),
    "auditor": (AUDITOR, Ids()),
}


@dataclass
class World:
    service: TrainRec
    client: TestClient
    disputes: dict[str, str]

    def head(self) -> int:
        return self.service.recorder.max_notification_id() or 0


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    clock = Clock(date(2024, 2, 20))
    service = TrainRec(storage_from_url("memory://"), clock=clock)
    build_county(service)
    build_neighbour(service)
    define(service, "CP")
    define(service, "SB1", **SCHOOL_BASED)
    define(service, "CP9", owner_org_id="C2", provider_id="P9")
    service.decide_programme(ADMIN, "SB1", Decision.APPROVED, "")
    for code, teacher_no in (("CP", "A001"), ("SB1", "A001"), ("CP9", "Z001")):
        service.enrol(ADMIN, code, teacher_no)
    clock.set(date(2024, 3, 7))  # every programme has ended: sessions held, results due
    disputes = {}
    for key, code, teacher_no in (("home", "CP", "A001"), ("outside", "CP9", "Z001")):
        service.assess(ADMIN, code, teacher_no, 4, 4, AssessmentResult.GOOD)
        opened = service.open_dispute(ADMIN, teacher_no, code, "实际参加了全部课时", EVIDENCE)
        disputes[key] = str(opened.body["dispute_id"])
    service.enable_group_commit()
    client = TestClient(create_app(service, SECRET), raise_server_exceptions=False)
    yield World(service, client, disputes)
    service.close()


# --- the routes, each as the request it sends for a set of ids ------------------------------------
Build = Callable[[Ids], tuple[str, str, Any, dict[str, Any] | None]]


@dataclass(frozen=True)
class Route:
    build: Build
    varies: tuple[str, ...]  # the kinds of id the request names whose scope is checked
    admin_refused: bool = False  # the operation is never an admin's (only the trainee evaluates)
    roles: tuple[str, ...] = tuple(ROLES)  # whose scope the varied id is checked against


def _programme_write(suffix: str, body: Callable[[Ids], Any]) -> Build:
    return lambda i: ("POST", f"/api/v1/programmes/{i.programme}{suffix.format(t=i.teacher)}", body(i), None)


READS: dict[str, Route] = {
    "get-org": Route(lambda i: ("GET", f"/api/v1/orgs/{i.org}", None, None), ("org",)),
    "compliance": Route(lambda i: ("GET", f"/api/v1/orgs/{i.org}/compliance", None, {"year": 2024}), ("org",)),
    "history": Route(lambda i: ("GET", f"/api/v1/teachers/{i.teacher}/history", None, None), ("teacher",)),
    "transcript": Route(lambda i: ("GET", f"/api/v1/teachers/{i.teacher}/transcript", None, None), ("teacher",)),
    "transcript-as-of": Route(lambda i: ("GET", f"/api/v1/teachers/{i.teacher}/transcript", None,
                                         {"as_of": "2024-03-01T00:00:00+08:00"}), ("teacher",)),
    "get-programme": Route(lambda i: ("GET", f"/api/v1/programmes/{i.programme}", None, None), ("programme",)),
    "roster": Route(lambda i: ("GET", f"/api/v1/programmes/{i.programme}/roster", None, None), ("programme",)),
}

WRITES: dict[str, Route] = {
    # org ids named in bodies, checked before anything is read
    "register-teacher": Route(lambda i: ("POST", "/api/v1/teachers",
                                         {"teacher_no": "N001", "name": "新教师", "school_id": i.org}, None), ("org",)),
    "define-programme": Route(lambda i: ("POST", "/api/v1/programmes", {
        "code": "NEW", "title": "新项目", "level": "county", "form": "concentrated", "selection": "self_selected",
        "hours": 8, "provider_id": "P1", "owner_org_id": i.org, "starts_on": "2024-04-01", "ends_on": "2024-04-01",
        "sessions": [{"no": 1, "on": "2024-04-01", "hours": 8}]}, None), ("org",),
        # a provider defines its programmes for any owner: the owner is a reference, not its scope
        roles=tuple(r for r in ROLES if r != "provider")),
    # teachers
    "transfer": Route(lambda i: ("POST", f"/api/v1/teachers/{i.teacher}/transfers",
                                 {"to_school_id": "S2", "effective_on": "2024-03-07"}, None), ("teacher",)),
    "revocation": Route(lambda i: ("POST", f"/api/v1/teachers/{i.teacher}/credits/C-0000000000000000/revocation",
                                   {"reason": "重复登记"}, None), ("teacher",)),
    "dispute": Route(lambda i: ("POST", f"/api/v1/teachers/{i.teacher}/disputes",
                                {"programme_code": i.programme, "claim": "实际参加了全部课时", "evidence": EVIDENCE},
                                None), ("teacher",)),
    # disputes
    "resolution": Route(lambda i: ("POST", f"/api/v1/disputes/{i.dispute}/resolution",
                                   {"decision": "rejected", "reason": "签到表不支持该主张"}, None), ("dispute",)),
    # programmes, and the teachers acted on in them
    "approval": Route(_programme_write("/approval", lambda i: {"decision": "approved", "reason": "符合要求"}),
                      ("programme",)),
    "enrolment": Route(_programme_write("/enrolments", lambda i: {"teacher_no": i.teacher}), ("programme", "teacher")),
    "absence": Route(_programme_write("/enrolments/{t}/absence", lambda i: {"kind": "leave", "reason": "住院治疗"}),
                     ("programme", "teacher")),
    "absence-approval-school": Route(_programme_write("/enrolments/{t}/absence/approval",
                                                      lambda i: {"by": "school", "decision": "approved"}),
                                     ("programme", "teacher")),
    "absence-approval-provider": Route(_programme_write("/enrolments/{t}/absence/approval",
                                                        lambda i: {"by": "provider", "decision": "approved"}),
                                       ("programme", "teacher")),
    "attendance": Route(_programme_write("/sessions/1/attendance", lambda i: {"present": [i.teacher], "absent": []}),
                        ("programme", "teacher")),
    "assessment": Route(_programme_write("/assessments", lambda i: {"teacher_no": i.teacher, "attitude": 4,
                                                                    "assignments": 4, "result": "good"}),
                        ("programme", "teacher")),
    "evaluation": Route(_programme_write("/evaluations", lambda i: {"teacher_no": i.teacher, "form": 5,
                                                                    "instructors": 4, "management": 4}),
                        ("programme", "teacher"), admin_refused=True),
    "credit": Route(_programme_write("/credits", lambda i: {"teacher_no": i.teacher, "hours": 8}),
                    ("programme", "teacher")),
}


def send(world: World, actor: Actor, route: Route, ids: Ids) -> Any:
    method, path, body, params = route.build(replace(ids, dispute=world.disputes.get(ids.dispute, ids.dispute)))
    return world.client.request(method, path, json=body, params=params, headers=bearer(actor))


def problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    body: dict[str, Any] = response.json()
    return body


def without(body: dict[str, Any], ident: str) -> str:
    """The problem with the id the caller gave set aside: what else it says must not differ."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True).replace(ident, "<id>")


def assert_same_answer(world: World, role: str, route: Route, kind: str) -> None:
    actor, home = ROLES[role]
    given = {"outside": OUTSIDE[kind], "missing": MISSING[kind]}
    before = world.head()
    outside = problem(send(world, actor, route, replace(home, **{kind: given["outside"]})))
    missing = problem(send(world, actor, route, replace(home, **{kind: given["missing"]})))
    assert world.head() == before, "a refused request recorded events"
    assert (outside["status"], outside["code"]) == (403, "forbidden_scope"), outside
    outside_id = world.disputes.get(given["outside"], given["outside"])
    assert without(missing, given["missing"]) == without(outside, outside_id), (outside, missing)


def assert_admin_not_found(world: World, route: Route, kind: str) -> None:
    before = world.head()
    answer = problem(send(world, ADMIN, route, replace(Ids(), **{kind: MISSING[kind]})))
    assert world.head() == before
    if route.admin_refused:  # a role that never does this is refused before anything is read
        assert (answer["status"], answer["code"]) == (403, "forbidden_scope"), answer
        return
    assert (answer["status"], answer["code"]) == (404, f"{kind}_not_found"), answer


def cases(routes: dict[str, Route], kind: str) -> list[Any]:
    return [pytest.param(name, role, id=f"{name}-{role}") for name, route in routes.items() if kind in route.varies
            for role in route.roles]


def admin_cases(routes: dict[str, Route], kind: str) -> list[str]:
    return [name for name, route in routes.items() if kind in route.varies]


# --- org units -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("route", "role"), cases(READS, "org"))
def test_org_reads_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, READS[route], "org")


@pytest.mark.parametrize(("route", "role"), cases(WRITES, "org"))
def test_org_writes_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, WRITES[route], "org")


@pytest.mark.parametrize("route", admin_cases(READS, "org") + admin_cases(WRITES, "org"))
def test_an_admin_is_told_an_org_is_not_found(world: World, route: str) -> None:
    assert_admin_not_found(world, {**READS, **WRITES}[route], "org")


def test_put_on_an_org_outside_the_scope_tells_nothing_of_its_record(world: World) -> None:
    """PUT /orgs/{id} registers an id nothing is recorded under, so an unknown id is in the scope of
    whoever may register under the parent given. A recorded org outside the caller's scope is
    refused naming only its id, rather than told its kind and parent (`org_structure_fixed`)."""
    before = world.head()
    answer = problem(world.client.put("/api/v1/orgs/S9", json={"name": "改名", "kind": "school", "parent_id": "S1"},
                                      headers=bearer(TOWN_SUP)))
    assert (answer["status"], answer["code"], answer["detail"]) == (403, "forbidden_scope",
                                                                      "org S9 is outside your scope")
    assert world.head() == before
    # with a parent outside the scope, recorded and unknown ids alike are refused before anything is read
    for org_id in ("S9", "S404"):
        refused = problem(world.client.put(f"/api/v1/orgs/{org_id}",
                                           json={"name": "改名", "kind": "school", "parent_id": "T9"},
                                           headers=bearer(TOWN_SUP)))
        assert (refused["status"], refused["code"]) == (403, "forbidden_scope")
        assert org_id not in refused["detail"]
    assert world.head() == before


# --- teachers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("route", "role"), cases(READS, "teacher"))
def test_teacher_reads_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, READS[route], "teacher")


@pytest.mark.parametrize(("route", "role"), cases(WRITES, "teacher"))
def test_teacher_writes_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, WRITES[route], "teacher")


@pytest.mark.parametrize("route", admin_cases(READS, "teacher") + admin_cases(WRITES, "teacher"))
def test_an_admin_is_told_a_teacher_is_not_found(world: World, route: str) -> None:
    assert_admin_not_found(world, {**READS, **WRITES}[route], "teacher")


# --- programmes ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("route", "role"), cases(READS, "programme"))
def test_programme_reads_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, READS[route], "programme")


@pytest.mark.parametrize(("route", "role"), cases(WRITES, "programme"))
def test_programme_writes_answer_the_same_for_unknown_and_out_of_scope_ids(
    world: World, route: str, role: str
) -> None:
    assert_same_answer(world, role, WRITES[route], "programme")


@pytest.mark.parametrize("route", admin_cases(READS, "programme") + admin_cases(WRITES, "programme"))
def test_an_admin_is_told_a_programme_is_not_found(world: World, route: str) -> None:
    assert_admin_not_found(world, {**READS, **WRITES}[route], "programme")


# --- disputes (no route reads one: resolving is the only access by id) ----------------------------
@pytest.mark.parametrize(("route", "role"), cases(WRITES, "dispute"))
def test_dispute_writes_answer_the_same_for_unknown_and_out_of_scope_ids(world: World, route: str, role: str) -> None:
    assert_same_answer(world, role, WRITES[route], "dispute")


@pytest.mark.parametrize("route", admin_cases(WRITES, "dispute"))
def test_an_admin_is_told_a_dispute_is_not_found(world: World, route: str) -> None:
    assert_admin_not_found(world, WRITES[route], "dispute")


# --- the refusals name only the id given, never what is recorded under it --------------------------
@pytest.mark.parametrize(("route", "role"), [pytest.param(name, role, id=f"{name}-{role}")
                                             for name, spec in {**READS, **WRITES}.items() for role in spec.roles])
def test_refusals_tell_nothing_read_from_the_record(world: World, route: str, role: str) -> None:
    """What C2's records hold (its schools, towns, programme owners and providers, the teacher Z001,
    the disputed teacher) appears in no refusal, whichever id of theirs the caller names."""
    recorded = ("C2", "T9", "P9", "S9", "Z001", "邻县", "赵磊")
    actor, home = ROLES[role]
    spec = {**READS, **WRITES}[route]
    for kind in spec.varies:
        given = OUTSIDE[kind]
        answer = problem(send(world, actor, spec, replace(home, **{kind: given})))
        named = world.disputes.get(given, given)
        leaked = [word for word in recorded if word in answer["detail"] and word not in named]
        assert not leaked, answer


# --- the ids that are their holder's own scope -----------------------------------------------------
def test_a_teacher_is_told_its_own_number_is_not_recorded(world: World) -> None:
    """A teacher's scope is its own number: an unregistered one is not found, not out of scope."""
    newcomer = teacher_actor("N404")
    for path in ("/api/v1/teachers/N404/transcript", "/api/v1/teachers/N404/history"):
        answer = problem(world.client.get(path, headers=bearer(newcomer)))
        assert (answer["status"], answer["code"]) == (404, "teacher_not_found"), answer
    other = problem(world.client.get("/api/v1/teachers/Z404/history", headers=bearer(newcomer)))
    assert (other["status"], other["code"]) == (403, "forbidden_scope")


def test_a_unit_is_told_its_own_org_is_not_recorded(world: World) -> None:
    """An org unit's own id is in its scope: unregistered, it is not found."""
    unregistered = Actor("x-sup", TOWN_SUP.role, org_id="T404")
    for path in ("/api/v1/orgs/T404", "/api/v1/orgs/T404/compliance?year=2024"):
        answer = problem(world.client.get(path, headers=bearer(unregistered)))
        assert (answer["status"], answer["code"]) == (404, "org_not_found"), answer


# --- not enrolled: a 409 to a caller whose scope covers the teacher ---------------------------------
def test_not_enrolled_is_a_conflict_only_for_a_caller_who_sees_the_teacher(world: World) -> None:
    """A002, of S1, was never enrolled in CP: the county and S1 are told so (409 `not_enrolled`);
    to CP's provider, whose scope over teachers is its trainees, A002 is outside it, as an unknown
    number is."""
    assessment = {"attitude": 4, "assignments": 4, "result": "good"}
    before = world.head()
    for actor in (ADMIN, COUNTY_SUP):
        answer = problem(world.client.post("/api/v1/programmes/CP/assessments", json={"teacher_no": "A002",
                                           **assessment}, headers=bearer(actor)))
        assert (answer["status"], answer["code"]) == (409, "not_enrolled"), answer
    absence = problem(world.client.post("/api/v1/programmes/CP/enrolments/A002/absence",
                                        json={"kind": "leave", "reason": "病假"}, headers=bearer(SCHOOL_ADMIN)))
    assert (absence["status"], absence["code"]) == (409, "not_enrolled"), absence
    answers = [problem(world.client.post("/api/v1/programmes/CP/assessments", json={"teacher_no": number,
                                         **assessment}, headers=bearer(PROVIDER))) for number in ("A002", "Z404")]
    assert [(a["status"], a["code"]) for a in answers] == [(403, "forbidden_scope")] * 2
    assert without(answers[0], "A002") == without(answers[1], "Z404")
    assert world.head() == before
