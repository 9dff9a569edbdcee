"""The demo county: loaded through the commands only, every rule obeyed, the same for the same seed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.actor import Actor
from domain.vocabulary import Form, Level, Role, SchoolBasedContent, Selection
from service.app import TrainRec
from service.cli.main import main
from service.demo.calendar import DemoClock
from service.demo.driver import MIN_TEACHERS, DemoSummary, load_demo
from service.storage.config import storage_from_url
from tests.conftest import Backend

ADMIN = Actor("admin", Role.ADMIN)
TEACHERS = 60
ORGS = 1 + 3 + 20 + 4  # county, towns, schools, providers


@dataclass
class Loaded:
    app: TrainRec
    clock: DemoClock
    summary: DemoSummary
    stages: set[str]


def _load(seed: int = 2024) -> Loaded:
    clock = DemoClock()
    app = TrainRec(storage_from_url("memory://"), clock=clock)
    stages: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        assert 0 <= done <= total
        stages.add(stage)

    return Loaded(app, clock, load_demo(app, clock, seed=seed, teachers=TEACHERS, progress=progress), stages)


@pytest.fixture(scope="module")
def demo() -> Iterator[Loaded]:
    loaded = _load()
    yield loaded
    loaded.app.close()


def _types(history: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in history if line["type"] == name]


def test_counts_and_the_clock_left_at_now(demo: Loaded) -> None:
    summary = demo.summary
    assert summary.orgs == ORGS
    assert summary.teachers == TEACHERS
    assert summary.programmes == len(summary.programme_codes) == len(set(summary.programme_codes))
    assert summary.programmes > 60  # county, city, provincial, national and two per school and year
    assert summary.events == demo.app.recorder.max_notification_id()
    assert summary.events > 3000
    assert demo.clock() == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert demo.clock.local == datetime(2026, 11, 23, 10, 0)
    assert demo.clock().astimezone(ZoneInfo("Asia/Shanghai")).hour == 10
    assert {"orgs", "teachers", "calendar"} <= demo.stages
    assert demo.app.org(ADMIN, summary.county_id)["kind"] == "county"
    assert demo.app.org(ADMIN, summary.school_id)["kind"] == "school"
    transcript = demo.app.transcript(ADMIN, summary.teacher_no)
    assert sum(1 for line in transcript["lines"] if line["status"] == "valid") >= 3


def test_every_level_form_and_selection_appears(demo: Loaded) -> None:
    programmes = [demo.app.programme(ADMIN, code) for code in demo.summary.programme_codes]
    assert {p["level"] for p in programmes} == {level.value for level in Level}
    assert {p["form"] for p in programmes} == {form.value for form in Form}
    assert {p["selection"] for p in programmes} == {selection.value for selection in Selection}
    assert {p["school_based_content"] for p in programmes} == {None, *(c.value for c in SchoolBasedContent)}
    assert any(p["form"] == "concentrated" and p["hours"] >= 90 for p in programmes)
    school_based = [p for p in programmes if p["needs_approval"]]
    assert {p["decision"] for p in school_based} == {"approved", "rejected"}
    for p in programmes:
        assert sum(s["hours"] for s in p["sessions"]) == p["hours"]
        # 2024: the autumn-2024 校本 programme a school entered late (补录) in January 2025
        assert p["starts_on"].year in ((2024,) if p["code"] == demo.summary.late_programme[0] else (2025, 2026))
    flagship = demo.app.programme(ADMIN, demo.summary.programme_code)
    assert flagship["level"] == "provincial"
    assert flagship["form"] == "concentrated"
    assert flagship["hours"] >= 90


def test_a_credit_revoked_by_the_county_supervisor_with_a_reason(demo: Loaded) -> None:
    teacher_no, credit_id = demo.summary.revoked_credit
    lines = demo.app.transcript(ADMIN, teacher_no)["lines"]
    assert [line["status"] for line in lines if line["credit_id"] == credit_id] == ["revoked"]
    revoked = _types(demo.app.teacher_history(ADMIN, teacher_no), "CreditRevoked")
    assert [r["data"]["credit_id"] for r in revoked] == [credit_id]
    assert revoked[0]["actor"]["role"] == "supervisor"
    assert revoked[0]["actor"]["org"] == demo.summary.county_id
    assert revoked[0]["reason"]


def test_an_open_dispute_and_an_upheld_one(demo: Loaded) -> None:
    summary = demo.summary
    transcript = demo.app.transcript(ADMIN, summary.open_dispute_teacher_no)
    assert transcript["open_disputes"] == [summary.open_dispute_id]
    opened = _types(demo.app.teacher_history(ADMIN, summary.open_dispute_teacher_no), "DisputeOpened")
    assert opened[0]["actor"]["role"] == "teacher"
    assert all(len(e["sha256"]) == 64 for e in opened[0]["data"]["evidence"])

    history = demo.app.teacher_history(ADMIN, summary.resolved_dispute_teacher_no)
    resolved = _types(history, "DisputeResolved")
    assert [(r["data"]["dispute_id"], r["data"]["decision"]) for r in resolved] == [
        (summary.resolved_dispute_id, "upheld")
    ]
    awarded = [a for a in _types(history, "CreditAwarded") if a["data"]["evidence"].get("dispute_id")]
    assert [a["data"]["evidence"]["dispute_id"] for a in awarded] == [summary.resolved_dispute_id]
    assert summary.resolved_dispute_id not in demo.app.transcript(ADMIN, summary.resolved_dispute_teacher_no)[
        "open_disputes"
    ]


def test_a_leave_and_a_substitution_with_both_approvals(demo: Loaded) -> None:
    code, teacher_no = demo.summary.leave
    history = demo.app.teacher_history(ADMIN, teacher_no)
    assert [r["data"]["kind"] for r in _types(history, "AbsenceRequested")] == ["leave"]
    decided = _types(history, "AbsenceDecided")
    assert sorted((d["data"]["by"], d["data"]["decision"]) for d in decided) == [
        ("provider", "approved"), ("school", "approved")
    ]
    assert all(a["data"]["programme_code"] != code for a in _types(history, "Assessed"))

    code, absentee, substitute = demo.summary.substitution
    requested = _types(demo.app.teacher_history(ADMIN, absentee), "AbsenceRequested")
    assert [(r["data"]["kind"], r["data"]["substitute_teacher_no"]) for r in requested] == [
        ("substitution", substitute)
    ]
    enrolled = [e for e in _types(demo.app.teacher_history(ADMIN, substitute), "Enrolled")
                if e["data"]["programme"]["code"] == code]
    assert [e["data"]["substitutes_for"] for e in enrolled] == [absentee]


def test_a_transfer_between_schools(demo: Loaded) -> None:
    teacher_no, source, target = demo.summary.transfer
    moves = _types(demo.app.teacher_history(ADMIN, teacher_no), "Transferred")
    assert [(m["data"]["from_school_id"], m["data"]["to_school_id"]) for m in moves] == [(source, target)]
    assert demo.app.transcript(ADMIN, teacher_no)["school_id"] == target


def test_the_stored_history_verifies(demo: Loaded) -> None:
    verification = demo.app.verify(ADMIN)
    assert verification.ok
    assert verification.checked_events == demo.summary.events


def test_the_same_seed_gives_the_same_demo(demo: Loaded) -> None:
    again = _load()
    try:
        assert again.summary == demo.summary
    finally:
        again.app.close()


def test_the_demo_loads_only_into_an_empty_store_with_its_own_clock(demo: Loaded) -> None:
    with pytest.raises(ValueError, match="empty"):
        load_demo(demo.app, demo.clock, teachers=TEACHERS)
    other = TrainRec(storage_from_url("memory://"), clock=DemoClock())
    try:
        with pytest.raises(ValueError, match="same clock"):
            load_demo(other, DemoClock(), teachers=TEACHERS)
        with pytest.raises(ValueError, match="at least"):
            load_demo(other, DemoClock(), teachers=5)
    finally:
        other.close()


# --- the county adopting trainrec mid-cycle (issue 20 item 6) ------------------------------------------
def _shortfalls(demo: Loaded, org_id: str, year: int) -> dict[str, list[str]]:
    report = demo.app.compliance(ADMIN, org_id, year)
    return {s["rule"]: s["teacher_nos"] for s in report["shortfalls"]}


def test_earlier_hours_for_most_teachers_from_the_earlier_platform(demo: Loaded) -> None:
    summary = demo.summary
    assert summary.prior_hours_teachers >= 0.75 * TEACHERS
    assert summary.prior_hours_records >= 3 * summary.prior_hours_teachers
    recorded = _types(demo.app.teacher_history(ADMIN, summary.teacher_no), "PriorHoursRecorded") or next(
        lines for no in sorted({e["teacher_no"] for e in demo.app.audit_events(
            ADMIN, event_type="PriorHoursRecorded", limit=5)["events"]})
        if (lines := _types(demo.app.teacher_history(ADMIN, no), "PriorHoursRecorded")))
    for line in recorded:
        assert 2021 <= line["data"]["year"] <= 2024
        assert line["actor"]["role"] == "supervisor"
        assert line["data"]["source"] == "原继续教育管理平台"
        assert all(len(e["sha256"]) == 64 for e in line["data"]["evidence"])
        assert line["reason"]


def test_the_2025_cycle_figure_tells_teachers_on_track_from_those_behind(demo: Loaded) -> None:
    report = demo.app.compliance(ADMIN, demo.summary.county_id, 2025)
    figure = next(f for f in report["figures"] if f["rule"] == "share_cycle_on_track")
    assert 0 < figure["value"] < 1


def test_late_entries_with_their_reasons_in_the_audit_feed(demo: Loaded) -> None:
    late = demo.app.audit_events(ADMIN, late_entry=True, limit=500)["events"]
    assert late
    assert all(e["late_entry"] and e["late_reason"] for e in late)
    types = {e["type"] for e in late}
    assert {"Enrolled", "AttendanceRecorded", "Assessed", "CreditAwarded"} <= types
    code, _school, trainees = demo.summary.late_programme
    assert trainees >= 2
    assert demo.app.programme(ADMIN, code)["starts_on"].year == 2024
    back_dated = [e for e in late if e["type"] == "CreditAwarded"]
    assert back_dated
    assert all(e["occurred_on"].startswith("2024-12") for e in back_dated)
    late_code, session_no = demo.summary.late_sheet
    sheet = [e for e in late if e["type"] == "AttendanceRecorded" and e["data"]["programme_code"] == late_code]
    assert sheet
    assert {e["data"]["session_no"] for e in sheet} == {session_no}


def test_a_name_corrected_with_a_reason(demo: Loaded) -> None:
    teacher_no, wrong, right = demo.summary.correction
    assert wrong != right
    corrected = _types(demo.app.teacher_history(ADMIN, teacher_no), "Corrected")
    assert len(corrected) == 1
    assert corrected[0]["reason"]
    assert demo.app.transcript(ADMIN, teacher_no)["name"] == right


def test_a_retirement_leaves_the_school_s_2026_figures(demo: Loaded) -> None:
    teacher_no, school_id, effective_on = demo.summary.retirement
    assert effective_on.startswith("2026-")
    departed = _types(demo.app.teacher_history(ADMIN, teacher_no), "Departed")
    assert [d["data"]["kind"] for d in departed] == ["retired"]
    assert departed[0]["reason"]
    assert not any(teacher_no in listed for listed in _shortfalls(demo, school_id, 2026).values())
    # in 2025 they still belonged to the school: short of at least the 2025 figure of the whole cycle or not
    report_2025 = demo.app.compliance(ADMIN, school_id, 2025)
    report_2026 = demo.app.compliance(ADMIN, school_id, 2026)
    assert report_2026["teachers"] < report_2025["teachers"] or any(
        teacher_no in listed for listed in _shortfalls(demo, school_id, 2025).values())


def test_a_withdrawal_before_the_programme_starts(demo: Loaded) -> None:
    code, teacher_no = demo.summary.withdrawal
    withdrawn = _types(demo.app.teacher_history(ADMIN, teacher_no), "EnrolmentWithdrawn")
    assert [w["data"]["programme_code"] for w in withdrawn] == [code]
    assert withdrawn[0]["reason"]
    assert withdrawn[0]["recorded_at"][:10] < demo.app.programme(ADMIN, code)["starts_on"].isoformat()


def test_a_rescheduled_session_and_a_cancelled_one(demo: Loaded) -> None:
    code, session_no, was, now = demo.summary.rescheduled
    sessions = {s["no"]: s for s in demo.app.programme(ADMIN, code)["sessions"]}
    assert sessions[session_no]["on"].isoformat() == now != was
    code, session_no = demo.summary.cancelled
    programme = demo.app.programme(ADMIN, code)
    assert session_no not in {s["no"] for s in programme["sessions"]}
    assert programme["hours"] == sum(s["hours"] for s in programme["sessions"])


def test_projections_check_finds_no_difference_after_the_demo(
        durable_backend: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`trainrec projections check` after the demo, on SQLite and PostgreSQL: the tables the read
    model built as the demo loaded equal a replay of its events (earlier hours, late entries,
    departures and withdrawals included)."""
    storage = durable_backend.fresh()
    clock = DemoClock()
    app = TrainRec(storage, clock=clock)
    try:
        load_demo(app, clock, teachers=TEACHERS)
        app.read_model.catch_up()
    finally:
        app.close()
    monkeypatch.setenv("TRAINREC_DATABASE_URL", storage.url)
    assert main(["projections", "check"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": 0 difference(s)")


def test_the_smallest_county_stages_every_part_of_the_story() -> None:
    clock = DemoClock()
    app = TrainRec(storage_from_url("memory://"), clock=clock)
    try:
        summary = load_demo(app, clock, teachers=MIN_TEACHERS)
    finally:
        app.close()
    assert summary.teachers == MIN_TEACHERS
    assert summary.prior_hours_teachers >= 0.75 * MIN_TEACHERS


def test_one_account_per_role_on_the_demos_own_units_signs_in_with_the_published_password(demo: Loaded) -> None:
    from service.demo.accounts import DEMO_PASSWORD, add_demo_accounts

    accounts = add_demo_accounts(demo.app)
    assert [(a.username, a.role) for a in accounts] == [
        ("admin", Role.ADMIN), ("county", Role.SUPERVISOR), ("town", Role.SUPERVISOR), ("school", Role.SCHOOL_ADMIN),
        ("provider", Role.PROVIDER), ("teacher", Role.TEACHER), ("auditor", Role.AUDITOR)]
    assert add_demo_accounts(demo.app) == accounts  # once: a second call opens nothing
    assert len(demo.app.accounts(ADMIN)) == len(accounts)
    by_name = {a.username: a for a in accounts}
    teacher = demo.app.transcript(ADMIN, by_name["teacher"].teacher_no or "")
    assert teacher["school_id"] == by_name["school"].org_id  # the school admin's school is the teacher's
    assert [line for line in teacher["lines"] if line["status"] == "valid"], "the demo teacher has credits"
    for account in accounts:
        holder, session_id, _ = demo.app.sign_in(account.username, DEMO_PASSWORD, "127.0.0.1")
        assert (holder.role, holder.org_id, holder.teacher_no) == (account.role, account.org_id, account.teacher_no)
        demo.app.sign_out(account.username, session_id)
