"""A transcript's totals, per year and for the cycle, against a hand computation, from the
read-model tables (`Reports.transcript`) and from the replayed teacher (`transcript_of`) alike.
Numbers are compared as JSON text, so 40 and 40.0 differ as they do in an answer."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.policy import DEFAULT_POLICY, Cycle
from domain.vocabulary import Form, Level, SchoolBasedContent, Selection
from projections.reports import TeacherRow
from projections.transcript import transcript_of
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, teacher_actor
from tests.projections.training import run_programme

SCHOOL = {"level": Level.SCHOOL, "owner": "S1", "provider": "S1"}


def same(actual: Any, expected: Any) -> None:
    assert json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.fixture
def a001(app: TrainRec, clock: Clock) -> TrainRec:
    """A001's credits (hours awarded of the programme's):

    | programme  | ends       | kind                                           | hours      |
    |------------|------------|------------------------------------------------|------------|
    | P20        | 2020-06-05 | concentrated, self-selected                    | 40 of 40   |
    | P21A       | 2021-05-10 | concentrated, self-selected                    | 2 of 2     |
    | P21B       | 2021-06-07 | concentrated, mandated                         | 3 of 3     |
    | P22        | 2022-03-08 | online, mandated                               | 12.5 of 16 |
    | SBD        | 2024-03-04 | workshop, school-based (selection), designated | 7.5 of 8   |
    | SBF        | 2024-03-11 | school-based (form), self-selected, elective   | 4 of 4     |
    | P24        | 2024-04-10 | concentrated, self-selected                    | 24 of 24   |
    | WS         | 2024-05-06 | workshop, self-selected: revoked               | 8 of 8     |
    | PEND       | 2024-09-09 | outreach, self-selected: not evaluated         | 6 of 6     |
    | N25        | 2025-01-06 | shadowing, mandated                            | 10 of 10   |

    Read on 2025-03-03 (cycle 2021–2025)."""
    clock.set(date(2020, 1, 6))
    build_county(app)
    run_programme(app, clock, "P20", starts_on=date(2020, 6, 1), days=5, awards={"A001": "40"})
    run_programme(app, clock, "P21A", starts_on=date(2021, 5, 10), hours_per_day=2, awards={"A001": "2"})
    run_programme(app, clock, "P21B", starts_on=date(2021, 6, 7), hours_per_day=3, selection=Selection.MANDATED,
                  awards={"A001": "3"})
    run_programme(app, clock, "P22", starts_on=date(2022, 3, 7), days=2, form=Form.ONLINE,
                  selection=Selection.MANDATED, awards={"A001": "12.5"})
    run_programme(app, clock, "SBD", starts_on=date(2024, 3, 4), **SCHOOL, form=Form.WORKSHOP,
                  selection=Selection.SCHOOL_BASED, content=SchoolBasedContent.DESIGNATED, awards={"A001": "7.5"})
    run_programme(app, clock, "SBF", starts_on=date(2024, 3, 11), hours_per_day=4, **SCHOOL, form=Form.SCHOOL_BASED,
                  selection=Selection.SELF_SELECTED, content=SchoolBasedContent.ELECTIVE, awards={"A001": "4"})
    run_programme(app, clock, "P24", starts_on=date(2024, 4, 8), days=3, awards={"A001": "24"})
    run_programme(app, clock, "WS", starts_on=date(2024, 5, 6), form=Form.WORKSHOP, awards={"A001": "8"})
    ws = next(line for line in app.transcript(ADMIN, "A001")["lines"] if line["programme_code"] == "WS")
    app.revoke_credit(ADMIN, "A001", ws["credit_id"], "签到记录不实")
    run_programme(app, clock, "PEND", starts_on=date(2024, 9, 9), hours_per_day=6, form=Form.OUTREACH,
                  awards={"A001": "6"}, evaluated=[])
    run_programme(app, clock, "N25", starts_on=date(2025, 1, 6), hours_per_day=10, form=Form.SHADOWING,
                  selection=Selection.MANDATED, awards={"A001": "10"})
    clock.set(date(2025, 3, 3))
    return app


def both(app: TrainRec, viewer_is_trainee: bool = False) -> list[dict[str, Any]]:
    """The transcript from the tables and from the replay."""
    actor = teacher_actor("A001") if viewer_is_trainee else ADMIN
    return [app.transcript(actor, "A001"), app.transcript_replay("A001", viewer_is_trainee=viewer_is_trainee)]


def test_totals_per_year_and_for_the_cycle(a001: TrainRec) -> None:
    for transcript in both(a001):
        same(transcript["totals"], {
            "by_year": {
                "2020": {"hours": 40, "self_selected": 40, "school_based": 0, "concentrated": 40},
                "2021": {"hours": 5, "self_selected": 2, "school_based": 0, "concentrated": 5},
                "2022": {"hours": 12.5, "self_selected": 0, "school_based": 0, "concentrated": 0},
                # SBD 7.5 + SBF 4 + P24 24 + PEND 6 = 41.5 (WS revoked); self-selected P24 + PEND = 30
                # (SBF's form is school-based); school-based SBD + SBF = 11.5; concentrated P24
                "2024": {"hours": 41.5, "self_selected": 30, "school_based": 11.5, "concentrated": 24},
                "2025": {"hours": 10, "self_selected": 0, "school_based": 0, "concentrated": 0},
            },
            # 2021–2025: 5 + 12.5 + 41.5 + 10 (2020's 40 h are the previous cycle's)
            "cycle": {"start_year": 2021, "end_year": 2025, "hours": 69, "required": 360},
        })
        assert transcript["pending_evaluation"] == ["PEND"]


def test_the_trainee_sees_neither_the_hours_nor_the_line_of_a_programme_not_yet_evaluated(a001: TrainRec) -> None:
    for transcript in both(a001, viewer_is_trainee=True):
        same(transcript["totals"]["by_year"]["2024"],
             {"hours": 35.5, "self_selected": 24, "school_based": 11.5, "concentrated": 24})  # 41.5 − 6
        same(transcript["totals"]["cycle"], {"start_year": 2021, "end_year": 2025, "hours": 63, "required": 360})
        assert [line["programme_code"] for line in transcript["lines"]] == [
            "P20", "P21A", "P21B", "P22", "SBD", "SBF", "P24", "WS", "N25"]
        assert transcript["pending_evaluation"] == ["PEND"]


def test_lines_give_each_credit_as_awarded_in_the_order_awarded(a001: TrainRec) -> None:
    for transcript in both(a001):
        lines = {line["programme_code"]: line for line in transcript["lines"]}
        assert list(lines) == ["P20", "P21A", "P21B", "P22", "SBD", "SBF", "P24", "WS", "PEND", "N25"]
        same({code: (line["hours"], line["credits"], line["year"], line["status"], line["form"], line["selection"])
              for code, line in lines.items()}, {
            "P20": (40, 40, 2020, "valid", "concentrated", "self_selected"),
            "P21A": (2, 2, 2021, "valid", "concentrated", "self_selected"),
            "P21B": (3, 3, 2021, "valid", "concentrated", "mandated"),
            "P22": (12.5, 12.5, 2022, "valid", "online", "mandated"),
            "SBD": (7.5, 7.5, 2024, "valid", "workshop", "school_based"),
            "SBF": (4, 4, 2024, "valid", "school_based", "self_selected"),
            "P24": (24, 24, 2024, "valid", "concentrated", "self_selected"),
            "WS": (8, 8, 2024, "revoked", "workshop", "self_selected"),
            "PEND": (6, 6, 2024, "valid", "outreach", "self_selected"),
            "N25": (10, 10, 2025, "valid", "shadowing", "mandated"),
        })
        assert lines["WS"]["revoked_event_id"] is not None
        assert lines["P24"]["revoked_event_id"] is None
        assert lines["P22"]["awarded_on"] == "2022-03-09"  # the day after the end
        assert (lines["SBD"]["school_id"], lines["SBD"]["certified_by"], lines["SBD"]["certifier_role"]) == (
            "S1", "admin", "admin")


def test_the_cycle_is_the_one_of_the_day_the_transcript_is_read(a001: TrainRec, clock: Clock) -> None:
    clock.set(date(2020, 12, 31))  # 2016–2020: only P20
    for transcript in both(a001):
        same(transcript["totals"]["cycle"], {"start_year": 2016, "end_year": 2020, "hours": 40, "required": 360})
    clock.set(date(2026, 1, 1))  # 2026–2030: nothing yet
    for transcript in both(a001):
        same(transcript["totals"]["cycle"], {"start_year": 2026, "end_year": 2030, "hours": 0, "required": 360})
        assert list(transcript["totals"]["by_year"]) == ["2020", "2021", "2022", "2024", "2025"]


def test_a_teacher_without_credits_has_zero_hours_in_the_cycle(app: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    for transcript in (app.transcript(ADMIN, "B001"), app.transcript_replay("B001")):
        same(transcript["totals"], {"by_year": {},
                                    "cycle": {"start_year": 2021, "end_year": 2025, "hours": 0, "required": 360}})
        assert (transcript["teacher_no"], transcript["name"], transcript["school_id"]) == ("B001", "刘洋", "S2")
        assert transcript["lines"] == []
        assert transcript["open_disputes"] == []
        assert transcript["policy_version"] == "seeds-default-1"


def test_a_required_total_that_is_not_whole_hours_is_given_as_it_is(backend: Backend, clock: Clock) -> None:
    cycle = Cycle(length_years=3, required=Decimal("240.5"), first_start_year=2024)
    app = TrainRec(backend.fresh(), policy=DEFAULT_POLICY.model_copy(update={"cycle": cycle}), clock=clock)
    try:
        clock.set(date(2024, 2, 20))
        build_county(app)
        run_programme(app, clock, "P24", starts_on=date(2024, 3, 4), awards={"A001": "7.5"})
        for transcript in (app.transcript(ADMIN, "A001"), app.transcript_replay("A001")):
            same(transcript["totals"]["cycle"], {"start_year": 2024, "end_year": 2026, "hours": 7.5, "required": 240.5})
    finally:
        app.close()


def test_the_tables_know_each_teachers_school(a001: TrainRec) -> None:
    a001.transfer_teacher(ADMIN, "A001", "S2", date(2025, 3, 3))
    a001.transcript(ADMIN, "A001")  # waits for the tables to catch up
    assert a001.reports.teacher_ref("A001") == TeacherRow("A001", "S2")
    assert a001.reports.teacher_ref("Z999") is None


def test_the_replayed_transcript_shows_everything_unless_asked_for_the_trainees_view(a001: TrainRec) -> None:
    teacher = a001.teacher_as_of("A001", a001.clock())
    codes = [line["programme_code"] for line in transcript_of(teacher, a001.policy, date(2025, 3, 3))["lines"]]
    assert "PEND" in codes
    trainee = transcript_of(teacher, a001.policy, date(2025, 3, 3), viewer_is_trainee=True)
    assert "PEND" not in [line["programme_code"] for line in trainee["lines"]]
