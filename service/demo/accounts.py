"""The demo's accounts: one per role, on units and a teacher the demo county itself holds, all with
one password the README names, so a new user can sign in as each kind of user at once."""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import Role
from service.app import TrainRec
from service.demo.orgs import ADMIN

DEMO_PASSWORD = "trainrec-demo-2026"  # noqa: S105 - the demo's published password (README)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    org_id: str | None
    teacher_no: str | None
    what: str  # who it is, in Chinese, for the printed list


def demo_accounts(app: TrainRec) -> list[DemoAccount]:
    """The accounts the demo county gets: its supervisor and auditor, a town's supervisor, a school's
    training officer and a teacher of that school (the one with most credits), and the county's
    training provider, read from the records themselves."""
    model = app.read_model
    model.catch_up()
    p = model.prefix

    def first(sql: str) -> str:
        rows = model.db.query(sql)
        if not rows:
            raise LookupError(sql)
        return str(rows[0][0])

    county = first(f"SELECT org_id FROM {p}orgs WHERE kind = 'county' ORDER BY org_id LIMIT 1")  # noqa: S608
    town = first(f"SELECT org_id FROM {p}orgs WHERE kind = 'town' ORDER BY org_id LIMIT 1")  # noqa: S608
    teacher = first(f"SELECT c.teacher_no FROM {p}credits c JOIN {p}teachers t ON t.teacher_no = c.teacher_no "  # noqa: S608
                    "WHERE c.status = 'valid' AND t.departed_on IS NULL GROUP BY c.teacher_no "
                    "ORDER BY COUNT(*) DESC, c.teacher_no LIMIT 1")
    school = first(f"SELECT school_id FROM {p}teachers WHERE teacher_no = '{teacher}'")  # noqa: S608
    provider = first(f"SELECT provider_id FROM {p}programmes GROUP BY provider_id "  # noqa: S608
                     "ORDER BY COUNT(*) DESC, provider_id LIMIT 1")
    return [
        DemoAccount("admin", Role.ADMIN, None, None, "系统管理员"),
        DemoAccount("county", Role.SUPERVISOR, county, None, "县教师培训中心（主管）"),
        DemoAccount("town", Role.SUPERVISOR, town, None, "乡镇学区（主管）"),
        DemoAccount("school", Role.SCHOOL_ADMIN, school, None, "学校培训管理员"),
        DemoAccount("provider", Role.PROVIDER, provider, None, "培训机构"),
        DemoAccount("teacher", Role.TEACHER, None, teacher, "教师"),
        DemoAccount("auditor", Role.AUDITOR, county, None, "审计人员"),
    ]


def add_demo_accounts(app: TrainRec) -> list[DemoAccount]:
    """Open the demo's accounts (those not opened yet); returns them all."""
    accounts = demo_accounts(app)
    existing = {str(row["username"]) for row in app.accounts(ADMIN)}
    for account in accounts:
        if account.username not in existing:
            app.add_account(ADMIN, account.username, account.role, account.org_id, account.teacher_no,
                            DEMO_PASSWORD, "演示账号")
    return accounts
