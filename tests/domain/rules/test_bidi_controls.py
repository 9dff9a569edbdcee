"""Bidirectional controls are refused in names, titles, reasons, claims, comments and evidence
(`bidi_control`): they make a name display as another (docs/decisions.md)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.errors import Invalid
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY
from domain.programme import Programme
from domain.rules.programme_definition import SessionPlan
from domain.teacher import Teacher
from domain.text import ensure_clean_text, has_bidi_control
from domain.vocabulary import Decision, Form, Level, OrgKind, Selection
from tests.domain.rules.builders import (
    ADMIN,
    EVIDENCE,
    START,
    SUPERVISOR,
    TRAINEE,
    assessed,
    at,
    credited,
    enrolled,
    refused,
    request_leave,
    school_based,
)

BIDI_CONTROLS = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                 "\u2068", "\u2069"]
# their neighbours, and other invisible or format characters, are text
NEIGHBOURS = ["\u061b", "\u061d", "\u200d", "\u2010", "\u2029", "\u202f", "\u2065", "\u206a", "\u200b", "\ufeff"]


@pytest.mark.parametrize("char", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_each_bidirectional_control_is_refused_naming_the_field_and_the_character(char: str) -> None:
    with pytest.raises(Invalid) as caught:
        ensure_clean_text(f"张{char}伟", "name")
    assert caught.value.code == "bidi_control"
    assert caught.value.detail == f"name contains a bidirectional control character (U+{ord(char):04X})"
    assert has_bidi_control(f'{{"name":"a{char}"}}')


@pytest.mark.parametrize("char", NEIGHBOURS, ids=lambda c: f"U+{ord(c):04X}")
def test_the_neighbours_of_the_bidirectional_controls_are_text(char: str) -> None:
    assert ensure_clean_text(f"张{char}伟") == f"张{char}伟"
    assert not has_bidi_control(f"张{char}伟")


def test_right_to_left_names_need_no_control_and_are_accepted() -> None:
    """A Uyghur name in Arabic script (and one in Latin script beside it) displays in order without
    any control character."""
    teacher = Teacher.register("U001", "مۇھەممەت ئابلىمىت", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    assert teacher.name == "مۇھەممەت ئابلىمىت"
    teacher = Teacher.register("U002", "Muhemmet Ablimit", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    assert teacher.name == "Muhemmet Ablimit"


def test_a_person_school_org_or_programme_name_with_a_bidi_control_is_refused() -> None:
    with pytest.raises(Invalid) as caught:  # the classic: "张伟" shown, "伟张" stored
        Teacher.register("A009", "\u202e伟张", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    assert (caught.value.code, caught.value.detail) == (
        "bidi_control", "name contains a bidirectional control character (U+202E)")
    with pytest.raises(Invalid) as caught:
        OrgUnit.register("S9", "城关\u2067第一\u2069小学", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2)))
    assert caught.value.code == "bidi_control"
    county = OrgUnit.register("C9", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2)))
    with refused(county, "bidi_control"):
        county.rename("示范\u200f县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 3)))
    with pytest.raises(Invalid) as caught:
        _define_titled("师德\u202d培训")
    assert caught.value.code == "bidi_control"
    assert _define_titled("师德培训").title == "师德培训"


def _define_titled(title: str) -> Programme:
    """A one-day programme of 8 hours with `title`."""
    return Programme.define(
        code="P-2024-09", title=title, level=Level.COUNTY, form=Form.CONCENTRATED, selection=Selection.SELF_SELECTED,
        school_based_content=None, hours=Decimal(8), provider_id="P1", owner_org_id="C1", starts_on=START,
        ends_on=START, sessions=[SessionPlan(1, START, Decimal(8))], capacity=None, actor=ADMIN,
        now=at(START - timedelta(days=30)),
    )


def test_reasons_claims_comments_and_evidence_names_with_a_bidi_control_are_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "bidi_control"):
        request_leave(teacher, programme, reason="生病\u2066住院")
    teacher, programme = assessed()
    with refused(teacher, "bidi_control"):
        teacher.evaluate(programme.code, 5, 4, 4, "很好\u200e", DEFAULT_POLICY, TRAINEE,
                         at(programme.ends_on + timedelta(days=2)))
    teacher, programme = credited()
    with refused(teacher, "bidi_control"):
        teacher.revoke_credit("C-1", "重复\u202b登记", SUPERVISOR, at(programme.ends_on + timedelta(days=5)))
    when = at(programme.ends_on + timedelta(days=20))
    with refused(teacher, "bidi_control"):
        teacher.open_dispute("D-1", programme.code, "只认定了\u061c16学时", EVIDENCE, TRAINEE, when)
    with refused(teacher, "bidi_control"):  # the classic file name: "签到表\u202efdp.exe" shows as "签到表exe.pdf"
        teacher.open_dispute("D-1", programme.code, "只认定了16学时",
                             [{"name": "签到表\u202efdp.exe", "sha256": EVIDENCE[0]["sha256"]}], TRAINEE, when)
    sb = school_based()
    with refused(sb, "bidi_control"):
        sb.decide(Decision.REJECTED, "内容\u202a重复", SUPERVISOR, at(date(2024, 2, 1)))
