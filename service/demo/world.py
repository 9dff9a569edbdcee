"""The world the demo keeps beside the store, to decide what happens next: schools, staff and
programme plans, and the chance that a teacher enrols."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.rules.programme_definition import SessionPlan, needs_approval
from domain.vocabulary import Decision, Form, Level, SchoolBasedContent, Selection


@dataclass
class School:
    org_id: str
    name: str
    town_id: str
    kind: str
    rural: bool
    weight: int
    engagement: float  # how keen its staff are on self-selected training


@dataclass
class Staff:
    no: str
    name: str
    school_id: str
    hired_on: date | None
    activity: float  # personal keenness
    absence_factor: float  # chronic absentees miss sessions more often
    evaluator: str  # "prompt", "late" or "never"
    inactive: bool = False  # on long sick leave: enrolled in nothing
    registered: bool = False


Audience = Callable[[Staff, School], float]


@dataclass(frozen=True)
class Plan:
    code: str
    title: str
    level: Level
    form: Form
    selection: Selection
    provider_id: str
    owner_org_id: str
    sessions: tuple[SessionPlan, ...]
    defined_on: date
    enrol_on: date  # mandated: when schools enrol; self-selected: last day of the window
    audience: Audience | None = None  # chance a teacher enrols (None: 校本, enrolled per school)
    content: SchoolBasedContent | None = None
    capacity: int | None = None
    minimum: int = 0  # mandated: at least this many are sent
    absence_rate: float = 0.03
    noshow_rate: float = 0.01
    decision: Decision = Decision.APPROVED  # for programmes that need approval
    decision_reason: str = "符合年度校本研修计划,同意实施。"

    @property
    def starts_on(self) -> date:
        return min(s.on for s in self.sessions)

    @property
    def ends_on(self) -> date:
        return max(s.on for s in self.sessions)

    @property
    def hours(self) -> Decimal:
        return sum((s.hours for s in self.sessions), Decimal(0))

    @property
    def needs_approval(self) -> bool:
        return needs_approval(self.selection.value, self.form.value)


def self_selected(p: float, *, middle: float | None = None, rural: float | None = None) -> Audience:
    """Self-selected: a base chance, scaled by the school's engagement and the teacher's keenness."""

    def chance(teacher: Staff, school: School) -> float:
        base = p
        if middle is not None:
            base = middle if school.kind == "middle" else p
        if rural is not None and school.rural:
            base = rural
        return min(0.95, base * school.engagement * teacher.activity)

    return chance


def mandated(p: float, *, rural_only: bool = False, hired_from: date | None = None) -> Audience:
    def chance(teacher: Staff, school: School) -> float:
        if rural_only and not school.rural:
            return 0.0
        if hired_from is not None:
            return 1.0 if teacher.hired_on is not None and teacher.hired_on >= hired_from else 0.0
        return p

    return chance
