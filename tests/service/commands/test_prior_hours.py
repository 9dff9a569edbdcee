"""Earlier hours (历史学时) through the service: who records and revokes them, and how they count in
transcripts (read model and replay, `as_of`), the cycle and the compliance figures. On memory,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.vocabulary import Role
from projections.check import check
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_TOWN_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    build_county,
    teacher_actor,
)
from tests.helpers import refused, types_of

EVIDENCE = [{"name": "继续教育证书.pdf", "sha256": "d" * 64}]
S3_ADMIN = Actor("s3-admin", Role.SCHOOL_ADMIN, org_id="S3")


def prior(app: TrainRec, teacher_no: str, year: int, hours: int, actor: Actor = COUNTY_SUP,
          source: str = "省继续教育旧平台", **parts: Any) -> str:
    result = app.record_prior_hours(actor, teacher_no, year, Decimal(hours), source, EVIDENCE, "平台迁移前认定的学时",
                                    **{k: Decimal(v) for k, v in parts.items()})
    assert result.status == 201
    assert types_of(result.body) == ["PriorHoursRecorded"]
    return str(result.body["record_id"])


def figures(app: TrainRec, org_id: str, year: int) -> dict[str, Any]:
    return {f["rule"]: f["value"] for f in app.compliance(ADMIN, org_id, year)["figures"]}


def test_who_may_record_and_revoke_earlier_hours(app: TrainRec, clock: Clock) -> None:
    """A supervisor above the teacher's school, or an admin; not the school itself, providers,
    teachers, auditors, nor a supervisor of another town."""
    build_county(app)
    for outsider in (SCHOOL_ADMIN, S3_ADMIN, PROVIDER, teacher_actor("C001"), AUDITOR, TOWN_SUP):
        with refused(app, "forbidden_scope"):
            app.record_prior_hours(outsider, "C001", 2023, Decimal(80), "旧平台", EVIDENCE, "迁移")
    record_id = prior(app, "C001", 2023, 80, actor=OTHER_TOWN_SUP)  # T2, above S3
    prior(app, "C001", 2022, 80, actor=ADMIN)
    prior(app, "C001", 2021, 80, actor=COUNTY_SUP)
    for outsider in (S3_ADMIN, PROVIDER, teacher_actor("C001"), AUDITOR, TOWN_SUP):
        with refused(app, "forbidden_scope"):
            app.revoke_prior_hours(outsider, "C001", record_id, "证书不实")
    answer = app.revoke_prior_hours(OTHER_TOWN_SUP, "C001", record_id, "证书不实")
    assert answer.status == 201
    assert (answer.body["record_id"], answer.body["status"]) == (record_id, "revoked")
    assert types_of(answer.body) == ["PriorHoursRevoked"]


def test_a_second_revocation_conflicts_and_an_unknown_record_is_not_found(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    record_id = prior(app, "A001", 2023, 80)
    app.revoke_prior_hours(ADMIN, "A001", record_id, "证书不实")
    with refused(app, "prior_hours_already_revoked"):
        app.revoke_prior_hours(ADMIN, "A001", record_id, "再次撤销")
    with refused(app, "prior_hours_not_found"):
        app.revoke_prior_hours(ADMIN, "A001", "H-404", "证书不实")
    with refused(app, "prior_hours_not_found"):  # another teacher's record is not this teacher's
        app.revoke_prior_hours(ADMIN, "A002", record_id, "证书不实")
    with refused(app, "teacher_not_found"):
        app.record_prior_hours(ADMIN, "X999", 2023, Decimal(80), "旧平台", EVIDENCE, "迁移")


def test_a_repeated_request_with_its_idempotency_key_records_once(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    send = lambda: app.record_prior_hours(COUNTY_SUP, "A001", 2023, Decimal(80), "旧平台", EVIDENCE,  # noqa: E731
                                          "迁移", self_selected=Decimal(40), idempotency_key="k-1")
    first, second = send(), send()
    assert not first.replayed
    assert second.replayed
    assert second.body == first.body
    assert len(app.transcript(ADMIN, "A001")["prior"]) == 1
    with refused(app, "idempotency_key_reused"):
        app.record_prior_hours(COUNTY_SUP, "A001", 2022, Decimal(80), "旧平台", EVIDENCE, "迁移",
                               idempotency_key="k-1")


def test_earlier_hours_count_in_the_transcript_like_credits_until_revoked(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    kept = prior(app, "A001", 2023, 80, self_selected=40, school_based=16, concentrated=24)
    clock.tick()  # listed in the order recorded
    dropped = prior(app, "A001", 2023, 30, source="市平台")
    clock.tick()
    prior(app, "A001", 2021, "95.5")
    app.revoke_prior_hours(ADMIN, "A001", dropped, "证书不实")
    transcript = app.transcript(COUNTY_SUP, "A001")
    assert [(p["record_id"], p["year"], p["hours"], p["source"], p["status"]) for p in transcript["prior"]] == [
        (kept, 2023, 80, "省继续教育旧平台", "valid"), (dropped, 2023, 30, "市平台", "revoked"),
        (transcript["prior"][2]["record_id"], 2021, 95.5, "省继续教育旧平台", "valid")]
    assert transcript["prior"][0]["event_id"] == app.teacher_history(ADMIN, "A001")[1]["id"]
    assert transcript["totals"]["by_year"] == {
        "2021": {"hours": 95.5, "self_selected": 0, "school_based": 0, "concentrated": 0},
        "2023": {"hours": 80, "self_selected": 40, "school_based": 16, "concentrated": 24},
    }
    assert transcript["totals"]["cycle"]["hours"] == 175.5  # 2021–2025
    replay = app.transcript_replay("A001")
    assert (replay["prior"], replay["totals"]) == (transcript["prior"], transcript["totals"])
    position, differences = check(app.read_model)
    assert differences == []
    assert position > 0
    assert app.verify(ADMIN).ok  # the hash chain holds the new events like any other


def test_the_transcript_as_of_shows_the_earlier_hours_recorded_by_then(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    clock.set(date(2024, 2, 20))
    first = prior(app, "A001", 2023, 80)
    clock.set(date(2024, 3, 1))
    prior(app, "A001", 2022, 60)
    clock.set(date(2024, 3, 10))
    app.revoke_prior_hours(ADMIN, "A001", first, "证书不实")
    then = app.transcript(ADMIN, "A001", clock.now.replace(year=2024, month=2, day=25))
    assert [(p["year"], p["status"]) for p in then["prior"]] == [(2023, "valid")]
    assert then["totals"]["cycle"]["hours"] == 80
    later = app.transcript(ADMIN, "A001", clock.now.replace(month=3, day=5))
    assert [(p["year"], p["status"]) for p in later["prior"]] == [(2023, "valid"), (2022, "valid")]
    assert later["totals"]["cycle"]["hours"] == 140
    now = app.transcript(ADMIN, "A001")
    assert [(p["year"], p["status"]) for p in now["prior"]] == [(2023, "revoked"), (2022, "valid")]
    assert now["totals"]["cycle"]["hours"] == 60


def test_compliance_counts_earlier_hours_hand_computed(app: TrainRec, clock: Clock) -> None:
    """School S3 has two teachers, C001 and C002 (the cycle 2021–2025; on track by the end of 2022:
    360 × 2 / 5 = 144 h, of 2023: 216 h).

    | teacher | 2021 | 2022                        | 2023                                         |
    |---------|------|-----------------------------|----------------------------------------------|
    | C001    | 150  | 70 (concentrated 60)        | 80 (self-selected 40, school-based 16)       |
    | C002    | —    | 100 (concentrated 95)       | 200, revoked                                 |

    2023: avg hours 80 / 2 = 40; self-selected 40 / 2 = 20; elective ≥ 16: C001 → 0.5; designated:
    none (a record's school-based hours are elective); concentrated ≥ 90: none; cycle on track:
    C001 300 ≥ 216 → 0.5 (C002 100). 2022: avg (70 + 100) / 2 = 85; concentrated ≥ 90: C002 → 0.5
    (C001's 60 is short); cycle: C001 220 ≥ 144 → 0.5."""
    build_county(app)
    prior(app, "C001", 2021, 150)
    prior(app, "C001", 2022, 70, concentrated=60)
    prior(app, "C001", 2023, 80, self_selected=40, school_based=16)
    prior(app, "C002", 2022, 100, concentrated=95)
    revoked = prior(app, "C002", 2023, 200, self_selected=100, school_based=30, concentrated=120)
    app.revoke_prior_hours(COUNTY_SUP, "C002", revoked, "证书不实")
    f2023 = figures(app, "S3", 2023)
    assert (f2023["avg_hours_per_teacher"], f2023["avg_self_selected_hours"]) == (40, 20)
    assert (f2023["share_school_based_elective"], f2023["share_school_based_designated"]) == (0.5, 0)
    assert (f2023["share_concentrated_90h"], f2023["share_cycle_on_track"]) == (0, 0.5)
    f2022 = figures(app, "S3", 2022)
    assert (f2022["avg_hours_per_teacher"], f2022["avg_self_selected_hours"]) == (85, 0)
    assert (f2022["share_concentrated_90h"], f2022["share_cycle_on_track"]) == (0.5, 0.5)
    shortfalls = {s["rule"]: s["teacher_nos"] for s in app.compliance(ADMIN, "S3", 2023)["shortfalls"]}
    assert shortfalls["share_cycle_on_track"] == ["C002"]
    assert shortfalls["share_school_based_elective"] == ["C002"]
    # the county: six teachers, only S3's have earlier hours
    assert figures(app, "C1", 2023)["avg_hours_per_teacher"] == round(80 / 6, 4)


def test_earlier_hours_count_for_the_teachers_school_at_the_years_end(app: TrainRec, clock: Clock) -> None:
    """Recorded while C001 is at S3; C001 moves to S1 on 2024-03-01: 2023's hours stay with S3 (C001's
    school at the end of 2023), 2024's go to S1 (C001's school now)."""
    build_county(app)
    clock.set(date(2024, 2, 20))
    prior(app, "C001", 2023, 80)
    prior(app, "C001", 2024, 40)
    clock.set(date(2024, 3, 1))
    app.transfer_teacher(ADMIN, "C001", "S1", date(2024, 3, 1))
    assert figures(app, "S3", 2023)["avg_hours_per_teacher"] == 40  # C001 and C002
    assert figures(app, "S1", 2023)["avg_hours_per_teacher"] == 0
    assert figures(app, "S1", 2024)["avg_hours_per_teacher"] == 10  # A001, A002, A003, C001
    assert figures(app, "S3", 2024)["avg_hours_per_teacher"] == 0
