"""Random command sequences over a small county, for the projection-equals-replay tests."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.errors import DomainError
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DepartureKind,
    DisputeDecision,
    Form,
    Level,
    SchoolBasedContent,
    Selection,
)
from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, PROVIDER, Clock, build_county, define, teacher_actor

TEACHERS = ["A001", "A002", "A003", "B001", "C001", "C002"]
SCHOOLS = ["S1", "S2", "S3"]
START = date(2024, 1, 8)
AWAITING = ["R05", "R11"]  # school-based, left awaiting a decision by `setup` (of 12 or more programmes)


def setup(app: TrainRec, clock: Clock, programmes: int = 20) -> list[str]:
    """A county and `programmes` programmes spread over 2024 (every third school-based, in S1)."""
    clock.set(START - timedelta(days=7))
    build_county(app)
    codes = []
    for i in range(programmes):
        code = f"R{i:02d}"
        starts_on = START + timedelta(days=(330 * i) // programmes)
        if i % 3 == 2:
            define(app, code, starts_on=starts_on, days=2, level=Level.SCHOOL, form=Form.SCHOOL_BASED,
                   selection=Selection.SCHOOL_BASED,
                   content=SchoolBasedContent.ELECTIVE if i % 2 else SchoolBasedContent.DESIGNATED,
                   provider_id="S1", owner_org_id="S1")
            if i % 6 != 5:  # R05, R11, ...: left awaiting a decision (rejected and resubmitted by `run`)
                app.decide_programme(COUNTY_SUP, code, Decision.APPROVED, "合格")
        else:
            define(app, code, starts_on=starts_on, days=1 + i % 3, capacity=4 if i % 5 == 0 else None,
                   form=Form.CONCENTRATED if i % 2 else Form.WORKSHOP,
                   selection=Selection.SELF_SELECTED if i % 3 else Selection.MANDATED)
        codes.append(code)
    return codes


WEIGHTS = {
    "clock": 8, "enrol": 22, "absence": 5, "absence_decision": 6, "attendance": 15, "assess": 10, "evaluate": 10,
    "credit": 10, "revoke": 2, "dispute": 3, "resolve": 3, "transfer": 2, "rename": 1, "reschedule": 2,
    "reject": 1, "resubmit": 2, "prior": 4, "prior_revoke": 1, "correct": 1, "depart": 1, "withdraw": 2, "cancel": 1,
}


def back_dated(app: TrainRec, clock: Clock, rng: random.Random) -> dict[str, Any]:
    """Most writes take today; some happened up to 120 days before (a late entry past 30 days, usually
    with its reason, sometimes without and refused), a few are dated tomorrow (refused)."""
    roll = rng.random()
    if roll < 0.6:
        return {}
    today = app.policy.local_date(clock.now)
    if roll < 0.62:
        return {"occurred_on": today + timedelta(days=1)}
    return {"occurred_on": today - timedelta(days=rng.randint(0, 120)),
            "late_reason": "补录：原平台记录迁移" if rng.random() < 0.85 else None}


def run(app: TrainRec, clock: Clock, codes: list[str], rng: random.Random, commands: int,
        catch_up_every: int = 0) -> int:
    """Issue `commands` random commands; refusals are expected and record nothing. Returns accepted count."""
    accepted = 0
    disputes: list[str] = []
    enrolled: dict[str, list[str]] = {code: [] for code in codes}
    awarded: list[tuple[str, str]] = []
    prior: list[tuple[str, str]] = []
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    for n in range(commands):
        code = rng.choice(codes)
        teacher_no = rng.choice(enrolled[code]) if enrolled[code] and rng.random() < 0.8 else rng.choice(TEACHERS)
        kind = rng.choices(kinds, weights)[0]
        try:
            if kind == "clock":
                clock.now += timedelta(hours=rng.randint(6, 72))
                continue
            if kind == "enrol":
                teacher_no = rng.choice(TEACHERS)
                app.enrol(ADMIN, code, teacher_no, **back_dated(app, clock, rng))
                enrolled[code].append(teacher_no)
            elif kind == "absence":
                absence = rng.choice([AbsenceKind.LEAVE, AbsenceKind.SUBSTITUTION])
                substitute = rng.choice(TEACHERS) if absence is AbsenceKind.SUBSTITUTION else None
                app.request_absence(ADMIN, code, teacher_no, absence, "请假事由", substitute,
                                    **back_dated(app, clock, rng))
            elif kind == "absence_decision":
                result = app.decide_absence(ADMIN, code, teacher_no, rng.choice(list(Approver)),
                                            rng.choice([Decision.APPROVED] * 3 + [Decision.REJECTED]), "审批",
                                            **back_dated(app, clock, rng))
                substitutes = [e.get("teacher_no") for e in result.body["events"] if e["type"] == "Enrolled"]
                enrolled[code] += [str(t) for t in substitutes]
            elif kind == "attendance":
                pool = enrolled[code] or TEACHERS
                sample = rng.sample(pool, rng.randint(1, len(pool)))
                split = rng.randint(0, len(sample))
                app.record_attendance(PROVIDER if code not in ("R02", "R05") else ADMIN, code, rng.randint(1, 3),
                                      sample[:split], sample[split:],
                                      late_reason="补录签到表" if rng.random() < 0.7 else None)
            elif kind == "assess":
                app.assess(ADMIN, code, teacher_no, rng.randint(1, 5), rng.randint(1, 5),
                           rng.choice([AssessmentResult.PASS, AssessmentResult.GOOD, AssessmentResult.EXCELLENT,
                                       AssessmentResult.FAIL]), **back_dated(app, clock, rng))
            elif kind == "evaluate":
                app.evaluate(teacher_actor(teacher_no), code, teacher_no, rng.randint(1, 5), rng.randint(1, 5),
                             rng.randint(1, 5), rng.choice([None, "很好", "一般"]),
                             occurred_on=None if rng.random() < 0.95 else date(2024, 1, 1))  # a teacher: refused
            elif kind == "credit":
                result = app.award_credit(ADMIN, code, teacher_no, Decimal(rng.randint(1, 48)) / 2,
                                          **back_dated(app, clock, rng))
                awarded.append((teacher_no, str(result.body["credit_id"])))
            elif kind == "revoke":
                if not awarded:
                    continue
                owner, credit_id = rng.choice(awarded)
                app.revoke_credit(ADMIN, owner, credit_id, "核查不实", **back_dated(app, clock, rng))
            elif kind == "dispute":
                result = app.open_dispute(teacher_actor(teacher_no), teacher_no, code, "学时有误",
                                          [{"name": "证明.pdf", "sha256": "b" * 64}])
                disputes.append(str(result.body["dispute_id"]))
            elif kind == "resolve":
                if not disputes:
                    continue
                decision = rng.choice(list(DisputeDecision))
                upheld = decision is DisputeDecision.UPHELD
                hours = Decimal(rng.randint(1, 16)) if upheld and rng.random() < 0.7 else None
                app.resolve_dispute(ADMIN, rng.choice(disputes), decision, "复核", hours, **back_dated(app, clock, rng))
            elif kind == "transfer":
                app.transfer_teacher(ADMIN, teacher_no, rng.choice(SCHOOLS), app.policy.local_date(clock.now))
            elif kind == "rename":
                app.put_org(ADMIN, rng.choice(SCHOOLS), f"学校{rng.randint(1, 9)}号", app_kind_school(), "T1")
            elif kind == "reject":  # a school-based programme awaiting its decision (R05, R11, ...)
                code = rng.choice(AWAITING) if AWAITING[0] in codes else code
                app.decide_programme(COUNTY_SUP, code, Decision.REJECTED, "材料不全")
            elif kind == "resubmit":  # a rejected one, revised: other hours and days, awaiting approval again
                from domain.rules.programme_definition import SessionPlan

                code = rng.choice(AWAITING) if AWAITING[0] in codes else code
                first = START + timedelta(days=rng.randint(0, 300))
                days = rng.randint(1, 3)
                app.resubmit_programme(
                    ADMIN, code=code, title=f"修订{code}", level=Level.SCHOOL, form=Form.SCHOOL_BASED,
                    selection=Selection.SCHOOL_BASED, school_based_content=SchoolBasedContent.DESIGNATED,
                    hours=Decimal(4 * days), provider_id="S1", owner_org_id="S1", starts_on=first,
                    ends_on=first + timedelta(days=days - 1),
                    sessions=[SessionPlan(n + 1, first + timedelta(days=n), Decimal(4)) for n in range(days)])
            elif kind == "reschedule":  # a session to another day of its programme (refused once held)
                from domain.ids import programme_uuid

                programme = app.repository.get(programme_uuid(code))
                span = (programme.ends_on - programme.starts_on).days
                day = programme.starts_on + timedelta(days=rng.randint(0, span))
                app.reschedule_session(ADMIN, code, rng.randint(1, 3), day, "改期")
            elif kind == "prior":  # earlier hours over the years of the cycle, sometimes refused (breakdown, year)
                hours = Decimal(rng.randint(1, 240)) / 2
                half = int(hours) // 2
                result = app.record_prior_hours(
                    rng.choice([ADMIN, COUNTY_SUP]), teacher_no, rng.choice([2021, 2022, 2023, 2024, 2024, 2025]),
                    hours, "旧平台", [{"name": "证书.pdf", "sha256": "c" * 64}], "历史学时补录",
                    self_selected=rng.choice([None, Decimal(rng.randint(0, half))]),
                    school_based=rng.choice([None, Decimal(rng.randint(0, half)), hours + 1]),
                    concentrated=rng.choice([None, Decimal(0), hours, Decimal(90) if hours >= 90 else None]))
                prior.append((teacher_no, str(result.body["record_id"])))
            elif kind == "prior_revoke":
                if not prior:
                    continue
                owner, record_id = rng.choice(prior)
                app.revoke_prior_hours(ADMIN, owner, record_id, "证书不实")
            elif kind == "correct":  # a name, a hire date, or both (unchanged ones are refused)
                hired = START - timedelta(days=rng.randint(0, 4000)) if rng.random() < 0.5 else None
                app.correct_teacher(ADMIN, teacher_no, rng.choice([None, f"更正{teacher_no}"]), hired, "登记有误")
            elif kind == "depart":  # from a day of the year so far: the year's figures lose the teacher
                today = app.policy.local_date(clock.now)  # (two teachers only: the others keep the runs busy)
                app.record_departure(ADMIN, rng.choice(["A003", "C002"]), rng.choice(list(DepartureKind)),
                                     today - timedelta(days=rng.randint(0, 120)), "离职")
            elif kind == "withdraw":  # before the programme starts; the teacher may enrol again
                app.withdraw_enrolment(ADMIN, code, teacher_no, "工作冲突")
                enrolled[code] = [t for t in enrolled[code] if t != teacher_no]
            elif kind == "cancel":  # a session not yet held; never the last one
                app.cancel_session(ADMIN, code, rng.randint(1, 3), "讲师缺席")
            accepted += 1
        except DomainError:
            pass
        if catch_up_every and n % catch_up_every == 0:
            app.read_model.catch_up(page=rng.randint(1, 50))
    return accepted


def app_kind_school():  # type: ignore[no-untyped-def]
    from domain.vocabulary import OrgKind

    return OrgKind.SCHOOL
