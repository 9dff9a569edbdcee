"""What a drill's store holds before the load starts: a county, a town, a school, a provider, and
(for the committer drill) a programme with thousands of enrolled teachers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.actor import Actor
from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import Decision, Form, Level, OrgKind, Role, Selection
from service.app import TrainRec
from service.storage.config import storage_from_url

ADMIN = Actor("drill-admin", Role.ADMIN)
SCHOOL = "DS001"


def seed_orgs(url: str) -> None:
    app = TrainRec(storage_from_url(url))
    try:
        app.put_org(ADMIN, "DC", "演练县", OrgKind.COUNTY, None)
        app.put_org(ADMIN, "DT", "演练镇", OrgKind.TOWN, "DC")
        app.put_org(ADMIN, SCHOOL, "演练小学", OrgKind.SCHOOL, "DT")
        app.put_org(ADMIN, "DP", "演练培训机构", OrgKind.PROVIDER, "DC")
    finally:
        app.close()


def seed_programme(url: str, code: str, teachers: int) -> list[str]:
    """A county programme running today, with `teachers` teachers enrolled; their numbers."""
    app = TrainRec(storage_from_url(url))
    numbers = [f"E{i:05d}" for i in range(teachers)]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        with app.batched():
            for number in numbers:
                app.register_teacher(ADMIN, number, "演练教师", SCHOOL)
        app.define_programme(
            ADMIN, code=code, title="演练项目", level=Level.COUNTY, form=Form.CONCENTRATED,
            selection=Selection.MANDATED, hours=Decimal(8), provider_id="DP", owner_org_id="DC",
            starts_on=today - timedelta(days=1), ends_on=today,
            sessions=[SessionPlan(1, today - timedelta(days=1), Decimal(4)), SessionPlan(2, today, Decimal(4))])
        app.decide_programme(ADMIN, code, Decision.APPROVED, "演练")
        with app.batched():
            for number in numbers:
                app.enrol(ADMIN, code, number)
    finally:
        app.close()
    return numbers
