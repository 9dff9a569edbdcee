"""Org ids are case-sensitive ("C1" and "c1" are two counties); the read model finds the units under
an org by path prefix, which on SQLite's default LIKE would ignore ASCII case: a county's compliance
would count another's teachers and an auditor's feed would show another county's events."""

from __future__ import annotations

from datetime import date

from domain.actor import Actor
from domain.vocabulary import OrgKind, Role
from service.app import TrainRec
from tests.conftest import ADMIN, build_county


def test_units_differing_only_in_case_are_apart(app: TrainRec) -> None:
    build_county(app)  # C1: six teachers
    app.put_org(ADMIN, "c1", "另一县", OrgKind.COUNTY, None)
    app.put_org(ADMIN, "t1", "另一镇", OrgKind.TOWN, "c1")
    app.put_org(ADMIN, "s1", "另一小学", OrgKind.SCHOOL, "t1")
    app.register_teacher(ADMIN, "Z001", "赵敏", "s1", date(2015, 9, 1))
    assert app.compliance(ADMIN, "c1", 2024)["teachers"] == 1
    assert app.compliance(ADMIN, "C1", 2024)["teachers"] == 6
    assert [kid["org_id"] for kid in app.compliance(ADMIN, "c1", 2024)["children"]] == ["t1"]
    auditor = Actor("auditor-c1", Role.AUDITOR, org_id="c1")
    feed = app.audit_events(auditor, limit=1000)["events"]
    assert {event["teacher_no"] for event in feed if event["teacher_no"]} == {"Z001"}
