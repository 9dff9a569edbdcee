"""History is replayable: a fresh process reads what another wrote; state as of any past instant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import DomainError
from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, PROVIDER, Backend, Clock, build_county, define

ROOT = Path(__file__).resolve().parents[3]

READER = """
import json, sys
from service.app import TrainRec
from service.storage.config import storage_from_url
from domain.actor import Actor
from domain.vocabulary import Role
app = TrainRec(storage_from_url(sys.argv[1]))
admin = Actor("reader", Role.ADMIN)
print(json.dumps({"transcript": app.transcript(admin, "A001"),
                  "history": [h["type"] for h in app.teacher_history(admin, "A001")],
                  "verify": app.verify(admin).as_dict()}, ensure_ascii=False))
"""


def _credit(app: TrainRec, clock: Clock) -> str:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    app.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.EXCELLENT)
    return str(app.award_credit(PROVIDER, "K1", "A001", Decimal(24)).body["credit_id"])


def test_a_fresh_process_reads_what_another_wrote(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    writer = TrainRec(storage, clock=clock)
    credit_id = _credit(writer, clock)
    expected = writer.transcript(ADMIN, "A001")
    writer.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", READER, storage.url], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert read["history"] == ["Registered", "Enrolled", "AttendanceRecorded", "Assessed", "CreditAwarded"]
    assert read["transcript"]["lines"][0]["credit_id"] == credit_id
    assert read["transcript"]["lines"] == expected["lines"]
    assert read["verify"]["ok"] is True


def test_state_as_of_any_past_instant(app: TrainRec, clock: Clock) -> None:
    credit_id = _credit(app, clock)
    awarded_at = clock.now
    clock.set(date(2024, 4, 1))
    app.revoke_credit(COUNTY_SUP, "A001", credit_id, "培训材料不实")
    revoked_at = clock.now

    before_award = app.transcript(ADMIN, "A001", as_of=awarded_at - timedelta(seconds=1))
    assert before_award["lines"] == []
    between = app.transcript(ADMIN, "A001", as_of=awarded_at)
    assert between["lines"][0]["status"] == "valid"
    assert between["totals"]["by_year"]["2024"]["hours"] == 24
    after = app.transcript(ADMIN, "A001", as_of=revoked_at)
    assert after["lines"][0]["status"] == "revoked"
    assert after["totals"]["by_year"] == {}


def test_as_of_before_registration_is_not_found_and_needs_an_offset(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    with pytest.raises(DomainError) as caught:
        app.transcript(ADMIN, "A001", as_of=clock.now - timedelta(days=1))
    assert caught.value.code == "teacher_not_found"
    with pytest.raises(DomainError) as naive:
        app.transcript(ADMIN, "A001", as_of=clock.now.replace(tzinfo=None))
    assert naive.value.code == "invalid_instant"


def test_excellent_result_uses_the_policy_conversion(app: TrainRec, clock: Clock) -> None:
    _credit(app, clock)
    line = app.transcript(ADMIN, "A001")["lines"][0]
    assert line["credits"] == 24  # default policy: 1 学时 = 1 unit
    assert line["policy_version"] == app.policy.version


def test_every_event_is_stamped_with_the_utc_instant_it_was_recorded(app: TrainRec, clock: Clock) -> None:
    """Recorded at 10:00 in Shanghai on 2024-02-20: the timestamp is 02:00 UTC, written with its offset."""
    build_county(app)
    registered = app.teacher_history(ADMIN, "A001")[0]
    assert registered["recorded_at"] == "2024-02-20T02:00:00+00:00"
    assert registered["recorded_at"] == clock.now.isoformat()


@pytest.mark.parametrize("instant", [datetime(1899, 12, 31, 12, tzinfo=UTC), datetime(2200, 1, 1, 12, tzinfo=UTC),
                                     datetime(9999, 12, 31, 23, 59, tzinfo=UTC)])
def test_instants_asked_about_lie_between_1900_and_2200(app: TrainRec, instant: datetime) -> None:
    build_county(app)
    with pytest.raises(DomainError) as as_of:
        app.transcript(ADMIN, "A001", as_of=instant)
    with pytest.raises(DomainError) as since:
        app.audit_events(ADMIN, since=instant)
    with pytest.raises(DomainError) as until:
        app.audit_events(ADMIN, until=instant)
    assert {as_of.value.code, since.value.code, until.value.code} == {"invalid_instant"}
    assert app.audit_events(ADMIN, since=datetime(1900, 1, 2, tzinfo=UTC))["events"]


def test_threads_asking_for_the_read_model_at_once_share_one(durable_backend: Backend,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import service.queries.reports as reports_module

    app = TrainRec(durable_backend.fresh())
    opened: list[object] = []
    real = reports_module.open_read_model_db
    gate = threading.Barrier(8)  # eight threads ask at the same moment

    def counting_open(location: object) -> object:
        opened.append(location)
        return real(location)  # type: ignore[arg-type]

    monkeypatch.setattr(reports_module, "open_read_model_db", counting_open)
    models: list[object] = []

    def ask() -> None:
        gate.wait()
        models.append(app.read_model)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(opened) == 1
        assert len({id(m) for m in models}) == 1
    finally:
        app.close()
