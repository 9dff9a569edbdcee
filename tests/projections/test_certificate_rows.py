"""A certificate's events leave the read model as the replay says (an audit row under the teacher,
nothing else), applied one by one on every backend and loaded in the database on PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.vocabulary import AssessmentResult
from projections.check import check, table_rows
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, define, require_postgres, teacher_actor
from tests.conftest import PROVIDER as P1


def _certified(app: TrainRec, clock: Clock) -> str:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    app.assess(P1, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    app.evaluate(teacher_actor("A001"), "K1", "A001", 5, 5, 5)
    credit_id = str(app.award_credit(P1, "K1", "A001", Decimal(24)).body["credit_id"])
    app.issue_certificate(teacher_actor("A001"), "A001", year=2024, purpose="职称评审")
    app.revoke_credit(ADMIN, "A001", credit_id, "重复登记")
    return credit_id


def test_a_certificates_events_leave_the_rows_the_replay_gives(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        _certified(app, clock)
        app.read_model.catch_up()
        assert check(app.read_model)[1] == []
        audit = app.read_model.db.query(
            f"SELECT type, teacher_no, org_id, actor_role, reason FROM {app.read_model.prefix}audit "
            f"WHERE type = 'CertificateIssued'")
        assert [tuple(row) for row in audit] == [("CertificateIssued", "A001", "S1", "teacher", "职称评审")]
    finally:
        app.close()


@pytest.mark.postgres
def test_a_rebuild_loads_a_certificates_rows_as_they_were_applied(clock: Clock, tmp_path: Path) -> None:
    require_postgres()
    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)
    try:
        _certified(app, clock)
        app.read_model.catch_up()
        applied = table_rows(app.read_model)
        position = app.read_model.rebuild()
        assert table_rows(app.read_model) == applied
        assert check(app.read_model) == (position, [])
    finally:
        app.close()
