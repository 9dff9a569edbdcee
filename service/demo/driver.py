"""A demo county (示范县) with a year and a bit of training records, loaded through the commands.

`load_demo` drives an empty `TrainRec` exactly as its users would: an admin sets up the org tree,
schools register their staff, providers define and run programmes, the county supervisor approves
校本 programmes, revokes a credit and resolves disputes, teachers enrol themselves and evaluate.

The county adopts trainrec mid-cycle (cycle 2021–2025), as a real one would (issue 20): in January
2025 the county supervisor records the 2021–2024 hours (历史学时) certified on the earlier platform
for about 85 % of the teachers, one record a year with its certificate's sha256, so the 2025 cycle
figure tells teachers on track from those behind; a school enters its autumn-2024 校本 programme,
run on paper before trainrec, back-dated with reasons (补录: enrolments, sheets, assessments,
credits), and a provider sends one attendance sheet 40 days late with its reason. A misspelt name
is corrected, a teacher retires at the end of July 2026, a school withdraws a teacher from a
programme before it starts, a provider reschedules one session and cancels another.

Nothing is written to the event store except through the service commands, so the demo obeys (and
shows) every rule: deadlines, gating, the two approvals of an absence, scopes.

The clock moves through calendar 2025 and 2026 in Asia/Shanghai time, one command at a time, in the
order things happen; the load ends on 2026-11-23 10:00, with the autumn 2026 programmes under way.
Randomness comes from `random.Random(seed)` only, so one seed always gives the same store, byte
for byte: for the duration of the load, credit and dispute ids are drawn from the seed too
(`_seeded_ids`), and the app runs in single-writer mode (`TrainRec.single_writer`: cached aggregates
without deep copies) so the load takes seconds, not minutes; both are put back afterwards.

    clock = DemoClock()
    app = TrainRec(storage, clock=clock)
    summary = load_demo(app, clock)
"""


from __future__ import annotations

import hashlib
import heapq
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from domain.actor import Actor
from domain.errors import DomainError
from domain.rules.programme_definition import SessionPlan
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DepartureKind,
    DisputeDecision,
    Form,
    Level,
    OrgKind,
    SchoolBasedContent,
    Selection,
)
from service.app import TrainRec
from service.demo.calendar import DEMO_NOW, DEMO_START, DemoClock, every, sessions, weekdays
from service.demo.names import COMMENTS, COMPOUND_SURNAMES, ELECTIVE_TOPICS, FEMALE_GIVEN, MALE_GIVEN, SURNAMES
from service.demo.orgs import (
    ADMIN,
    COUNTY_ID,
    COUNTY_NAME,
    COUNTY_SUPERVISOR,
    ELECTIVE_REJECTED,
    ELECTIVE_REVISED,
    LATE_SCHOOL,
    PRIOR_SOURCE,
    PROVIDERS,
    SCHOOLS,
    SPLIT_ELECTIVES_FROM,
    TOWNS,
    TRANSFER_FROM,
    TRANSFER_TO,
    provider_actor,
    school_admin,
    teacher_actor,
)
from service.demo.world import Plan, School, Staff, mandated, self_selected

MIN_TEACHERS = 40

Progress = Callable[[str, int, int], None]

# Refusals the demo meets on purpose and records nothing for (the service's own answer).
EXPECTED_REFUSALS = frozenset({"evaluation_pending", "programme_full"})

# A character of a given name and the homophone it is misspelt as, once, at registration.
MISSPELLINGS = {"婷": "亭", "琳": "林", "静": "净", "丽": "莉", "敏": "民", "燕": "艳", "伟": "玮", "军": "君",
                "华": "化", "涛": "滔", "杰": "洁", "磊": "垒", "芳": "方", "娟": "鹃", "霞": "侠", "明": "铭"}
# (programme, session) → (new day, the day the provider moves it, reason)
RESCHEDULED = {
    ("SX2025-01", 3): (date(2025, 6, 7), date(2025, 5, 20),
                       "原定活动日与全市初三模拟考试冲突,经与各校协商,调整至下周六举行。"),
}
# (programme, session) → (the day the provider cancels it, reason)
CANCELLED = {
    ("XP2026-02", 2): (date(2026, 10, 19), "主讲专家临时承担省级教研任务,第2次活动取消,不再补开,本项目学时相应核减。"),
}
# (programme, session) → (days after the session the sheet is sent, late reason)
LATE_SHEETS = {
    ("XP2025-03", 2): (40, "工作坊第2次活动的纸质签到表由承办学校保管,交回进修学校时延误,现据签到表原件补录。"),
}
PRIOR_REASON = "启用本平台前(2021—2024年度)已认定的继续教育学时,据原平台导出的年度学时证明录入,计入本周期。"



@dataclass(frozen=True)
class DemoSummary:
    """What was loaded, and ids worth quoting in examples."""

    orgs: int
    teachers: int
    programmes: int
    events: int
    county_id: str
    school_id: str
    teacher_no: str  # a teacher with several valid credits
    programme_code: str  # a ≥ 90 h concentrated programme with a leave and a late assessment
    open_dispute_id: str
    open_dispute_teacher_no: str
    resolved_dispute_id: str
    resolved_dispute_teacher_no: str
    revoked_credit: tuple[str, str]  # (teacher_no, credit_id)
    leave: tuple[str, str]  # (programme code, teacher_no)
    substitution: tuple[str, str, str]  # (programme code, absentee, substitute)
    transfer: tuple[str, str, str]  # (teacher_no, from school, to school)
    programme_codes: tuple[str, ...]
    refusals: tuple[tuple[str, int], ...]  # refusals met on purpose, by code
    # the county adopting trainrec mid-cycle (issue 20): earlier hours, late entries, lifecycle
    prior_hours_teachers: int  # teachers with earlier hours (历史学时) for 2021–2024
    prior_hours_records: int
    late_programme: tuple[str, str, int]  # (code, school, trainees): autumn 2024, entered in January 2025
    late_sheet: tuple[str, int]  # (programme code, session no): a sheet sent 40 days late
    correction: tuple[str, str, str]  # (teacher_no, name as misspelt, name corrected)
    retirement: tuple[str, str, str]  # (teacher_no, school, effective date)
    withdrawal: tuple[str, str]  # (programme code, teacher_no): withdrawn before it started
    rescheduled: tuple[str, int, str, str]  # (programme code, session no, from, to)
    cancelled: tuple[str, int]  # (programme code, session no)



def _sha256(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@contextmanager
def _seeded_ids(app: TrainRec, rng: random.Random) -> Iterator[None]:
    """Credit and dispute ids come from the app's id factory; during the load they are drawn from
    the seeded generator instead, so the same seed gives the same ids."""

    def seeded(prefix: str) -> str:
        return f"{prefix}-{rng.getrandbits(64):016x}"

    original = app.new_id
    app.new_id = seeded
    try:
        yield
    finally:
        app.new_id = original


# --- the loader --------------------------------------------------------------------------------
class _Demo:
    def __init__(self, app: TrainRec, clock: DemoClock, seed: int, teachers: int, progress: Progress | None) -> None:
        self.app = app
        self.clock = clock
        self.rng = random.Random(seed)  # noqa: S311 - a demo, not cryptography
        self.id_rng = random.Random(seed * 1_000_003 + 17)  # noqa: S311
        self.size = teachers
        self.progress = progress
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.schools: dict[str, School] = {}
        self.teachers: dict[str, Staff] = {}
        self.new_hires: list[str] = []
        self.plans: dict[str, Plan] = {}
        self.defined: list[str] = []
        self.orgs = 0
        self.enrolled: dict[str, list[str]] = defaultdict(list)
        self.excused: dict[str, set[str]] = defaultdict(set)
        self.noshow: dict[str, set[str]] = defaultdict(set)
        self.marks: dict[str, dict[str, dict[int, bool]]] = defaultdict(dict)
        self.forced_absent: dict[tuple[str, int], str] = {}
        self.protected: set[str] = set()
        self.credits: dict[tuple[str, str], str] = {}  # (teacher_no, code) → valid credit id
        self.passed: set[tuple[str, str]] = set()  # (teacher_no, code) assessed with a passing result
        self.evaluated: set[tuple[str, str]] = set()
        self.unevaluated: dict[str, dict[str, date]] = defaultdict(dict)  # assessed, not yet evaluated
        self.refused: Counter[str] = Counter()
        # the special cases, filled in as they happen
        self.dispute_plan: dict[str, str] = {}  # code → "resolve" or "open"
        self.disputes: dict[str, tuple[str, str]] = {}  # "resolve"/"open" → (teacher_no, dispute_id)
        self.revoked: tuple[str, str] | None = None
        self.leave: tuple[str, str] | None = None
        self.substitution: tuple[str, str, str] | None = None
        self.transfer: tuple[str, str, str] | None = None
        # the county adopting trainrec mid-cycle
        self.prior_teachers: set[str] = set()
        self.prior_records = 0
        self.late_programme: tuple[str, str, int] | None = None
        self.misspelt: dict[str, str] = {}  # teacher_no → the name as first (wrongly) registered
        self.correction: tuple[str, str, str] | None = None
        self.retirement: tuple[str, str, str] | None = None
        self.departed: set[str] = set()
        self.withdrawal: tuple[str, str] | None = None
        self.cancelled: set[tuple[str, int]] = set(CANCELLED)
        self.rescheduled: tuple[str, int, str, str] | None = None
        self.cancelled_done: tuple[str, int] | None = None

    # --- scheduling ------------------------------------------------------------------------
    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        if moment < self.clock.local:
            msg = f"demo bug: scheduling {moment} before now ({self.clock.local})"
            raise RuntimeError(msg)
        heapq.heappush(self.queue, (moment, next(self.seq), action))

    def on(self, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute)) + timedelta(seconds=second)

    def run(self, until: datetime) -> None:
        total = (until.date() - DEMO_START).days
        last_day: date | None = None
        while self.queue and self.queue[0][0] <= until:
            moment, _, action = heapq.heappop(self.queue)
            self.clock.set_local(moment)
            if moment.date() != last_day:
                last_day = moment.date()
                self.report("calendar", (last_day - DEMO_START).days, total)
            action()
        self.queue.clear()  # what would happen after "now" has not happened yet
        if last_day is None or (last_day - DEMO_START).days < total:
            self.report("calendar", total, total)

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    # --- set-up ------------------------------------------------------------------------------
    def setup(self) -> None:
        self.clock.set(DEMO_START, 8)
        self.put_orgs()
        self.make_teachers()
        self.register_initial_staff()

    def put_orgs(self) -> None:
        rows: list[tuple[str, str, OrgKind, str | None]] = [(COUNTY_ID, COUNTY_NAME, OrgKind.COUNTY, None)]
        rows += [(tid, name, OrgKind.TOWN, COUNTY_ID) for tid, name, _ in TOWNS]
        rows += [(sid, name, OrgKind.SCHOOL, town) for sid, name, town, _, _ in SCHOOLS]
        rows += [(pid, name, OrgKind.PROVIDER, parent) for pid, name, parent in PROVIDERS]
        start = self.clock.local
        for i, (org_id, name, kind, parent) in enumerate(rows):
            self.clock.set_local(start + timedelta(seconds=30 * i))
            if self.app.put_org(ADMIN, org_id, name, kind, parent).status == 201:
                self.orgs += 1
            self.report("orgs", i + 1, len(rows))
        rural = {tid: is_rural for tid, _, is_rural in TOWNS}
        for sid, school_name, town, school_kind, weight in SCHOOLS:
            keen = self.rng.uniform(0.2, 0.65) if rural[town] else self.rng.uniform(0.75, 1.2)
            self.schools[sid] = School(sid, school_name, town, school_kind, rural[town], weight, keen)

    def make_teachers(self) -> None:
        hires = max(1, round(self.size * 0.03))
        initial = self.size - hires
        per_school = self.spread(initial)
        numbers = sorted(self.rng.sample(range(100_000, 1_000_000), self.size))
        names: set[str] = set()
        index = 0
        for sid, count in per_school.items():
            for _ in range(count):
                self.add_teacher(f"T{numbers[index]:06d}", sid, self.hired_on(), names)
                index += 1
        for _ in range(hires):
            sid = self.rng.choices(list(self.schools), weights=[s.weight for s in self.schools.values()])[0]
            no = f"T{numbers[index]:06d}"
            self.add_teacher(no, sid, date(2025, 8, self.rng.randint(4, 8)), names)
            self.new_hires.append(no)
            index += 1
        active = [t for t in self.teachers.values() if t.no not in self.new_hires]
        for teacher in self.rng.sample(active, max(1, round(self.size * 0.015))):
            teacher.inactive = True
        self.misspell_one(active)

    def misspell_one(self, staff: list[Staff]) -> None:
        """One name is misspelt at registration (a character for a homophone); the school corrects it."""
        for teacher in sorted(staff, key=lambda t: t.no):
            given = teacher.name[1:]
            wrong = next((c for c in given if c in MISSPELLINGS), None)
            school = self.schools[teacher.school_id]
            if wrong is not None and not teacher.inactive and not school.rural and teacher.school_id != LATE_SCHOOL:
                self.misspelt[teacher.no] = teacher.name[0] + given.replace(wrong, MISSPELLINGS[wrong], 1)
                return

    def spread(self, total: int) -> dict[str, int]:
        """Staff per school in proportion to its size, at least two each (largest remainder)."""
        floor = 2 if total >= 2 * len(SCHOOLS) else 1
        rest = total - floor * len(SCHOOLS)
        weights = sum(s.weight for s in self.schools.values())
        shares = {sid: rest * s.weight / weights for sid, s in self.schools.items()}
        counts = {sid: floor + int(share) for sid, share in shares.items()}
        left = total - sum(counts.values())
        for sid in sorted(shares, key=lambda k: (int(shares[k]) - shares[k], k))[:left]:
            counts[sid] += 1
        return counts

    def hired_on(self) -> date | None:
        if self.rng.random() < 0.01:
            return None  # an old paper record without the date
        year = self.rng.choices(range(1990, 2025), weights=[1 + (y - 1990) // 5 for y in range(1990, 2025)])[0]
        return date(year, 8, self.rng.randint(20, 31))

    def add_teacher(self, no: str, school_id: str, hired_on: date | None, names: set[str]) -> None:
        name = self.person_name()
        for _ in range(20):
            if name not in names:
                break
            name = self.person_name()
        names.add(name)
        roll = self.rng.random()
        evaluator = "prompt" if roll < 0.93 else "late" if roll < 0.985 else "never"
        self.teachers[no] = Staff(
            no=no,
            name=name,
            school_id=school_id,
            hired_on=hired_on,
            activity=self.rng.uniform(0.5, 1.5),
            absence_factor=5.0 if self.rng.random() < 0.06 else 1.0,
            evaluator=evaluator,
        )

    def person_name(self) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.012 else rng.choice(SURNAMES)
        pool = FEMALE_GIVEN if rng.random() < 0.68 else MALE_GIVEN
        single = [g for g in pool if len(g) == 1]
        double = [g for g in pool if len(g) == 2]
        given = rng.choice(single) if rng.random() < 0.3 else rng.choice(double)
        return surname + given

    def register_initial_staff(self) -> None:
        staff = [t for t in self.teachers.values() if t.no not in self.new_hires]
        start = datetime.combine(DEMO_START, time(9))
        step = min(20.0, 5 * 3600 / max(1, len(staff)))
        for i, teacher in enumerate(staff):
            self.clock.set_local(start + timedelta(seconds=int(step * i)))
            self.register(teacher)
            if i % 50 == 0 or i + 1 == len(staff):
                self.report("teachers", i + 1, len(staff))

    def register(self, teacher: Staff) -> None:
        name = self.misspelt.get(teacher.no, teacher.name)
        self.app.register_teacher(school_admin(teacher.school_id), teacher.no, name, teacher.school_id,
                                  teacher.hired_on)
        teacher.registered = True

    # --- who is where --------------------------------------------------------------------------
    def staff_of(self, school_id: str) -> list[Staff]:
        """Registered, active staff of a school now, by teacher number."""
        return sorted(
            (t for t in self.teachers.values() if t.school_id == school_id and t.registered and not t.inactive),
            key=lambda t: t.no,
        )

    def participants(self, code: str) -> list[str]:
        return sorted(n for n in self.enrolled[code] if n not in self.excused[code])

    def blocked(self, teacher_no: str, starts_on: date) -> bool:
        """Would gating (R6, docs/domain.md) refuse this teacher for a programme starting on `starts_on`?"""
        term = self.app.policy.term_of(starts_on)
        return any(self.app.policy.term_of(ends) < term for ends in self.unevaluated[teacher_no].values())

    # --- the programmes ------------------------------------------------------------------------
    def catalogue(self) -> list[Plan]:
        c, n = COUNTY_ID, self.size
        d25 = partial(date, 2025)
        d26 = partial(date, 2026)
        plans = [
            Plan("XP2025-01", "2025年寒假中小学教师读书研修(网络)", Level.COUNTY, Form.ONLINE,
                  Selection.SELF_SELECTED, "P01", c, sessions(every(d25(1, 6), 5, 3), "4"),
                  defined_on=d25(1, 2), enrol_on=d25(1, 5), audience=self_selected(0.18), noshow_rate=0.04),
            Plan("XP2025-02", "2025年师德师风专题培训(网络)", Level.COUNTY, Form.ONLINE, Selection.MANDATED,
                  "P01", c, sessions(every(d25(3, 3), 4, 7), "3"), defined_on=d25(2, 10), enrol_on=d25(2, 24),
                  audience=mandated(1.0), noshow_rate=0.005),
            Plan("XP2025-03", "课堂教学技能提升工作坊", Level.COUNTY, Form.WORKSHOP, Selection.SELF_SELECTED,
                  "P01", c, sessions([d25(3, 15), d25(4, 12), d25(5, 17), d25(6, 14)], "6"),
                  defined_on=d25(2, 17), enrol_on=d25(3, 14), audience=self_selected(0.2),
                  capacity=max(12, round(n * 0.12))),
            Plan("GP2025-01", "国培计划(2025)——中小学骨干教师网络研修", Level.NATIONAL, Form.ONLINE,
                  Selection.SELF_SELECTED, "P02", c, sessions(every(d25(3, 10), 10, 7), "5"),
                  defined_on=d25(2, 14), enrol_on=d25(3, 9), audience=self_selected(0.26), noshow_rate=0.03),
            Plan("GP2025-02", "国培计划(2025)——乡村教师访名校跟岗研修", Level.NATIONAL, Form.SHADOWING,
                  Selection.MANDATED, "P02", c, sessions(weekdays(d25(4, 14), 10), "6"),
                  defined_on=d25(3, 10), enrol_on=d25(4, 3), audience=mandated(0.06, rural_only=True),
                  capacity=max(4, round(n * 0.05)), minimum=2, absence_rate=0.01, noshow_rate=0.0),
            Plan("SX2025-01", "市级初中学科教研工作坊", Level.CITY, Form.WORKSHOP, Selection.SELF_SELECTED,
                  "P04", c, sessions([d25(4, 19), d25(5, 10), d25(5, 31), d25(6, 21)], "6"),
                  defined_on=d25(3, 20), enrol_on=d25(4, 18), audience=self_selected(0.02, middle=0.32)),
            Plan("SP2025-01", "省培计划(2025)——新课标学科教学能力提升集中研修", Level.PROVINCIAL,
                  Form.CONCENTRATED, Selection.MANDATED, "P03", c, sessions(weekdays(d25(7, 7), 12), "8"),
                  defined_on=d25(5, 20), enrol_on=d25(6, 30), audience=mandated(0.15), minimum=3,
                  absence_rate=0.015, noshow_rate=0.0),
            Plan("XP2025-04", "2025年新入职教师岗前培训", Level.COUNTY, Form.CONCENTRATED, Selection.MANDATED,
                  "P01", c, sessions(weekdays(d25(8, 18), 15), "8"), defined_on=d25(7, 15),
                  enrol_on=d25(8, 12), audience=mandated(1.0, hired_from=d25(1, 1)), absence_rate=0.01,
                  noshow_rate=0.0),
            Plan("SP2025-03", "省培计划(2025)——信息技术应用能力提升工程2.0", Level.PROVINCIAL, Form.ONLINE,
                  Selection.SELF_SELECTED, "P03", c,
                  sessions(every(d25(9, 1), 8, 7, skip=[d25(10, 6)]), "5"), defined_on=d25(8, 1),
                  enrol_on=d25(8, 31), audience=self_selected(0.24), noshow_rate=0.03),
            Plan("XP2025-05", "中小学心理健康教育专题研修(网络)", Level.COUNTY, Form.ONLINE, Selection.SELF_SELECTED,
                  "P01", c, sessions(every(d25(9, 15), 6, 7, skip=[d25(10, 6)]), "5"), defined_on=d25(8, 20),
                  enrol_on=d25(9, 14), audience=self_selected(0.22), noshow_rate=0.03),
            Plan("SP2025-02", "省培计划(2025)——乡村学校班主任能力提升研修", Level.PROVINCIAL,
                  Form.CONCENTRATED, Selection.SELF_SELECTED, "P03", c,
                  sessions(weekdays(d25(10, 20), 12), "7.5"), defined_on=d25(9, 1), enrol_on=d25(10, 19),
                  audience=self_selected(0.08, rural=0.18), capacity=max(6, round(n * 0.1)), absence_rate=0.015),
            Plan("XP2025-06", "送教下乡:农村小学课堂教学诊断与改进", Level.COUNTY, Form.OUTREACH,
                  Selection.MANDATED, "P01", c, sessions([d25(10, 15), d25(10, 16)], "6"),
                  defined_on=d25(9, 10), enrol_on=d25(10, 9), audience=mandated(0.35, rural_only=True)),
            Plan("SX2025-02", "市级名师送教下乡活动", Level.CITY, Form.OUTREACH, Selection.MANDATED, "P04", c,
                  sessions([d25(11, 12), d25(11, 13)], "6"), defined_on=d25(10, 10), enrol_on=d25(11, 5),
                  audience=mandated(0.25, rural_only=True)),
            Plan("XP2025-07", "班主任工作坊:班级管理与家校共育", Level.COUNTY, Form.WORKSHOP,
                  Selection.SELF_SELECTED, "P01", c, sessions([d25(10, 25), d25(11, 22), d25(12, 13)], "6"),
                  defined_on=d25(9, 20), enrol_on=d25(10, 24), audience=self_selected(0.16)),
            # 2026, up to "now" (2026-11-23): some programmes still running, one still enrolling
            Plan("XP2026-01", "2026年师德师风专题培训(网络)", Level.COUNTY, Form.ONLINE, Selection.MANDATED,
                  "P01", c, sessions(every(d26(3, 2), 4, 7), "3"), defined_on=d26(2, 9), enrol_on=d26(2, 23),
                  audience=mandated(1.0), noshow_rate=0.005),
            Plan("GP2026-01", "国培计划(2026)——中小学教师数字素养提升网络研修", Level.NATIONAL, Form.ONLINE,
                  Selection.SELF_SELECTED, "P02", c, sessions(every(d26(3, 9), 10, 7), "5"),
                  defined_on=d26(2, 13), enrol_on=d26(3, 8), audience=self_selected(0.26), noshow_rate=0.03),
            Plan("SP2026-01", "省培计划(2026)——学科核心素养导向的教学设计集中研修", Level.PROVINCIAL,
                  Form.CONCENTRATED, Selection.MANDATED, "P03", c, sessions(weekdays(d26(7, 6), 12), "8"),
                  defined_on=d26(5, 18), enrol_on=d26(6, 29), audience=mandated(0.13), minimum=3,
                  absence_rate=0.015, noshow_rate=0.0),
            Plan("XP2026-02", "县级学科带头人课例研修工作坊", Level.COUNTY, Form.WORKSHOP, Selection.SELF_SELECTED,
                  "P01", c, sessions([d26(10, 10), d26(10, 24), d26(11, 14)], "6"), defined_on=d26(9, 7),
                  enrol_on=d26(10, 9), audience=self_selected(0.18)),
            Plan("XP2026-03", "2026年冬季中小学教师学科教学集中研修", Level.COUNTY, Form.CONCENTRATED,
                  Selection.SELF_SELECTED, "P01", c, sessions(weekdays(d26(12, 7), 12), "7.5"),
                  defined_on=d26(11, 2), enrol_on=d26(12, 6), audience=self_selected(0.1),
                  capacity=max(8, round(n * 0.08))),
        ]
        for sid, school in self.schools.items():
            plans += self.school_plans(sid, school)
        return plans

    def school_plans(self, sid: str, school: School) -> list[Plan]:
        short = school.name
        d25 = partial(date, 2025)
        d26 = partial(date, 2026)
        staff = sum(1 for t in self.teachers.values() if t.school_id == sid)
        topics = self.rng.sample(ELECTIVE_TOPICS, 3)
        plans = [
            Plan(f"XB2025-{sid}-D", f"{short}2025年校本研修(指定内容):师德规范与依法执教", Level.SCHOOL,
                  Form.SCHOOL_BASED, Selection.SCHOOL_BASED, sid, sid, sessions(every(d25(3, 5), 2, 28), "4"),
                  defined_on=d25(2, 12), enrol_on=d25(2, 26), content=SchoolBasedContent.DESIGNATED,
                  absence_rate=0.015, noshow_rate=0.0),
            Plan(f"XB2026-{sid}-D", f"{short}2026年校本研修(指定内容):校园安全与心理健康", Level.SCHOOL,
                  Form.SCHOOL_BASED, Selection.SCHOOL_BASED, sid, sid, sessions(every(d26(3, 4), 2, 28), "4"),
                  defined_on=d26(2, 11), enrol_on=d26(2, 25), content=SchoolBasedContent.DESIGNATED,
                  absence_rate=0.015, noshow_rate=0.0),
            Plan(f"XB2026-{sid}-E1", f"{short}2026年校本研修(自选内容):{topics[2]}", Level.SCHOOL,
                  Form.SCHOOL_BASED, Selection.SCHOOL_BASED, sid, sid, sessions(every(d26(9, 16), 4, 28), "4"),
                  defined_on=d26(8, 24), enrol_on=d26(9, 2), content=SchoolBasedContent.ELECTIVE,
                  absence_rate=0.015, noshow_rate=0.0),
        ]
        electives = 2 if staff >= SPLIT_ELECTIVES_FROM else 1
        for k in range(electives):
            rejected = sid in (ELECTIVE_REJECTED, ELECTIVE_REVISED)
            plans.append(Plan(
                f"XB2025-{sid}-E{k + 1}", f"{short}2025年校本研修(自选内容):{topics[k]}", Level.SCHOOL,
                Form.SCHOOL_BASED, Selection.SCHOOL_BASED, sid, sid,
                sessions(every(d25(9, 10), 4, 28), "4"), defined_on=d25(8, 25), enrol_on=d25(9, 3),
                content=SchoolBasedContent.ELECTIVE, absence_rate=0.015, noshow_rate=0.0,
                decision=Decision.REJECTED if rejected else Decision.APPROVED,
                decision_reason=(
                    "研修内容与学校年度校本研修计划不一致,学时安排不合理,请修改后重新申报。"
                    if rejected else "符合年度校本研修计划,同意实施。"
                ),
            ))
        if sid == ELECTIVE_REVISED:
            plans.append(Plan(
                f"XB2025-{sid}-E1-R", f"{short}2025年校本研修(自选内容,修订):{topics[0]}", Level.SCHOOL,
                Form.SCHOOL_BASED, Selection.SCHOOL_BASED, sid, sid,
                sessions(every(d25(9, 24), 4, 28), "4"), defined_on=d25(9, 2),
                enrol_on=d25(9, 10), content=SchoolBasedContent.ELECTIVE, absence_rate=0.015, noshow_rate=0.0,
            ))
        return plans

    def schedule_programmes(self) -> None:
        school_based: dict[tuple[str, date], list[str]] = defaultdict(list)
        for plan in self.catalogue():
            self.plans[plan.code] = plan
            definer = provider_actor(plan.provider_id)
            self.at(self.on(plan.defined_on, 16, self.rng.randint(0, 59)), partial(self.define, definer, plan))
            if plan.needs_approval:
                day = plan.defined_on + timedelta(days=self.rng.randint(2, 3))
                self.at(self.on(day, 10, self.rng.randint(0, 59)), partial(self.decide, plan))
            if plan.selection is Selection.SELF_SELECTED:
                self.at(self.on(plan.defined_on + timedelta(days=1), 8), partial(self.open_window, plan))
            elif plan.selection is Selection.MANDATED:
                self.at(self.on(plan.enrol_on, 8), partial(self.send_staff, plan))
            elif plan.decision is Decision.APPROVED:
                school_based[(plan.provider_id, plan.enrol_on)].append(plan.code)
            for session in plan.sessions:
                hour = 18 if plan.selection is Selection.SCHOOL_BASED else 17
                minute = self.rng.randint(0, 59)
                key = (plan.code, session.no)
                if key in CANCELLED:
                    day, reason = CANCELLED[key]
                    self.at(self.on(day, 10), partial(self.cancel_session, plan, session.no, reason))
                    continue
                held_on = session.on
                if key in RESCHEDULED:
                    held_on, day, reason = RESCHEDULED[key]
                    self.at(self.on(day, 11), partial(self.reschedule_session, plan, session.no, held_on, reason))
                if key in LATE_SHEETS:
                    days, late_reason = LATE_SHEETS[key]
                    sheet = partial(self.sheet, plan, session.no, late_reason)
                    self.at(self.on(held_on + timedelta(days=days), 16, minute), sheet)
                    continue
                self.at(self.on(held_on, hour, minute), partial(self.sheet, plan, session.no))
            self.at(self.on(plan.ends_on, 19), partial(self.close, plan))
        for (sid, day), codes in school_based.items():
            self.at(self.on(day, 9), partial(self.enrol_school_based, sid, codes))

    # --- commands, as the people concerned would send them --------------------------------------
    def define(self, actor: Actor, plan: Plan) -> None:
        self.app.define_programme(
            actor, code=plan.code, title=plan.title, level=plan.level, form=plan.form, selection=plan.selection,
            hours=plan.hours, provider_id=plan.provider_id, owner_org_id=plan.owner_org_id,
            starts_on=plan.starts_on, ends_on=plan.ends_on, sessions=plan.sessions,
            school_based_content=plan.content, capacity=plan.capacity,
        )
        self.defined.append(plan.code)

    def decide(self, plan: Plan) -> None:
        self.app.decide_programme(COUNTY_SUPERVISOR, plan.code, plan.decision, plan.decision_reason)

    def enrol(self, actor: Actor, code: str, teacher_no: str) -> None:
        if teacher_no in self.departed:
            return
        try:
            self.app.enrol(actor, code, teacher_no)
        except DomainError as error:
            if error.code not in EXPECTED_REFUSALS:
                raise
            self.refused[error.code] += 1
            return
        self.enrolled[code].append(teacher_no)

    def open_window(self, plan: Plan) -> None:
        """Self-selected enrolment (自主选课): keen teachers enrol at some moment of the window."""
        assert plan.audience is not None
        first = self.clock.local.date()
        days = max(0, (plan.enrol_on - first).days)
        for teacher in sorted(self.teachers.values(), key=lambda t: t.no):
            if not teacher.registered or teacher.inactive:
                continue
            if self.rng.random() >= plan.audience(teacher, self.schools[teacher.school_id]):
                continue
            day = first + timedelta(days=self.rng.randint(0, days))
            moment = self.on(day, self.rng.randint(9, 22), self.rng.randint(0, 59), self.rng.randint(0, 59))
            self.at(moment, partial(self.enrol, teacher_actor(teacher.no), plan.code, teacher.no))

    def send_staff(self, plan: Plan) -> None:
        """Mandated (指令性): each school enrols the staff it sends."""
        assert plan.audience is not None
        chosen: list[Staff] = []
        for sid, school in self.schools.items():
            chosen += [t for t in self.staff_of(sid) if self.rng.random() < plan.audience(t, school)]
        if len(chosen) < plan.minimum:  # one more from each of the biggest schools, as needed
            biggest = sorted(self.schools.values(), key=lambda s: (-len(self.staff_of(s.org_id)), s.org_id))
            for school in biggest:
                extra = next((t for t in self.staff_of(school.org_id) if t not in chosen), None)
                if len(chosen) < plan.minimum and extra is not None:
                    chosen.append(extra)
        by_school: dict[str, list[Staff]] = defaultdict(list)
        for teacher in chosen:
            by_school[teacher.school_id].append(teacher)
        for i, (sid, staff) in enumerate(sorted(by_school.items())):
            start = self.on(self.clock.local.date(), 9, 10 * (i % 6)) + timedelta(hours=i // 6)
            for k, teacher in enumerate(staff):
                enrol = partial(self.enrol, school_admin(sid), plan.code, teacher.no)
                self.at(start + timedelta(seconds=40 * k), enrol)

    def enrol_school_based(self, school_id: str, codes: list[str]) -> None:
        """校本: the school enrols all its staff, each in one of its approved programmes of the term."""
        for k, teacher in enumerate(self.staff_of(school_id)):
            code = codes[0] if len(codes) == 1 else self.rng.choice(codes)
            moment = self.clock.local + timedelta(seconds=30 * k)
            self.at(moment, partial(self.enrol, school_admin(school_id), code, teacher.no))

    def sheet(self, plan: Plan, session_no: int, late_reason: str | None = None) -> None:
        """The provider's attendance sheet for one session, in one transaction (a late entry, 补录,
        with its reason when sent more than the policy's 30 days after the session)."""
        people = self.participants(plan.code)
        if not people:
            return
        if session_no == 1:
            self.first_session(plan, people)
        present: list[str] = []
        absent: list[str] = []
        forced = self.forced_absent.get((plan.code, session_no))
        for no in people:
            teacher = self.teachers[no]
            missed = no == forced or no in self.noshow[plan.code] or (
                no not in self.protected and self.rng.random() < plan.absence_rate * teacher.absence_factor
            )
            (absent if missed else present).append(no)
            self.marks[plan.code].setdefault(no, {})[session_no] = not missed
        self.app.record_attendance(provider_actor(plan.provider_id), plan.code, session_no, present, absent,
                                   late_reason=late_reason)
        if plan.code == "SP2025-01" and session_no == 1:
            late_comers = [no for no in absent if no not in self.noshow[plan.code]]
            if late_comers:  # signed in late; the provider corrects the mark the next morning
                self.at(self.on(plan.starts_on + timedelta(days=1), 8, 30), partial(self.correct, plan, late_comers[0]))

    def first_session(self, plan: Plan, people: list[str]) -> None:
        for no in people:
            if no not in self.protected and self.rng.random() < plan.noshow_rate:
                self.noshow[plan.code].add(no)
        purpose = self.dispute_plan.get(plan.code)
        if purpose is not None:  # this trainee's third session will be missing from the sheet
            candidates = [n for n in people if n not in self.protected and n not in self.noshow[plan.code]]
            if candidates:
                chosen = candidates[len(candidates) // 3]
                self.protected.add(chosen)
                self.forced_absent[(plan.code, 3)] = chosen
                self.disputes[purpose] = (chosen, "")

    def correct(self, plan: Plan, teacher_no: str) -> None:
        self.app.record_attendance(provider_actor(plan.provider_id), plan.code, 1, [teacher_no], [])
        self.marks[plan.code][teacher_no][1] = True

    def close(self, plan: Plan) -> None:
        """After the last session: the provider assesses and certifies, trainees evaluate."""
        people = self.participants(plan.code)
        if not people:
            return
        late_one = None
        if plan.code == "SP2025-01":
            late_one = next((n for n in reversed(people) if n not in self.protected), None)
        provider = provider_actor(plan.provider_id)
        assess_day = plan.ends_on + timedelta(days=self.rng.randint(1, 4))
        for k, no in enumerate(people):
            day = plan.ends_on + timedelta(days=8) if no == late_one else assess_day
            self.at(self.on(day, 10, second=25 * k), partial(self.assess, provider, plan, no))
            self.at(self.on(day, 15, second=25 * k), partial(self.certify, provider, plan, no))
            self.schedule_evaluation(plan, no)

    def assess(self, provider: Actor, plan: Plan, teacher_no: str, occurred_on: date | None = None,
               late_reason: str | None = None) -> None:
        marks = self.marks[plan.code].get(teacher_no, {})
        rate = sum(marks.values()) / len(self.held(plan))
        rng = self.rng
        if rate < 0.6:
            result, attitude, assignments = AssessmentResult.FAIL, rng.randint(1, 3), rng.randint(1, 2)
        elif teacher_no not in self.protected and rng.random() < 0.015:
            result, attitude, assignments = AssessmentResult.FAIL, rng.randint(2, 3), 1  # 作业未提交
        else:
            roll = rng.random()
            if roll < 0.2:
                result, attitude, assignments = AssessmentResult.EXCELLENT, 5, rng.randint(4, 5)
            elif roll < 0.65:
                result, attitude, assignments = AssessmentResult.GOOD, rng.randint(4, 5), 4
            else:
                result, attitude, assignments = AssessmentResult.PASS, rng.randint(3, 4), 3
        self.app.assess(provider, plan.code, teacher_no, attitude, assignments, result, occurred_on=occurred_on,
                        late_reason=late_reason)
        if result is not AssessmentResult.FAIL:
            self.passed.add((teacher_no, plan.code))
        if (teacher_no, plan.code) not in self.evaluated:
            self.unevaluated[teacher_no][plan.code] = plan.ends_on

    def held(self, plan: Plan) -> list[SessionPlan]:
        """The sessions of a plan not cancelled."""
        return [s for s in plan.sessions if (plan.code, s.no) not in self.cancelled]

    def certify(self, provider: Actor, plan: Plan, teacher_no: str, occurred_on: date | None = None,
                late_reason: str | None = None) -> None:
        """学时认定: the hours of the sessions attended, for a passing assessment."""
        if (teacher_no, plan.code) not in self.passed:
            return
        marks = self.marks[plan.code].get(teacher_no, {})
        hours = sum((s.hours for s in self.held(plan) if marks.get(s.no)), Decimal(0))
        result = self.app.award_credit(provider, plan.code, teacher_no, hours, occurred_on=occurred_on,
                                       late_reason=late_reason)
        self.credits[(teacher_no, plan.code)] = str(result.body["credit_id"])

    def schedule_evaluation(self, plan: Plan, teacher_no: str) -> None:
        teacher = self.teachers[teacher_no]
        roll = self.rng.random()
        kind = "prompt" if teacher_no in self.protected else teacher.evaluator
        if kind == "never" and roll < 0.4:
            return  # never evaluates this one
        late = (kind == "prompt" and roll < 0.03) or (kind != "prompt" and roll < 0.8)
        days = self.rng.randint(11, 30) if late else self.rng.randint(0, 9)
        moment = self.on(plan.ends_on + timedelta(days=days), self.rng.randint(19, 22), self.rng.randint(0, 59))
        self.at(moment, partial(self.evaluate, plan, teacher_no))

    def evaluate(self, plan: Plan, teacher_no: str) -> None:
        rng = self.rng
        form, instructors, management = (rng.choices((2, 3, 4, 5), weights=(1, 6, 40, 53))[0] for _ in range(3))
        comment = rng.choice(COMMENTS) if rng.random() < 0.35 else None
        self.app.evaluate(teacher_actor(teacher_no), plan.code, teacher_no, form, instructors, management, comment)
        self.evaluated.add((teacher_no, plan.code))
        self.unevaluated[teacher_no].pop(plan.code, None)

    # --- the special cases ---------------------------------------------------------------------
    def schedule_specials(self) -> None:
        self.dispute_plan = {"XP2025-02": "resolve", "XP2026-01": "open"}
        self.at(self.on(date(2025, 7, 3), 20, 15), self.request_leave)
        self.at(self.on(date(2025, 4, 8), 10), self.request_substitution)
        self.at(self.on(date(2025, 9, 1), 9), self.transfer_teacher)
        self.at(self.on(date(2025, 4, 8), 20, 30), partial(self.open_dispute, "resolve"))
        self.at(self.on(date(2025, 4, 15), 10), self.resolve_dispute)
        self.at(self.on(date(2025, 8, 11), 9), self.register_new_hires)
        self.at(self.on(date(2025, 12, 15), 10), self.revoke_credit)
        self.at(self.on(date(2026, 11, 16), 20, 40), partial(self.open_dispute, "open"))
        # the county adopting trainrec mid-cycle (issue 20)
        self.at(self.on(date(2025, 1, 6), 15), self.define_late_programme)
        self.at(self.on(date(2025, 1, 13), 9), self.record_prior_hours)
        self.at(self.on(date(2025, 3, 3), 10, 20), self.correct_name)
        self.at(self.on(date(2026, 7, 2), 10), self.withdraw_enrolment)
        self.at(self.on(date(2026, 8, 3), 10), self.record_retirement)

    def register_new_hires(self) -> None:
        for k, no in enumerate(self.new_hires):
            self.at(self.clock.local + timedelta(seconds=20 * k), partial(self.register, self.teachers[no]))

    def request_leave(self) -> None:
        """请假: a trainee of the provincial programme falls ill; the school, then the provider approve."""
        code = "SP2025-01"
        teacher_no = next((n for n in self.participants(code) if n not in self.protected), None)
        if teacher_no is None:
            return
        self.protected.add(teacher_no)
        self.app.request_absence(teacher_actor(teacher_no), code, teacher_no, AbsenceKind.LEAVE,
                                 "因病住院治疗,无法参加集中研修(附医院诊断证明)。")
        sid = self.teachers[teacher_no].school_id
        self.at(self.on(date(2025, 7, 4), 9, 30), partial(
            self.approve_absence, code, teacher_no, school_admin(sid), Approver.SCHOOL, "情况属实,同意请假。"))
        self.at(self.on(date(2025, 7, 4), 14), partial(
            self.approve_absence, code, teacher_no, provider_actor("P03"), Approver.PROVIDER, "同意。"))
        self.leave = (code, teacher_no)

    def request_substitution(self, code: str = "GP2025-02") -> None:
        """换人: the school sends another teacher to the shadowing programme in the absentee's place
        (in a county too small for that, to the provincial programme in July)."""
        starts_on = self.plans[code].starts_on
        for absentee in self.participants(code):
            if absentee in self.protected:
                continue
            sid = self.teachers[absentee].school_id
            substitute = next(
                (t.no for t in self.staff_of(sid)
                 if t.no not in self.enrolled[code] and t.no not in self.protected
                 and not self.blocked(t.no, starts_on)),
                None,
            )
            if substitute is None:
                continue
            self.protected.update({absentee, substitute})
            self.app.request_absence(school_admin(sid), code, absentee, AbsenceKind.SUBSTITUTION,
                                     "承担县级公开课任务,无法外出参加研修,改派同校教师参加。", substitute)
            today = self.clock.local.date()
            self.at(self.on(today, 16), partial(
                self.approve_absence, code, absentee, school_admin(sid), Approver.SCHOOL, "同意改派。"))
            self.at(self.on(today + timedelta(days=1), 11), partial(
                self.approve_absence, code, absentee, provider_actor(self.plans[code].provider_id),
                Approver.PROVIDER, "同意。"))
            self.substitution = (code, absentee, substitute)
            return
        if code == "GP2025-02":
            self.at(self.on(date(2025, 7, 1), 10), partial(self.request_substitution, "SP2025-01"))

    def approve_absence(self, code: str, teacher_no: str, actor: Actor, by: Approver, reason: str) -> None:
        result = self.app.decide_absence(actor, code, teacher_no, by, Decision.APPROVED, reason)
        if result.body["status"] == "approved":
            self.excused[code].add(teacher_no)
            absence = self.substitution
            if absence is not None and absence[:2] == (code, teacher_no):
                self.enrolled[code].append(absence[2])

    def transfer_teacher(self) -> None:
        """调动: a teacher moves from a town's central school to the county's experimental school."""
        source = TRANSFER_FROM if len(self.staff_of(TRANSFER_FROM)) >= 2 else TRANSFER_TO
        target = TRANSFER_TO if source == TRANSFER_FROM else TRANSFER_FROM
        teacher = next((t for t in self.staff_of(source) if t.no not in self.protected), None)
        if teacher is None:  # a small county: from any other school with someone free to move
            source = next((sid for sid in self.schools if sid != target and len(self.staff_of(sid)) >= 2
                           and any(t.no not in self.protected for t in self.staff_of(sid))), source)
            teacher = next((t for t in self.staff_of(source) if t.no not in self.protected), None)
        if teacher is None:
            return
        self.protected.add(teacher.no)
        self.app.transfer_teacher(school_admin(source), teacher.no, target, self.clock.local.date())
        teacher.school_id = target
        self.transfer = (teacher.no, source, target)

    def open_dispute(self, purpose: str) -> None:
        """申诉: a session the trainee attended is missing from the sheet, so hours are short."""
        found = self.disputes.get(purpose)
        if found is None:
            return
        teacher_no = found[0]
        code = next(c for c, p in self.dispute_plan.items() if p == purpose)
        evidence = [
            {"name": "第3次学习记录截图.png", "sha256": _sha256(teacher_no, code, "screenshot")},
            {"name": "学习平台完成证明.pdf", "sha256": _sha256(teacher_no, code, "certificate")},
        ]
        claim = f"本人已完成{self.plans[code].title}第3次学习,平台未记录,认定学时少于实际,请予核实补记。"
        result = self.app.open_dispute(teacher_actor(teacher_no), teacher_no, code, claim, evidence)
        self.disputes[purpose] = (teacher_no, str(result.body["dispute_id"]))

    def resolve_dispute(self) -> None:
        teacher_no, dispute_id = self.disputes.get("resolve", ("", ""))
        if not dispute_id:
            return
        code = "XP2025-02"
        hours = self.plans[code].hours
        result = self.app.resolve_dispute(COUNTY_SUPERVISOR, dispute_id, DisputeDecision.UPHELD,
                                          "经核对平台日志与学习截图,情况属实,按项目学时补记。", hours)
        self.credits[(teacher_no, code)] = str(result.body["credit_id"])

    def revoke_credit(self) -> None:
        """撤销: a credit earned by leaving an online course playing (挂机刷课) is revoked."""
        for code in ("XP2025-05", "SP2025-03", "XP2025-02"):
            holders = sorted(n for (n, c) in self.credits if c == code and n not in self.protected)
            if holders:
                teacher_no = holders[len(holders) // 2]
                credit_id = self.credits.pop((teacher_no, code))
                self.app.revoke_credit(COUNTY_SUPERVISOR, teacher_no, credit_id,
                                       "经平台核查,该学员网络研修学习时长系挂机刷课所得,撤销本项目学时认定。")
                self.revoked = (teacher_no, credit_id)
                return

    # --- the county adopting trainrec mid-cycle -------------------------------------------------
    def record_prior_hours(self) -> None:
        """历史学时: the county supervisor records, for most teachers, the 2021–2024 hours certified
        on the earlier platform, one record per year, each citing that year's certificate."""
        staff = [t for t in sorted(self.teachers.values(), key=lambda t: t.no)
                 if t.registered and t.no not in self.new_hires]
        start = self.clock.local
        k = 0
        for teacher in staff:
            if self.rng.random() >= 0.85:
                continue  # records still being collected from the earlier platform
            level = self.rng.uniform(52.0, 96.0)
            for year in range(2021, 2025):
                first_year = teacher.hired_on is not None and teacher.hired_on.year == year
                if teacher.hired_on is not None and teacher.hired_on.year > year:
                    continue
                amounts = self.prior_amounts(level, first_year)
                moment = start + timedelta(seconds=12 * k)
                self.at(moment, partial(self.record_prior_year, teacher.no, year, amounts))
                k += 1

    def prior_amounts(self, level: float, first_year: bool) -> tuple[Decimal, Decimal, Decimal, Decimal | None]:
        """A year's hours (50–110 h, fewer in the year of hiring), its self-selected and school-based
        parts, and now and then a concentrated programme of at least 90 h."""
        rng = self.rng
        if first_year:
            hours = Decimal(rng.randint(24, 48))
        else:
            hours = Decimal(max(50, min(110, round(level + rng.uniform(-12, 12)))))
        concentrated: Decimal | None = None
        if not first_year and rng.random() < 0.07:
            concentrated = Decimal(rng.choice((90, 96)))
            hours = max(hours, concentrated + rng.randint(4, 14))
        school_based = Decimal(min(int(hours) // 3, rng.choice((12, 16, 16, 20, 24))))
        own = Decimal(round(float(hours) * rng.uniform(0.3, 0.5)))
        own = min(own, hours - school_based)
        return hours, own, school_based, concentrated

    def record_prior_year(self, teacher_no: str, year: int,
                          amounts: tuple[Decimal, Decimal, Decimal, Decimal | None]) -> None:
        hours, own, school_based, concentrated = amounts
        evidence = [{"name": f"{year}年度继续教育学时证明({teacher_no}).pdf",
                     "sha256": _sha256(teacher_no, str(year), "prior-hours")}]
        self.app.record_prior_hours(COUNTY_SUPERVISOR, teacher_no, year, hours, PRIOR_SOURCE, evidence,
                                    PRIOR_REASON, self_selected=own, school_based=school_based,
                                    concentrated=concentrated)
        self.prior_teachers.add(teacher_no)
        self.prior_records += 1

    def define_late_programme(self) -> None:
        """补录: a school's autumn-2024 校本 programme ran on paper before trainrec; in January 2025
        the school defines it, the county approves it, and the school enters the enrolments, the
        sheets, the assessments and the credits back-dated to when they happened, with reasons."""
        school = self.schools[LATE_SCHOOL]
        topic = self.rng.choice(ELECTIVE_TOPICS)
        plan = Plan(f"XB2024-{LATE_SCHOOL}-E1", f"{school.name}2024年秋季校本研修(自选内容):{topic}", Level.SCHOOL,
                    Form.SCHOOL_BASED, Selection.SCHOOL_BASED, LATE_SCHOOL, LATE_SCHOOL,
                    sessions(every(date(2024, 9, 11), 4, 28), "4"), defined_on=date(2025, 1, 6),
                    enrol_on=date(2024, 9, 4), content=SchoolBasedContent.ELECTIVE, absence_rate=0.015,
                    decision_reason="该校本研修已于2024年秋季按年度计划实施,同意补录入平台。")
        self.plans[plan.code] = plan
        self.define(school_admin(LATE_SCHOOL), plan)
        self.at(self.on(date(2025, 1, 7), 10), partial(self.decide, plan))
        self.at(self.on(date(2025, 1, 8), 9), partial(self.enter_late_programme, plan))

    def enter_late_programme(self, plan: Plan) -> None:
        actor = school_admin(LATE_SCHOOL)
        staff = [t.no for t in self.staff_of(LATE_SCHOOL)]
        for no in staff:
            self.app.enrol(actor, plan.code, no, occurred_on=plan.enrol_on,
                           late_reason="2024年秋季校本研修在启用本平台前实施,据当时的纸质报名表补录。")
            self.enrolled[plan.code].append(no)
        self.late_programme = (plan.code, LATE_SCHOOL, len(staff))
        for session in plan.sessions:
            self.sheet(plan, session.no, f"据{session.on.month}月{session.on.day}日校本研修纸质签到表补录。")
        assessed_on = plan.ends_on + timedelta(days=2)
        certified_on = plan.ends_on + timedelta(days=4)
        for k, no in enumerate(self.participants(plan.code)):
            self.at(self.on(date(2025, 1, 9), 10, second=20 * k), partial(
                self.assess, actor, plan, no, assessed_on, "据2024年12月校本研修考核登记表补录。"))
            self.at(self.on(date(2025, 1, 9), 15, second=20 * k), partial(
                self.certify, actor, plan, no, certified_on, "据2024年12月校本研修学时认定表补录。"))
            moment = self.on(date(2025, 1, self.rng.randint(9, 12)), self.rng.randint(19, 22), self.rng.randint(0, 59))
            self.at(moment, partial(self.evaluate, plan, no))

    def correct_name(self) -> None:
        """更正: a name misspelt at registration is corrected by the school."""
        for no, wrong in self.misspelt.items():
            teacher = self.teachers[no]
            right = teacher.name
            changed = next(i for i, (a, b) in enumerate(zip(wrong, right, strict=True)) if a != b)
            self.app.correct_teacher(school_admin(teacher.school_id), no, right, None,
                                     f"注册时姓名录入有误(“{right[changed]}”误录为“{wrong[changed]}”),"
                                     "经核对身份证更正。")
            self.protected.add(no)
            self.correction = (no, wrong, right)

    def withdraw_enrolment(self) -> None:
        """撤回: before the provincial programme starts, a school withdraws a teacher it had sent."""
        code = "SP2026-01"
        teacher_no = next((n for n in self.participants(code) if n not in self.protected), None)
        if teacher_no is None:
            return
        sid = self.teachers[teacher_no].school_id
        self.app.withdraw_enrolment(school_admin(sid), code, teacher_no,
                                    "该教师被抽调参加全市中考阅卷工作,时间冲突,无法参加集中研修,学校撤回报名。")
        self.enrolled[code].remove(teacher_no)
        self.protected.add(teacher_no)
        self.withdrawal = (code, teacher_no)

    def record_retirement(self) -> None:
        """退休: a long-serving teacher retires at the end of July 2026; the school records it."""
        busy = {n for code, people in self.enrolled.items() for n in people if self.plans[code].ends_on
                >= date(2026, 7, 1)}
        candidates = [t for t in self.teachers.values()
                      if t.registered and not t.inactive and t.hired_on is not None and t.no not in self.protected
                      and t.no not in busy and not self.unevaluated[t.no]]
        if not candidates:
            return
        teacher = min(candidates, key=lambda t: (t.hired_on or date.max, t.no))
        effective_on = date(2026, 7, 31)
        self.app.record_departure(school_admin(teacher.school_id), teacher.no, DepartureKind.RETIRED, effective_on,
                                  "达到法定退休年龄,经县人社局批准,于2026年7月31日办理退休手续。")
        teacher.inactive = True
        self.departed.add(teacher.no)
        self.protected.add(teacher.no)
        self.retirement = (teacher.no, teacher.school_id, effective_on.isoformat())

    def reschedule_session(self, plan: Plan, session_no: int, on: date, reason: str) -> None:
        self.app.reschedule_session(provider_actor(plan.provider_id), plan.code, session_no, on, reason)
        self.rescheduled = (plan.code, session_no, plan.sessions[session_no - 1].on.isoformat(), on.isoformat())

    def cancel_session(self, plan: Plan, session_no: int, reason: str) -> None:
        self.app.cancel_session(provider_actor(plan.provider_id), plan.code, session_no, reason)
        self.cancelled_done = (plan.code, session_no)

    # --- the whole load --------------------------------------------------------------------------
    def load(self) -> DemoSummary:
        self.setup()
        self.schedule_programmes()
        self.schedule_specials()
        self.run(DEMO_NOW)
        self.clock.set_local(DEMO_NOW)
        return self.summary()

    def summary(self) -> DemoSummary:
        missing = [name for name, value in (
            ("revoked credit", self.revoked), ("leave", self.leave), ("substitution", self.substitution),
            ("transfer", self.transfer), ("late programme", self.late_programme), ("correction", self.correction),
            ("retirement", self.retirement), ("withdrawal", self.withdrawal), ("rescheduled session", self.rescheduled),
            ("cancelled session", self.cancelled_done),
        ) if value is None]
        missing += [f"{p} dispute" for p in ("open", "resolve") if not self.disputes.get(p, ("", ""))[1]]
        if missing:
            msg = f"the demo could not stage: {', '.join(missing)} (try more teachers or another seed)"
            raise RuntimeError(msg)
        assert self.revoked is not None
        assert self.leave is not None
        assert self.substitution is not None
        assert self.transfer is not None
        assert self.late_programme is not None
        assert self.correction is not None
        assert self.retirement is not None
        assert self.withdrawal is not None
        assert self.rescheduled is not None
        assert self.cancelled_done is not None
        per_teacher = Counter(no for (no, _) in self.credits)
        teacher_no = min(per_teacher, key=lambda no: (-per_teacher[no], no))
        return DemoSummary(
            orgs=self.orgs,
            teachers=sum(1 for t in self.teachers.values() if t.registered),
            programmes=len(self.defined),
            events=self.app.recorder.max_notification_id() or 0,
            county_id=COUNTY_ID,
            school_id=self.teachers[teacher_no].school_id,
            teacher_no=teacher_no,
            programme_code="SP2025-01",
            open_dispute_id=self.disputes["open"][1],
            open_dispute_teacher_no=self.disputes["open"][0],
            resolved_dispute_id=self.disputes["resolve"][1],
            resolved_dispute_teacher_no=self.disputes["resolve"][0],
            revoked_credit=self.revoked,
            leave=self.leave,
            substitution=self.substitution,
            transfer=self.transfer,
            programme_codes=tuple(self.defined),
            refusals=tuple(sorted(self.refused.items())),
            prior_hours_teachers=len(self.prior_teachers),
            prior_hours_records=self.prior_records,
            late_programme=self.late_programme,
            late_sheet=next(iter(LATE_SHEETS)),
            correction=self.correction,
            retirement=self.retirement,
            withdrawal=self.withdrawal,
            rescheduled=self.rescheduled,
            cancelled=self.cancelled_done,
        )


def load_demo(
    app: TrainRec,
    clock: DemoClock,
    seed: int = 2024,
    teachers: int = 600,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoSummary:
    """Load the demo county into an empty store; `clock` must be the clock `app` was built with.

    Leaves the clock at 2026-11-23 10:00 Asia/Shanghai. `progress(stage, done, total)` is called
    as the load goes ("orgs", "teachers", then "calendar" by simulated day).
    """
    if teachers < MIN_TEACHERS:
        msg = f"the demo needs at least {MIN_TEACHERS} teachers"
        raise ValueError(msg)
    if app.clock is not clock:
        msg = "build the app with the same clock: TrainRec(storage, clock=clock)"
        raise ValueError(msg)
    if app.recorder.max_notification_id():
        msg = "the demo loads into an empty store only"
        raise ValueError(msg)
    demo = _Demo(app, clock, seed, teachers, progress)
    with _seeded_ids(app, demo.id_rng), app.single_writer():
        return demo.load()
