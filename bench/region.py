"""A synthetic region for benchmarks: N teachers with a year of programmes, built through the
domain aggregates (every rule checked) and saved in large batches."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from domain.actor import Actor
from domain.programme import Programme
from domain.rules.programme_definition import SessionPlan
from domain.teacher import Teacher
from domain.vocabulary import AssessmentResult, Form, Level, OrgKind, Role, Selection
from service.app import TrainRec

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("bench", Role.ADMIN)
PROVIDER = Actor("bench-provider", Role.PROVIDER, org_id="BP1")
YEAR = 2025
TEACHERS_PER_SCHOOL = 50
SCHOOLS_PER_TOWN = 20


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


@dataclass
class Region:
    teachers: list[str]
    schools: list[str]
    towns: list[str]
    county: str
    programmes: list[str]


def teacher_no(i: int) -> str:
    return f"B{i:07d}"


def build_orgs(app: TrainRec, n: int) -> Region:
    schools = max(1, n // TEACHERS_PER_SCHOOL)
    towns = max(1, schools // SCHOOLS_PER_TOWN)
    app.put_org(ADMIN, "BC", "基准县", OrgKind.COUNTY, None)
    app.put_org(ADMIN, "BP1", "基准进修学校", OrgKind.PROVIDER, "BC")
    town_ids = [f"BT{t:03d}" for t in range(towns)]
    for t, town in enumerate(town_ids):
        app.put_org(ADMIN, town, f"第{t + 1}镇", OrgKind.TOWN, "BC")
    school_ids = [f"BS{s:05d}" for s in range(schools)]
    for s, school in enumerate(school_ids):
        app.put_org(ADMIN, school, f"第{s + 1}小学", OrgKind.SCHOOL, town_ids[s % towns])
    return Region([teacher_no(i) for i in range(n)], school_ids, town_ids, "BC", [])


def define_programmes(app: TrainRec, count: int) -> list[Programme]:
    """`count` county programmes spread over the year, each of 3 sessions."""
    programmes = []
    for p in range(count):
        starts = date(YEAR, 1, 6) + timedelta(days=(340 * p) // count)
        form = (Form.CONCENTRATED, Form.ONLINE, Form.WORKSHOP, Form.OUTREACH)[p % 4]
        hours = Decimal(40) if form is Form.CONCENTRATED else Decimal(8)
        sessions = [SessionPlan(i + 1, starts + timedelta(days=i), hours / 4 if i else hours / 2) for i in range(3)]
        programme = Programme.define(
            code=f"BP{p:04d}", title=f"基准培训{p}", level=Level.COUNTY, form=form,
            selection=Selection.SELF_SELECTED if p % 3 else Selection.MANDATED, school_based_content=None,
            hours=hours, provider_id="BP1", owner_org_id="BC", starts_on=starts, ends_on=starts + timedelta(days=2),
            sessions=sessions, capacity=None, actor=ADMIN, now=at(date(YEAR, 1, 2)),
        )
        programmes.append(programme)
    app.save(*programmes)
    return programmes


def teacher_year(
    app: TrainRec, number: str, school: str, programmes: list[Programme], rng: random.Random
) -> Teacher:
    """One teacher's year: registered, enrolled in ~7 programmes, attended, assessed, evaluated, credited."""
    policy = app.policy
    teacher = Teacher.register(number, f"教师{number[-4:]}", school, date(2015, 9, 1), ADMIN, at(date(YEAR, 1, 2)))
    chosen = sorted(rng.sample(range(len(programmes)), k=min(7, len(programmes))))
    for index in chosen:
        programme = programmes[index]
        facts = programme.facts()
        teacher.enrol(facts, policy, ADMIN, at(programme.starts_on - timedelta(days=3)))
        for session in programme.sessions:
            teacher.record_attendance(programme.code, session["no"], rng.random() > 0.05, PROVIDER,
                                      at(session["on"], 18))
        ended = programme.ends_on + timedelta(days=1)
        teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, policy, PROVIDER, at(ended))
        teacher.award_credit(f"C-{number}-{index}", programme.code, programme.hours, policy, PROVIDER, at(ended, 11))
        teacher.evaluate(programme.code, 5, 4, 4, None, policy, Actor(number, Role.TEACHER, teacher_no=number),
                         at(ended, 20))
    return teacher


def teacher_batches(
    app: TrainRec, region: Region, programmes: list[Programme], batch: int, seed: int = 1
) -> Iterator[list[Teacher]]:
    rng = random.Random(seed)
    current: list[Teacher] = []
    for i, number in enumerate(region.teachers):
        current.append(teacher_year(app, number, region.schools[i % len(region.schools)], programmes, rng))
        if len(current) >= batch:
            yield current
            current = []
    if current:
        yield current


def load(app: TrainRec, n: int, progress: Callable[[int, int], None] | None = None,
         batch: int = 20) -> tuple[Region, int, float]:
    """Build and save the region; returns it, the events saved and the seconds spent saving."""
    import time as clock

    region = build_orgs(app, n)
    programmes = define_programmes(app, 40)
    region.programmes = [p.code for p in programmes]
    saved = 0
    spent = 0.0
    for teachers in teacher_batches(app, region, programmes, batch):
        started = clock.perf_counter()
        recordings = app.save(*teachers)
        spent += clock.perf_counter() - started
        saved += len(recordings)
        if progress is not None:
            progress(saved, n * 50)
    return region, saved, spent


def enrolment_file(app: TrainRec, path: Path, teachers: list[str], programmes: int = 20) -> int:
    """Open `programmes` county programmes (starting in 60 days, by the real clock: `trainrec import`
    runs on it) and write an enrolment sheet as a county office would, one teacher per row, in
    Chinese headers. Returns the number of rows."""
    today = datetime.now(tz=SHANGHAI).date()
    starts = today + timedelta(days=60)
    defined = []
    for p in range(programmes):
        sessions = [SessionPlan(1, starts + timedelta(days=p % 10), Decimal(8))]
        defined.append(Programme.define(
            code=f"BI{p:03d}", title=f"导入培训{p}", level=Level.COUNTY, form=Form.WORKSHOP,
            selection=Selection.MANDATED, school_based_content=None, hours=Decimal(8), provider_id="BP1",
            owner_org_id="BC", starts_on=sessions[0].on, ends_on=sessions[0].on, sessions=sessions, capacity=None,
            actor=ADMIN, now=datetime.now(tz=UTC),
        ))
    app.save(*defined)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["项目编号", "工号"])
        for i, number in enumerate(teachers):
            writer.writerow([f"BI{i % programmes:03d}", number])
    return len(teachers)


def sample(values: list[Any], k: int, seed: int = 3) -> list[Any]:
    return random.Random(seed).sample(values, min(k, len(values)))
