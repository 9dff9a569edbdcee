"""POST /api/v1/programmes/{code}/resubmission: a rejected school-based programme, revised under the
same code, awaits approval again; nothing else is resubmitted. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import Decision, Form, Level, SchoolBasedContent, Selection
from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, SCHOOL_ADMIN, Clock, build_county, define
from tests.helpers import refused
from tests.service.api.conftest import SECRET, bearer

APRIL = date(2024, 4, 1)


def _school_based(app: TrainRec, clock: Clock, code: str = "SB") -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, code, level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
           content=SchoolBasedContent.DESIGNATED, provider_id="S1", owner_org_id="S1")


def _revised(app: TrainRec, actor: object = SCHOOL_ADMIN, code: str = "SB", days: int = 2,
             form: Form = Form.SCHOOL_BASED, selection: Selection = Selection.SCHOOL_BASED) -> object:
    return app.resubmit_programme(
        actor, code=code, title="修订后的校本研修", level=Level.SCHOOL, form=form, selection=selection,  # type: ignore[arg-type]
        school_based_content=(SchoolBasedContent.DESIGNATED
                              if Selection.SCHOOL_BASED in (selection, form) else None),
        hours=Decimal(4 * days), provider_id="S1", owner_org_id="S1", starts_on=APRIL,
        ends_on=APRIL + timedelta(days=days - 1),
        sessions=[SessionPlan(n + 1, APRIL + timedelta(days=n), Decimal(4)) for n in range(days)])


def test_a_rejected_programme_is_revised_and_awaits_approval_again(app: TrainRec, clock: Clock) -> None:
    _school_based(app, clock)
    app.decide_programme(COUNTY_SUP, "SB", Decision.REJECTED, "课时安排不合理")
    answer = _revised(app)
    assert answer.status == 201  # type: ignore[attr-defined]
    assert [e["type"] for e in answer.body["events"]] == ["Resubmitted"]  # type: ignore[attr-defined]
    programme = app.programme(ADMIN, "SB")
    assert (programme["title"], programme["hours"], programme["decision"]) == ("修订后的校本研修", 8, None)
    assert programme["starts_on"] == APRIL
    assert app.decide_programme(COUNTY_SUP, "SB", Decision.APPROVED, "").status == 201
    roster = app.roster(ADMIN, "SB")
    assert (roster["sessions"], roster["ends_on"]) == (2, "2024-04-02")


def test_only_a_rejected_school_based_programme_is_resubmitted(app: TrainRec, clock: Clock) -> None:
    _school_based(app, clock)
    with refused(app, "programme_not_rejected"):  # still awaiting its decision
        _revised(app)
    app.decide_programme(COUNTY_SUP, "SB", Decision.REJECTED, "材料不全")
    with refused(app, "resubmission_needs_approval"):  # revised into one that would not wait for approval
        _revised(app, form=Form.CONCENTRATED, selection=Selection.SELF_SELECTED)
    define(app, "K1")  # a self-selected county programme: it never waited for approval
    app.decide_programme(COUNTY_SUP, "K1", Decision.REJECTED, "重复")
    with refused(app, "programme_not_resubmittable"):
        _revised(app, actor=ADMIN, code="K1")
    with refused(app, "programme_not_found"):
        _revised(app, actor=ADMIN, code="NOPE")


def test_over_http(app: TrainRec, clock: Clock) -> None:
    _school_based(app, clock)
    app.decide_programme(COUNTY_SUP, "SB", Decision.REJECTED, "材料不全")
    client = TestClient(create_app(app, SECRET), raise_server_exceptions=False)
    body = {"title": "修订后的校本研修", "level": "school", "form": "school_based", "selection": "school_based",
            "school_based_content": "designated", "hours": 8, "provider_id": "S1", "owner_org_id": "S1",
            "starts_on": "2024-04-01", "ends_on": "2024-04-01", "sessions": [{"no": 1, "on": "2024-04-01", "hours": 8}]}
    wrong = client.post("/api/v1/programmes/SB/resubmission", json={**body, "hours": 9}, headers=bearer(SCHOOL_ADMIN))
    assert (wrong.status_code, wrong.json()["code"]) == (422, "session_hours_mismatch")
    with_code = client.post("/api/v1/programmes/SB/resubmission", json={**body, "code": "SB"},
                            headers=bearer(SCHOOL_ADMIN))
    assert (with_code.status_code, with_code.json()["code"]) == (422, "invalid_input")  # the code is the path's
    answer = client.post("/api/v1/programmes/SB/resubmission", json=body, headers=bearer(SCHOOL_ADMIN))
    assert answer.status_code == 201, answer.text
    assert answer.json()["needs_approval"] is True
    again = client.post("/api/v1/programmes/SB/resubmission", json=body, headers=bearer(SCHOOL_ADMIN))
    assert (again.status_code, again.json()["code"]) == (409, "programme_not_rejected")
