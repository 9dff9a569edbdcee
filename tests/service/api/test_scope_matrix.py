"""The scope matrix: every role × every endpoint of docs/api.md × inside and outside its scope.

Each case starts from a fresh county (on the in-memory backend) prepared through the service
layer so that the request WOULD succeed if the caller were authorised; the request then goes
through HTTP with the role's bearer token. Allowed → 200/201; refused → 403 problem+json with
code `forbidden_scope` and nothing recorded, and the same request by a privileged actor then
succeeds (so a 403 can never hide a 404 or a 409).

Expectations come from the contract (docs/api.md, docs/decisions.md); every case asserts it, none is
expected to fail. Where the contract is silent the matrix pins the code's reading (listed below
ENDPOINTS).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from domain.actor import Actor
from domain.vocabulary import (
    AbsenceKind,
    AssessmentResult,
    Decision,
    Form,
    Level,
    OrgKind,
    Role,
    SchoolBasedContent,
    Selection,
)
from service.api.main import create_app
from service.app import TrainRec
from service.auth.tokens import issue_token
from service.signing.keys import KeyRing
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
    define,
    teacher_actor,
)
from tests.printing_support import require_pdf_font
from tests.service.api.conftest import SECRET, bearer

PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIDENCE = [{"name": "签到表.pdf", "sha256": "a" * 64}]

# --- the world: the shared county C1, plus a second county C2 to be "outside" of ------------------
SCHOOL_OF = {"A001": "S1", "A002": "S1", "A003": "S1", "B001": "S2", "C001": "S3", "C002": "S3",
             "Z001": "S9", "Z002": "S9"}
TOWN_OF = {"S1": "T1", "S2": "T1", "S3": "T2", "S9": "T9"}

SCHOOL_BASED = {"level": Level.SCHOOL, "form": Form.SCHOOL_BASED, "selection": Selection.SCHOOL_BASED,
                "content": SchoolBasedContent.DESIGNATED}
SPECS: dict[str, dict[str, Any]] = {
    # self-selected county programmes: of C1 by P1, of C1 by the outside provider P2, of C2 by P9
    "CP": {"owner_org_id": "C1", "provider_id": "P1"},
    "CP2": {"owner_org_id": "C1", "provider_id": "P2"},
    "CP9": {"owner_org_id": "C2", "provider_id": "P9"},
    # mandated county programmes
    "MD": {"owner_org_id": "C1", "provider_id": "P1", "selection": Selection.MANDATED},
    "MD9": {"owner_org_id": "C2", "provider_id": "P9", "selection": Selection.MANDATED},
    # school-based (校本) programmes, owned and provided by a school, approved before they run
    "SB1": {"owner_org_id": "S1", "provider_id": "S1", **SCHOOL_BASED},
    "SB3": {"owner_org_id": "S3", "provider_id": "S3", **SCHOOL_BASED},
    "SB9": {"owner_org_id": "S9", "provider_id": "S9", **SCHOOL_BASED},
}
SCHOOL_BASED_TWIN = {"CP": "SB1", "CP2": "SB1", "CP9": "SB9", "SB1": "SB1", "SB3": "SB3"}


def build_world(service: TrainRec) -> None:
    build_county(service)
    service.put_org(ADMIN, "C2", "邻县", OrgKind.COUNTY, None)
    service.put_org(ADMIN, "T9", "邻县城关镇", OrgKind.TOWN, "C2")
    service.put_org(ADMIN, "S9", "邻县第一小学", OrgKind.SCHOOL, "T9")
    service.put_org(ADMIN, "P9", "邻县进修学校", OrgKind.PROVIDER, "C2")
    service.register_teacher(ADMIN, "Z001", "赵磊", "S9", date(2015, 9, 1))
    service.register_teacher(ADMIN, "Z002", "钱敏", "S9", date(2015, 9, 1))
    for code, spec in SPECS.items():
        define(service, code, **spec)


def prepare(service: TrainRec, code: str) -> None:
    """Approve a school-based programme so that it runs."""
    if code.startswith("SB"):
        service.decide_programme(ADMIN, code, Decision.APPROVED, "")


def self_selected_for(teacher_no: str) -> str:
    return "CP9" if SCHOOL_OF[teacher_no] == "S9" else "CP"


def mandated_for(teacher_no: str) -> str:
    return "MD9" if SCHOOL_OF[teacher_no] == "S9" else "MD"


# --- roles and their targets -----------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    teacher: str
    colleague: str
    programme: str

    @property
    def school(self) -> str:
        return SCHOOL_OF[self.teacher]


TEACHER = teacher_actor("A001")
HOME = Target("A001", "A002", "CP")
OTHER_COUNTY = Target("Z001", "Z002", "CP9")
HOME_SCHOOL_BASED = Target("A001", "A002", "SB1")
OTHER_TOWN_SCHOOL_BASED = Target("C001", "C002", "SB3")

ROLES: dict[str, tuple[Actor, Target, Target]] = {
    "admin": (ADMIN, HOME, OTHER_COUNTY),
    "county_supervisor": (COUNTY_SUP, HOME, OTHER_COUNTY),  # C1 vs C2
    "town_supervisor": (TOWN_SUP, HOME_SCHOOL_BASED, OTHER_TOWN_SCHOOL_BASED),  # T1 vs T2
    "school_admin": (SCHOOL_ADMIN, HOME_SCHOOL_BASED, OTHER_TOWN_SCHOOL_BASED),  # S1 vs S3
    "provider": (PROVIDER, HOME, Target("A001", "A002", "CP2")),  # P1's programme vs P2's
    "teacher": (TEACHER, HOME, Target("A002", "A003", "CP")),  # own records vs a colleague's
    "auditor": (AUDITOR, HOME, OTHER_COUNTY),  # C1 vs C2
}


# --- the scenarios: each prepares the state and names the request ----------------------------------
@dataclass
class Request:
    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    privileged: Actor = ADMIN  # who may certainly do this: replayed after a 403
    read: bool = False
    files: dict[str, tuple[str, bytes, str]] | None = None  # a multipart upload
    headers: dict[str, str] | None = None


Setup = Callable[[TrainRec, Clock, Target, str], Request]


def _enrolled(service: TrainRec, t: Target) -> None:
    prepare(service, t.programme)
    service.enrol(ADMIN, t.programme, t.teacher)


def _ended_and_assessed(service: TrainRec, clock: Clock, t: Target, result: AssessmentResult | None) -> None:
    _enrolled(service, t)
    clock.set(date(2024, 3, 6), hour=17)
    if result is not None:
        service.assess(ADMIN, t.programme, t.teacher, 4, 4, result)


def s_put_org(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("PUT", "/api/v1/orgs/SNEW", {"name": "新建学校", "kind": "school", "parent_id": TOWN_OF[t.school]})


def s_register_teacher(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    body = {"teacher_no": "N001", "name": "新教师", "school_id": t.school, "hired_on": "2020-09-01"}
    return Request("POST", "/api/v1/teachers", body)


def s_transfer(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/teachers/{t.teacher}/transfers",
                   {"to_school_id": "S2", "effective_on": "2024-02-20"})


def s_define_programme(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    spec = SPECS[t.programme]
    body: dict[str, Any] = {
        "code": "NEW", "title": "新项目", "level": str(spec.get("level", Level.COUNTY)),
        "form": str(spec.get("form", Form.CONCENTRATED)),
        "selection": str(spec.get("selection", Selection.SELF_SELECTED)),
        "hours": 16, "provider_id": spec["provider_id"], "owner_org_id": spec["owner_org_id"],
        "starts_on": "2024-04-01", "ends_on": "2024-04-02",
        "sessions": [{"no": 1, "on": "2024-04-01", "hours": 8}, {"no": 2, "on": "2024-04-02", "hours": 8}],
    }
    if "content" in spec:
        body["school_based_content"] = str(spec["content"])
    return Request("POST", "/api/v1/programmes", body)


def s_approve(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    code = SCHOOL_BASED_TWIN[t.programme]  # undecided: build_world leaves school-based programmes pending
    return Request("POST", f"/api/v1/programmes/{code}/approval", {"decision": "approved", "reason": "符合要求"})


def s_resubmit(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    code = SCHOOL_BASED_TWIN[t.programme]
    service.decide_programme(ADMIN, code, Decision.REJECTED, "材料不全")
    spec = SPECS[code]
    body: dict[str, Any] = {
        "title": "修订后的校本研修", "level": "school", "form": "school_based", "selection": "school_based",
        "school_based_content": "designated", "hours": 8, "provider_id": spec["provider_id"],
        "owner_org_id": spec["owner_org_id"], "starts_on": "2024-04-01", "ends_on": "2024-04-01",
        "sessions": [{"no": 1, "on": "2024-04-01", "hours": 8}],
    }
    return Request("POST", f"/api/v1/programmes/{code}/resubmission", body)


def s_enrol(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/programmes/{self_selected_for(t.teacher)}/enrolments", {"teacher_no": t.teacher})


def s_enrol_mandated(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/programmes/{mandated_for(t.teacher)}/enrolments", {"teacher_no": t.teacher})


def s_absence(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("POST", f"/api/v1/programmes/{t.programme}/enrolments/{t.teacher}/absence",
                   {"kind": "leave", "reason": "住院治疗"})


def _absence_pending(service: TrainRec, t: Target) -> None:
    _enrolled(service, t)
    service.request_absence(ADMIN, t.programme, t.teacher, AbsenceKind.LEAVE, "住院治疗")


def s_absence_school(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _absence_pending(service, t)
    return Request("POST", f"/api/v1/programmes/{t.programme}/enrolments/{t.teacher}/absence/approval",
                   {"by": "school", "decision": "approved"})


def s_absence_provider(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _absence_pending(service, t)
    return Request("POST", f"/api/v1/programmes/{t.programme}/enrolments/{t.teacher}/absence/approval",
                   {"by": "provider", "decision": "approved"})


def s_attendance(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    clock.set(date(2024, 3, 4), hour=17)
    return Request("POST", f"/api/v1/programmes/{t.programme}/sessions/1/attendance",
                   {"present": [t.teacher], "absent": []})


def s_reschedule(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    prepare(service, t.programme)
    clock.set(date(2024, 3, 1))  # before the programme: session 2 (03-05) is not held yet
    return Request("POST", f"/api/v1/programmes/{t.programme}/sessions/2/reschedule",
                   {"on": "2024-03-06", "reason": "讲师临时有事"})


def s_cancellation(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    prepare(service, t.programme)
    clock.set(date(2024, 3, 1))  # before the programme: session 2 (03-05) is not held yet
    return Request("POST", f"/api/v1/programmes/{t.programme}/sessions/2/cancellation", {"reason": "讲师缺席"})


def s_correction(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/teachers/{t.teacher}/corrections", {"name": "更正后的姓名", "reason": "登记有误"})


def s_departure(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/teachers/{t.teacher}/departure",
                   {"kind": "retired", "effective_on": "2024-02-20", "reason": "退休"})


def s_withdrawal(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)  # before the programme starts (03-04)
    return Request("POST", f"/api/v1/programmes/{t.programme}/enrolments/{t.teacher}/withdrawal",
                   {"reason": "工作冲突"})


def s_withdrawal_mandated(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    code = mandated_for(t.teacher)
    service.enrol(ADMIN, code, t.teacher)
    return Request("POST", f"/api/v1/programmes/{code}/enrolments/{t.teacher}/withdrawal", {"reason": "工作冲突"})


def s_assessment(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, None)
    return Request("POST", f"/api/v1/programmes/{t.programme}/assessments",
                   {"teacher_no": t.teacher, "attitude": 4, "assignments": 5, "result": "good"})


def s_evaluation(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    return Request("POST", f"/api/v1/programmes/{t.programme}/evaluations",
                   {"teacher_no": t.teacher, "form": 5, "instructors": 4, "management": 4},
                   privileged=teacher_actor(t.teacher))


def s_credit(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    return Request("POST", f"/api/v1/programmes/{t.programme}/credits", {"teacher_no": t.teacher, "hours": 24})


def s_revocation(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    credit_id = service.award_credit(ADMIN, t.programme, t.teacher, Decimal(24)).body["credit_id"]
    return Request("POST", f"/api/v1/teachers/{t.teacher}/credits/{credit_id}/revocation", {"reason": "重复登记"})


PRIOR = {"year": 2023, "hours": 80, "self_selected": 40, "source": "省继续教育旧平台", "evidence": EVIDENCE,
         "reason": "平台迁移前认定的学时"}


def s_prior_hours(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", f"/api/v1/teachers/{t.teacher}/prior-hours", PRIOR)


def s_prior_revocation(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    record_id = service.record_prior_hours(ADMIN, t.teacher, 2023, Decimal(80), "省继续教育旧平台", EVIDENCE,
                                           "平台迁移前认定的学时").body["record_id"]
    return Request("POST", f"/api/v1/teachers/{t.teacher}/prior-hours/{record_id}/revocation",
                   {"reason": "证书不实"})


def s_dispute(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    return Request("POST", f"/api/v1/teachers/{t.teacher}/disputes",
                   {"programme_code": t.programme, "claim": "实际参加了全部课时", "evidence": EVIDENCE})


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def s_keep_evidence(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("POST", "/api/v1/evidence", files={"file": ("签到表.pdf", PDF, "application/pdf")}, read=True)


def s_read_evidence(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    """A file kept by the admin and cited by a dispute about the target teacher."""
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    kept = service.keep_evidence(ADMIN, "签到表.pdf", PDF)
    service.open_dispute(ADMIN, t.teacher, t.programme, "实际参加了全部课时",
                         [{"name": "签到表.pdf", "sha256": kept.file.sha256}])
    return Request("GET", f"/api/v1/evidence/{kept.file.sha256}", read=True)


def s_import(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    """A teachers sheet of one new teacher at the target's school (each row is then checked against
    the caller's scope on its own: tests/service/api/test_uploads_http.py)."""
    sheet = f"工号,姓名,学校代码\nN001,新教师,{t.school}\n".encode()
    return Request("POST", "/api/v1/imports/teachers", files={"file": ("教师.csv", sheet, "text/csv")})


def s_resolution(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    opened = service.open_dispute(teacher_actor(t.teacher), t.teacher, t.programme, "实际参加了全部课时", EVIDENCE)
    return Request("POST", f"/api/v1/disputes/{opened.body['dispute_id']}/resolution",
                   {"decision": "rejected", "reason": "签到表不支持该主张"})


def s_transcript(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", f"/api/v1/teachers/{t.teacher}/transcript", read=True)


def s_credential(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", f"/api/v1/teachers/{t.teacher}/credential", read=True,
                   headers={"Accept": "application/json"})


def s_transcript_pdf(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    require_pdf_font()
    _enrolled(service, t)
    return Request("GET", f"/api/v1/teachers/{t.teacher}/transcript.pdf", read=True)


def _credited(service: TrainRec, clock: Clock, t: Target) -> None:
    _ended_and_assessed(service, clock, t, AssessmentResult.GOOD)
    service.evaluate(teacher_actor(t.teacher), t.programme, t.teacher, 5, 5, 5)
    service.award_credit(ADMIN, t.programme, t.teacher, Decimal(24))


def s_certificate(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _credited(service, clock, t)
    return Request("POST", f"/api/v1/teachers/{t.teacher}/certificates", {"year": 2024, "purpose": "职称评审"})


def s_certificate_pdf(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    require_pdf_font()
    _credited(service, clock, t)
    number = service.issue_certificate(ADMIN, t.teacher, year=2024).body["certificate_no"]
    return Request("GET", f"/api/v1/certificates/{number}.pdf", read=True)


def s_history(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", f"/api/v1/teachers/{t.teacher}/history", read=True)


def s_audit_events(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", "/api/v1/audit/events", params={"teacher_no": t.teacher}, read=True)


def s_audit_verify(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/audit/verify", read=True)


def s_audit_checkpoint(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/audit/checkpoint", read=True)


def s_audit_proof(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    first = service.audit_events(ADMIN, limit=1)["events"][0]["id"]
    return Request("GET", f"/api/v1/audit/events/{first}/proof", read=True)


def s_audit_consistency(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/audit/consistency", params={"from": 1, "to": 2}, read=True)


def s_get_programme(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    code = t.programme
    if t.teacher == "A002" and where == "outside":  # the teacher's outside: a programme of another county
        code = "CP9"
    return Request("GET", f"/api/v1/programmes/{code}", read=True)


def s_get_org(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", f"/api/v1/orgs/{t.school}", read=True)


def s_roster(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", f"/api/v1/programmes/{t.programme}/roster", read=True)


def s_compliance(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", f"/api/v1/orgs/{t.school}/compliance", params={"year": 2024}, read=True)


def s_compliance_changes(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", f"/api/v1/orgs/{t.school}/compliance/changes",
                   params={"year": 2024, "since": "2024-01-01"}, read=True)


def s_compliance_shortfalls(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", f"/api/v1/orgs/{t.school}/compliance/shortfalls",
                   params={"year": 2024, "rule": "avg_hours_per_teacher"}, read=True)


def s_compliance_xlsx(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", f"/api/v1/orgs/{t.school}/compliance.xlsx", params={"year": 2024}, read=True)


def s_roster_xlsx(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    _enrolled(service, t)
    return Request("GET", f"/api/v1/programmes/{t.programme}/roster.xlsx", read=True)


def s_list_teachers(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/teachers", params={"org_id": t.school}, read=True)


def s_list_programmes(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/programmes", params={"org_id": SPECS[t.programme]["provider_id"]}, read=True)


def s_list_disputes(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/disputes", params={"org_id": t.school}, read=True)


def s_list_approvals(service: TrainRec, clock: Clock, t: Target, where: str) -> Request:
    return Request("GET", "/api/v1/approvals", params={"org_id": SPECS[t.programme]["provider_id"]}, read=True)


@dataclass(frozen=True)
class Endpoint:
    route: tuple[str, str]  # method and path template of the app
    setup: Setup
    expect: dict[str, str]  # role → inside+outside: A allowed, D denied, F allowed but filtered to nothing
    only_one: bool = False  # no target: one case per role


ROLE_ORDER = ("admin", "county_supervisor", "town_supervisor", "school_admin", "provider", "teacher", "auditor")


def row(*codes: str) -> dict[str, str]:
    return dict(zip(ROLE_ORDER, codes, strict=True))


PROVIDER_WORK = row("AA", "AD", "AD", "AD", "AD", "DD", "DD")
TEACHER_READ = row("AA", "AD", "AD", "AD", "DD", "AD", "AD")
ORG_READ = row("AA", "AD", "AD", "AD", "DD", "DD", "AD")

ENDPOINTS: dict[str, Endpoint] = {
    "put-org": Endpoint(("PUT", "/api/v1/orgs/{org_id}"), s_put_org, row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "register-teacher": Endpoint(("POST", "/api/v1/teachers"), s_register_teacher,
                                 row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "transfer": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/transfers"), s_transfer,
                         row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "define-programme": Endpoint(("POST", "/api/v1/programmes"), s_define_programme,
                                 row("AA", "AD", "AD", "AD", "AD", "DD", "DD")),
    "approve": Endpoint(("POST", "/api/v1/programmes/{code}/approval"), s_approve,
                        row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "resubmit": Endpoint(("POST", "/api/v1/programmes/{code}/resubmission"), s_resubmit,
                         row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "enrol": Endpoint(("POST", "/api/v1/programmes/{code}/enrolments"), s_enrol,
                      row("AA", "AD", "AD", "AD", "DD", "AD", "DD")),
    "enrol-mandated": Endpoint(("POST", "/api/v1/programmes/{code}/enrolments"), s_enrol_mandated,
                               row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "absence": Endpoint(("POST", "/api/v1/programmes/{code}/enrolments/{teacher_no}/absence"), s_absence,
                        row("AA", "AD", "AD", "AD", "DD", "AD", "DD")),
    "absence-approval-school": Endpoint(
        ("POST", "/api/v1/programmes/{code}/enrolments/{teacher_no}/absence/approval"), s_absence_school,
        row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "absence-approval-provider": Endpoint(
        ("POST", "/api/v1/programmes/{code}/enrolments/{teacher_no}/absence/approval"), s_absence_provider,
        PROVIDER_WORK),
    "attendance": Endpoint(("POST", "/api/v1/programmes/{code}/sessions/{no}/attendance"), s_attendance,
                           PROVIDER_WORK),
    "reschedule": Endpoint(("POST", "/api/v1/programmes/{code}/sessions/{no}/reschedule"), s_reschedule,
                           PROVIDER_WORK),
    "cancellation": Endpoint(("POST", "/api/v1/programmes/{code}/sessions/{no}/cancellation"), s_cancellation,
                             PROVIDER_WORK),
    "correction": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/corrections"), s_correction,
                           row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "departure": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/departure"), s_departure,
                          row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "withdrawal": Endpoint(("POST", "/api/v1/programmes/{code}/enrolments/{teacher_no}/withdrawal"), s_withdrawal,
                           row("AA", "AD", "AD", "AD", "DD", "AD", "DD")),
    "withdrawal-mandated": Endpoint(("POST", "/api/v1/programmes/{code}/enrolments/{teacher_no}/withdrawal"),
                                    s_withdrawal_mandated, row("AA", "AD", "AD", "AD", "DD", "DD", "DD")),
    "assessment": Endpoint(("POST", "/api/v1/programmes/{code}/assessments"), s_assessment, PROVIDER_WORK),
    "evaluation": Endpoint(("POST", "/api/v1/programmes/{code}/evaluations"), s_evaluation,
                           row("DD", "DD", "DD", "DD", "DD", "AD", "DD")),
    "credit": Endpoint(("POST", "/api/v1/programmes/{code}/credits"), s_credit, PROVIDER_WORK),
    "revocation": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/credits/{credit_id}/revocation"), s_revocation,
                           row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "prior-hours": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/prior-hours"), s_prior_hours,
                            row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "prior-revocation": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/prior-hours/{record_id}/revocation"),
                                 s_prior_revocation, row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "dispute": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/disputes"), s_dispute,
                        row("AA", "DD", "DD", "AD", "DD", "AD", "DD")),
    "resolution": Endpoint(("POST", "/api/v1/disputes/{dispute_id}/resolution"), s_resolution,
                           row("AA", "AD", "AD", "DD", "DD", "DD", "DD")),
    "keep-evidence": Endpoint(("POST", "/api/v1/evidence"), s_keep_evidence,
                              row("A", "A", "A", "A", "D", "A", "D"), only_one=True),
    "read-evidence": Endpoint(("GET", "/api/v1/evidence/{sha256}"), s_read_evidence, TEACHER_READ),
    "import": Endpoint(("POST", "/api/v1/imports/{kind}"), s_import, row("A", "A", "A", "A", "D", "D", "D"),
                       only_one=True),
    "transcript": Endpoint(("GET", "/api/v1/teachers/{teacher_no}/transcript"), s_transcript, TEACHER_READ),
    "credential": Endpoint(("GET", "/api/v1/teachers/{teacher_no}/credential"), s_credential, TEACHER_READ),
    "history": Endpoint(("GET", "/api/v1/teachers/{teacher_no}/history"), s_history, TEACHER_READ),
    "transcript-pdf": Endpoint(("GET", "/api/v1/teachers/{teacher_no}/transcript.pdf"), s_transcript_pdf,
                               TEACHER_READ),
    "certificate": Endpoint(("POST", "/api/v1/teachers/{teacher_no}/certificates"), s_certificate,
                            row("AA", "AD", "AD", "AD", "DD", "AD", "DD")),
    "certificate-pdf": Endpoint(("GET", "/api/v1/certificates/{certificate_no}.pdf"), s_certificate_pdf,
                                TEACHER_READ),
    "audit-events": Endpoint(("GET", "/api/v1/audit/events"), s_audit_events,
                             row("AA", "AF", "AF", "DD", "DD", "DD", "AF")),
    "audit-verify": Endpoint(("GET", "/api/v1/audit/verify"), s_audit_verify,
                             row("A", "D", "D", "D", "D", "D", "A"), only_one=True),
    "audit-checkpoint": Endpoint(("GET", "/api/v1/audit/checkpoint"), s_audit_checkpoint,
                                 row("A", "D", "D", "D", "D", "D", "A"), only_one=True),
    "audit-proof": Endpoint(("GET", "/api/v1/audit/events/{event_id}/proof"), s_audit_proof,
                            row("A", "D", "D", "D", "D", "D", "A"), only_one=True),
    "audit-consistency": Endpoint(("GET", "/api/v1/audit/consistency"), s_audit_consistency,
                                  row("A", "D", "D", "D", "D", "D", "A"), only_one=True),
    "get-programme": Endpoint(("GET", "/api/v1/programmes/{code}"), s_get_programme,
                              row("AA", "AD", "AD", "AD", "AD", "AD", "AD")),
    "get-org": Endpoint(("GET", "/api/v1/orgs/{org_id}"), s_get_org, ORG_READ),
    "roster": Endpoint(("GET", "/api/v1/programmes/{code}/roster"), s_roster,
                       row("AA", "AD", "AD", "AD", "AD", "DD", "AD")),
    "compliance": Endpoint(("GET", "/api/v1/orgs/{org_id}/compliance"), s_compliance, ORG_READ),
    "compliance-changes": Endpoint(("GET", "/api/v1/orgs/{org_id}/compliance/changes"), s_compliance_changes,
                                   ORG_READ),
    "compliance-shortfalls": Endpoint(("GET", "/api/v1/orgs/{org_id}/compliance/shortfalls"),
                                      s_compliance_shortfalls, ORG_READ),
    # the workbooks are the JSON reports' scopes exactly
    "compliance-xlsx": Endpoint(("GET", "/api/v1/orgs/{org_id}/compliance.xlsx"), s_compliance_xlsx, ORG_READ),
    "roster-xlsx": Endpoint(("GET", "/api/v1/programmes/{code}/roster.xlsx"), s_roster_xlsx,
                            row("AA", "AD", "AD", "AD", "AD", "DD", "AD")),
    # lists narrowed to a unit (`org_id`): the teacher's target school is theirs either way (they
    # see their own record); programmes and approvals are narrowed to the target programme's provider
    "list-teachers": Endpoint(("GET", "/api/v1/teachers"), s_list_teachers,
                              row("AA", "AD", "AD", "AD", "DD", "AA", "AD")),
    "list-programmes": Endpoint(("GET", "/api/v1/programmes"), s_list_programmes,
                                row("AA", "AD", "AD", "AD", "AD", "DD", "AD")),
    "list-disputes": Endpoint(("GET", "/api/v1/disputes"), s_list_disputes,
                              row("AA", "AD", "AD", "AD", "DD", "AA", "AD")),
    "list-approvals": Endpoint(("GET", "/api/v1/approvals"), s_list_approvals,
                               row("AA", "AD", "AD", "AD", "AD", "DD", "DD")),
}

# Where the contract is silent, the matrix pins the code's reading:
# - supervisors register org units below their org, register and transfer staff, define programmes they own,
#   file absences, record attendance and assessments (docs/api.md lists for them only read/approve/revoke/resolve;
#   decisions.md adds enrolment and credits);
# - a school_admin may enrol its staff in self-selected programmes, not only mandated/school-based ones;
# - provider and teacher cannot GET /orgs/{id} or compliance, not even their own org/school;
# - teacher cannot transfer themself nor read rosters; provider cannot read trainees' transcripts;
# - /audit/verify is whole-store: admin and auditor only; the auditor of C1 verifies C2's events too;
#   so are the transparency log's checkpoint and proofs (/audit/checkpoint, /audit/events/{id}/proof,
#   /audit/consistency), as the brief of issue 22 has them;
# - admin may open disputes (decisions.md names the teacher or their school);
# - corrections and departures are staff work, like transfers: the teacher's school, supervisors above it, admins;
# - a withdrawal is made by whoever may make the enrolment: the teacher only for a self-selected one;
# - a session is cancelled by the provider, as it is rescheduled;
# - a teacher narrows the programme list only to a unit at or above their school, not to a provider;
# - approvals are listed for those who decide something: not for teachers nor auditors;
# - hours certificates are issued by the teacher and by those who manage the teacher's school, as
#   enrolments are (decisions.md, "Hours certificates"); their PDFs are read as the transcript is.


def _cases() -> Iterator[Any]:
    for name, endpoint in ENDPOINTS.items():
        for role in ROLE_ORDER:
            expect = endpoint.expect[role]
            wheres = ("any",) if endpoint.only_one else ("inside", "outside")
            for where, outcome in zip(wheres, expect, strict=True):
                yield pytest.param(role, name, where, outcome, id=f"{role}-{name}-{where}")


# --- fixtures: the in-memory backend only, a fresh world per case -----------------------------------
@dataclass
class World:
    service: TrainRec
    client: TestClient
    clock: Clock


@pytest.fixture
def world(clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))  # the key ring that signs credentials
    KeyRing.open(tmp_path).rotate("credential", datetime(2024, 1, 1, tzinfo=UTC))  # valid at the clock's now
    service = TrainRec(storage_from_url("memory://"), clock=clock)
    build_world(service)
    client = TestClient(create_app(service, SECRET), raise_server_exceptions=False)
    yield World(service, client, clock)
    service.close()


def send(client: TestClient, request: Request, actor: Actor | None) -> Any:
    headers = {**(request.headers or {}), **(bearer(actor) if actor is not None else {})}
    if request.files is not None:
        return client.request(request.method, request.path, files=request.files, params=request.params,
                              headers=headers)
    return client.request(request.method, request.path, json=request.json, params=request.params, headers=headers)


def head(service: TrainRec) -> int:
    return service.recorder.max_notification_id() or 0


def assert_forbidden(response: Any) -> None:
    assert response.status_code == 403, f"expected 403, got {response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "forbidden_scope", body
    assert body["status"] == 403


@pytest.mark.parametrize(("role", "endpoint", "where", "outcome"), list(_cases()))
def test_scope_matrix(world: World, role: str, endpoint: str, where: str, outcome: str) -> None:
    actor, inside, outside = ROLES[role]
    target = outside if where == "outside" else inside
    spec = ENDPOINTS[endpoint]
    request = spec.setup(world.service, world.clock, target, where)
    before = head(world.service)

    response = send(world.client, request, actor)

    if outcome == "D":
        assert_forbidden(response)
        assert head(world.service) == before, "a refused request recorded events"
        control = send(world.client, request, request.privileged)
        assert control.status_code in (200, 201), (
            f"not set up to succeed: {request.privileged.role} got {control.status_code} {control.text[:300]}"
        )
        return
    assert response.status_code in (200, 201), f"expected success, got {response.status_code}: {response.text[:300]}"
    if endpoint == "read-evidence":
        assert response.content == PDF
        return
    if endpoint.endswith("-xlsx"):
        assert response.headers["content-type"] == XLSX
        assert response.content.startswith(b"PK")  # a zip: the workbook
        assert head(world.service) == before
        return
    if endpoint in ("transcript-pdf", "certificate-pdf"):
        assert response.content.startswith(b"%PDF-")
        assert head(world.service) == before
        return
    body = response.json()
    if request.read:
        assert head(world.service) == before
    else:
        assert body["events"], "a write answers the events it recorded"
        assert head(world.service) > before
    if endpoint == "audit-events":
        if outcome == "F":
            assert body["events"] == [], "events outside the reader's scope leaked into the audit feed"
        else:
            assert body["events"], "the reader's own scope has events"
            assert {e["teacher_no"] for e in body["events"]} == {target.teacher}


# Routes whose caller is not a role acting inside or outside a scope: signing in (anyone, no token)
# and out (the session's own holder, whatever its role), tested in test_session_http.py.
SCOPELESS = {("POST", "/api/v1/session"), ("DELETE", "/api/v1/session")}


def test_matrix_covers_every_api_route(world: World) -> None:
    """A new endpoint must join the matrix (or, if no role or scope limits who calls it, SCOPELESS)."""
    paths = world.client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, operations in paths.items() if path.startswith("/api/v1")
              for method in operations}
    covered = {endpoint.route for endpoint in ENDPOINTS.values()}
    assert routes == covered | SCOPELESS


# --- authentication ----------------------------------------------------------------------------------
WRITE = Request("POST", "/api/v1/programmes/CP/enrolments", {"teacher_no": "A001"})
READ = Request("GET", "/api/v1/teachers/A001/transcript")


def assert_unauthenticated(response: Any, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert response.json()["code"] == code


@pytest.mark.parametrize("request_", [WRITE, READ], ids=["write", "read"])
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        pytest.param({}, "unauthenticated", id="no-token"),
        pytest.param({"Authorization": ""}, "unauthenticated", id="empty-header"),
        pytest.param({"Authorization": "Bearer"}, "unauthenticated", id="bearer-without-token"),
        pytest.param({"Authorization": "Basic YWRtaW46YWRtaW4="}, "unauthenticated", id="basic-scheme"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, "invalid_token", id="garbage-token"),
        pytest.param({"Authorization": "Bearer a.b.c"}, "invalid_token", id="garbage-jwt-shape"),
    ],
)
def test_missing_or_garbage_token_is_401(world: World, request_: Request, headers: dict[str, str], code: str) -> None:
    before = head(world.service)
    response = world.client.request(request_.method, request_.path, json=request_.json, headers=headers)
    assert_unauthenticated(response, code)
    assert head(world.service) == before


def _token(claims: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(tz=UTC)
    claims = {"iss": "trainrec", "sub": "x", "role": "admin", "iat": int(now.timestamp()),
              "exp": int((now + timedelta(hours=1)).timestamp())}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs512_token() -> dict[str, str]:
    """Signed with the right secret but another algorithm (pyjwt warns that this test's secret is
    short for HS512: the point here is the algorithm, which the server must refuse)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The HMAC key is")
        return {"Authorization": "Bearer " + jwt.encode(_claims(), SECRET, algorithm="HS512")}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(_token(_claims(), secret="another-secret-0123456789-0123456789"), id="other-secret"),
        pytest.param(_token(_claims(iss="someone-else")), id="other-issuer"),
        pytest.param(_token(_claims(role="root")), id="unknown-role"),
        pytest.param(_token(_claims(role="supervisor")), id="supervisor-without-org"),
        pytest.param(_token(_claims(role="teacher")), id="teacher-without-teacher-no"),
        pytest.param(_token(_claims(exp=None)), id="no-expiry"),
        pytest.param(_token(_claims(sub=None)), id="no-subject"),
        pytest.param(_hs512_token(), id="hs512"),
    ],
)
def test_invalid_tokens_are_401_invalid_token(world: World, headers: dict[str, str]) -> None:
    before = head(world.service)
    response = world.client.request(WRITE.method, WRITE.path, json=WRITE.json, headers=headers)
    assert_unauthenticated(response, "invalid_token")
    assert head(world.service) == before


@pytest.mark.parametrize("request_", [WRITE, READ], ids=["write", "read"])
def test_expired_token_is_401_token_expired(world: World, request_: Request) -> None:
    issued = datetime.now(tz=UTC) - timedelta(hours=3)
    token = issue_token(SECRET, ADMIN, ttl=timedelta(hours=1), now=issued)
    before = head(world.service)
    response = world.client.request(request_.method, request_.path, json=request_.json,
                                    headers={"Authorization": f"Bearer {token}"})
    assert_unauthenticated(response, "token_expired")
    assert head(world.service) == before


# --- every recorded event names who acted ------------------------------------------------------------
def test_history_names_the_token_subject_and_role_of_every_event(world: World) -> None:
    """A teacher's whole life through HTTP, each step by a different role; GET /history then
    names, on every event, exactly the subject, role and scope of the token that caused it."""
    client, clock = world.client, world.clock
    n_teacher = Actor("t-N001", Role.TEACHER, teacher_no="N001")
    caused_by: dict[str, Actor] = {}

    def write(actor: Actor, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.request(method, path, json=body, headers=bearer(actor))
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        for event in answer["events"]:
            caused_by[event["id"]] = actor
        return answer

    write(SCHOOL_ADMIN, "POST", "/api/v1/teachers",
          {"teacher_no": "N001", "name": "孙悦", "school_id": "S1", "hired_on": "2019-09-01"})
    write(n_teacher, "POST", "/api/v1/programmes/CP/enrolments", {"teacher_no": "N001"})
    write(COUNTY_SUP, "POST", "/api/v1/programmes/MD/enrolments", {"teacher_no": "N001"})
    write(n_teacher, "POST", "/api/v1/programmes/MD/enrolments/N001/absence", {"kind": "leave", "reason": "病假"})
    write(SCHOOL_ADMIN, "POST", "/api/v1/programmes/MD/enrolments/N001/absence/approval",
          {"by": "school", "decision": "approved"})
    write(PROVIDER, "POST", "/api/v1/programmes/MD/enrolments/N001/absence/approval",
          {"by": "provider", "decision": "approved"})
    clock.set(date(2024, 3, 4), hour=17)
    write(PROVIDER, "POST", "/api/v1/programmes/CP/sessions/1/attendance", {"present": ["N001"], "absent": []})
    clock.set(date(2024, 3, 6), hour=17)
    write(PROVIDER, "POST", "/api/v1/programmes/CP/assessments",
          {"teacher_no": "N001", "attitude": 5, "assignments": 4, "result": "excellent"})
    write(n_teacher, "POST", "/api/v1/programmes/CP/evaluations",
          {"teacher_no": "N001", "form": 5, "instructors": 5, "management": 4, "comment": "很好"})
    credit = write(PROVIDER, "POST", "/api/v1/programmes/CP/credits", {"teacher_no": "N001", "hours": 20})
    write(TOWN_SUP, "POST", f"/api/v1/teachers/N001/credits/{credit['credit_id']}/revocation",
          {"reason": "学时登记有误"})
    write(ADMIN, "POST", "/api/v1/programmes/CP/credits", {"teacher_no": "N001", "hours": 16})
    dispute = write(SCHOOL_ADMIN, "POST", "/api/v1/teachers/N001/disputes",
                    {"programme_code": "CP", "claim": "应认定24学时", "evidence": EVIDENCE})
    write(COUNTY_SUP, "POST", f"/api/v1/disputes/{dispute['dispute_id']}/resolution",
          {"decision": "upheld", "reason": "核实签到表", "award_hours": 24})
    write(SCHOOL_ADMIN, "POST", "/api/v1/teachers/N001/transfers", {"to_school_id": "S2", "effective_on": "2024-03-06"})

    response = client.get("/api/v1/teachers/N001/history", headers=bearer(AUDITOR))
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert [e["id"] for e in events] == [e for e in caused_by if e in {x["id"] for x in events}]
    teacher_events = {e["id"] for e in events}
    assert teacher_events <= set(caused_by)
    assert len(events) >= 14
    for event in events:
        actor = caused_by[event["id"]]
        assert event["actor"]["sub"] == actor.subject, event
        assert event["actor"]["role"] == actor.role.value, event
        assert event["actor"] == actor.as_record(), event
    roles = {e["actor"]["role"] for e in events}
    assert roles == {"school_admin", "teacher", "supervisor", "provider", "admin"}


# --- org scopes are prefixes of a path: ids with LIKE wildcards ---------------------------------------
def test_audit_feed_scope_is_not_widened_by_wildcards_in_org_ids(world: World) -> None:
    service = world.service
    service.put_org(ADMIN, "X_1", "下划线镇", OrgKind.TOWN, "C1")
    service.put_org(ADMIN, "XA1", "隔壁镇", OrgKind.TOWN, "C1")
    service.put_org(ADMIN, "SXA", "隔壁小学", OrgKind.SCHOOL, "XA1")
    service.register_teacher(ADMIN, "X001", "周强", "SXA", date(2016, 9, 1))
    auditor = Actor("x-auditor", Role.AUDITOR, org_id="X_1")
    response = world.client.get("/api/v1/audit/events", params={"teacher_no": "X001"}, headers=bearer(auditor))
    assert response.status_code == 200, response.text
    assert response.json()["events"] == []
