"""`/audit/verify?scope=readmodel|all` compares every read-model table with the log at the tables'
own position and names the first differing row (projections/readmodel_check.py). On SQLite and
PostgreSQL, the tables edited directly, as someone with database access would: a changed
`rm_credits.hours_x10` (which the API then serves), a row deleted, a row added; and the comparison
made at one position while the follower moves the tables on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import OrgKind
from projections import readmodel_check
from service.api.main import create_app
from service.app import TrainRec
from service.cli.main import main
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, AUDITOR, COUNTY_SUP, Backend, Clock
from tests.service.api.conftest import SECRET, bearer
from tests.service.queries.test_tamper_evidence import _history


@pytest.fixture
def app(durable_backend: Backend, clock: Clock) -> Iterator[TrainRec]:
    application = TrainRec(durable_backend.fresh(), clock=clock)
    _history(application, clock)
    application.read_model.catch_up()
    yield application
    application.close()


@pytest.fixture
def client(app: TrainRec) -> TestClient:
    return TestClient(create_app(app, SECRET), raise_server_exceptions=False)


def _credit_id(app: TrainRec) -> str:
    rows = app.read_model.db.query(f"SELECT credit_id FROM {app.read_model.prefix}credits WHERE teacher_no = ?",
                                   ("A001",))
    return str(rows[0][0])


def _execute(app: TrainRec, sql: str, params: tuple[Any, ...]) -> None:
    with app.read_model.db.transaction() as tx:
        tx.execute(sql.replace("rm_", app.read_model.prefix), params)


def test_an_untouched_read_model_verifies_at_its_position(app: TrainRec, client: TestClient) -> None:
    head = app.recorder.max_notification_id()
    answer = client.get("/api/v1/audit/verify", params={"scope": "all"}, headers=bearer(AUDITOR)).json()
    assert answer["ok"] is True
    assert answer["scope"] == "all"
    assert answer["checked_events"] == head  # the chains too
    checked = answer["read_model"]
    assert (checked["ok"], checked["position"], checked["differences"], checked["first_difference"]) == (
        True, head, 0, None)
    assert checked["tables"] == len(readmodel_check.CHECKED)
    assert checked["rows"] > head  # one audit row per event, and the rows of every other table


def test_an_edited_credit_is_served_and_verify_names_the_row_the_column_and_both_values(
        app: TrainRec, client: TestClient) -> None:
    credit = _credit_id(app)
    _execute(app, "UPDATE rm_credits SET hours_x10 = ? WHERE credit_id = ?", (900, credit))
    transcript = client.get("/api/v1/teachers/A001/transcript", headers=bearer(ADMIN)).json()
    assert [line["hours"] for line in transcript["lines"]] == [90]  # what the API serves: the edit
    chain_only = client.get("/api/v1/audit/verify", headers=bearer(ADMIN)).json()
    assert chain_only["ok"] is True  # the chains hold: the log was not touched
    assert chain_only["scope"] == "chain"
    assert chain_only["read_model"] is None  # ... and the answer says the read model was not checked
    answer = client.get("/api/v1/audit/verify", params={"scope": "readmodel"}, headers=bearer(ADMIN)).json()
    assert answer["ok"] is False
    assert "checked_events" not in answer  # the chains were not asked for
    assert answer["read_model"]["first_difference"] == {
        "table": "credits", "kind": "changed", "key": {"credit_id": credit}, "column": "hours_x10",
        "stored": 900, "replayed": 240}
    # the teacher's yearly sums were derived before the edit: they still say 24 h, and so agree
    assert answer["read_model"]["differences"] == 1


def test_a_deleted_row_is_missing_and_an_added_row_unexpected(app: TrainRec, client: TestClient) -> None:
    _execute(app, "DELETE FROM rm_teachers WHERE teacher_no = ?", ("C002",))
    answer = client.get("/api/v1/audit/verify", params={"scope": "all"}, headers=bearer(ADMIN)).json()
    assert answer["ok"] is False
    first = answer["read_model"]["first_difference"]
    assert (first["table"], first["kind"], first["key"], first["stored"]) == (
        "teachers", "missing", {"teacher_no": "C002"}, None)
    assert first["replayed"]["name"] == "欧阳娜娜"
    assert first["replayed"]["school_id"] == "S3"
    _execute(app, "DELETE FROM rm_teachers WHERE teacher_no = ?", ("C001",))
    _execute(app, "INSERT INTO rm_teachers (teacher_no, aggregate_id, name, school_id, hired_on, departed_on, "
                  "departure_kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
             ("X999", "00000000-0000-0000-0000-000000000000", "虚构教师", "S1", "2020-09-01", None, None))
    answer = client.get("/api/v1/audit/verify", params={"scope": "readmodel"}, headers=bearer(ADMIN)).json()
    assert answer["read_model"]["differences"] == 3  # C001 and C002 missing, X999 unexpected
    kinds = {(d.kind, tuple(d.key.values())) for d in readmodel_check.differences(
        "teachers", *_stored_and_replayed(app, "teachers"))}
    assert kinds == {("missing", ("C001",)), ("missing", ("C002",)), ("unexpected", ("X999",))}
    first = answer["read_model"]["first_difference"]
    assert (first["kind"], first["key"]) == ("missing", {"teacher_no": "C001"})  # in key order


def _stored_and_replayed(app: TrainRec, table: str) -> tuple[Any, Any]:
    position, stored = readmodel_check.stored_rows(app.read_model)
    return stored[table], readmodel_check.expected_rows(app.read_model, position)[table]


def test_the_tables_are_compared_at_one_position_while_the_follower_moves_them(
        app: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    """New events recorded, not yet applied: the tables are behind the log. The follower applies them
    between the snapshot of the tables and the replay: the replay still stops at the snapshot's
    position, and the tables as they were there equal it."""
    before = app.read_model.position()
    app.put_org(ADMIN, "S4", "新学校", OrgKind.SCHOOL, "T1")
    app.register_teacher(ADMIN, "N001", "新教师", "S4", date(2020, 9, 1))
    head = app.recorder.max_notification_id()
    assert app.read_model.position() == before < head
    replay = readmodel_check.expected_rows

    def follower_moves_first(model: Any, until: int) -> Any:
        model.catch_up()  # the follower writes meanwhile
        with model.db.transaction() as tx:  # as the writer sees the tables (this thread's reads are the snapshot's)
            moved = tx.query(f"SELECT position FROM {model.prefix}tracking WHERE name = 'records'")
        assert moved[0][0] == head
        return replay(model, until)

    monkeypatch.setattr(readmodel_check, "expected_rows", follower_moves_first)
    checked = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    assert (checked["ok"], checked["position"]) == (True, before)
    monkeypatch.setattr(readmodel_check, "expected_rows", replay)
    assert app.verify_all(ADMIN, scope="readmodel")["read_model"]["position"] == head


def test_scope_is_checked_and_read_by_admins_and_auditors_only(client: TestClient) -> None:
    bad = client.get("/api/v1/audit/verify", params={"scope": "everything"}, headers=bearer(ADMIN))
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_scope"
    refused = client.get("/api/v1/audit/verify", params={"scope": "readmodel"}, headers=bearer(COUNTY_SUP))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden_scope"


def test_trainrec_audit_verify_reports_the_edited_row_and_exits_1(
        tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'trainrec.db'}"
    app = TrainRec(storage_from_url(url), clock=clock)
    _history(app, clock)
    app.read_model.catch_up()
    monkeypatch.setenv("TRAINREC_DATABASE_URL", url)
    assert main(["audit", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["read_model"]["ok"] is True
    _execute(app, "UPDATE rm_credits SET hours_x10 = ? WHERE credit_id = ?", (900, _credit_id(app)))
    app.close()
    assert main(["audit", "verify", "--scope", "chain"]) == 0
    capsys.readouterr()
    assert main(["audit", "verify"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["read_model"]["first_difference"]["column"] == "hours_x10"
    assert answer["first_broken"] is None  # the chains hold (incremental: nothing new since the first run)
    assert answer["to_position"] == answer["read_model"]["position"]


def test_an_edited_cached_school_row_is_served_and_verify_names_it(app: TrainRec, client: TestClient) -> None:
    """rm_school_years is not replayed (a cache of sums the tables give): the row a read serves is
    compared with what the tables give in the same snapshot."""
    year = app.policy.year_of(app.policy.local_date(app.clock()))
    assert client.get(f"/api/v1/orgs/S1/compliance?year={year}", headers=bearer(ADMIN)).status_code == 200  # kept
    clean = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    assert clean["ok"] is True
    rows = app.read_model.db.query(f"SELECT hours_x10 FROM {app.read_model.prefix}school_years "
                                   "WHERE school_id = 'S1' AND year = ?", (year,))
    assert len(rows) == 1
    _execute(app, "UPDATE rm_school_years SET hours_x10 = ? WHERE school_id = 'S1' AND year = ?",
             (int(rows[0][0]) + 8000, year))
    served = client.get(f"/api/v1/orgs/S1/compliance?year={year}", headers=bearer(ADMIN)).json()
    average = next(f for f in served["figures"] if f["rule"] == "avg_hours_per_teacher")
    assert average["value"] > 200  # the edit is what the API serves
    checked = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    assert checked["ok"] is False
    assert checked["differences"] == 1
    assert checked["first_difference"] == {
        "table": "school_years", "kind": "changed", "key": {"year": year, "school_id": "S1"}, "column": "hours_x10",
        "stored": int(rows[0][0]) + 8000, "replayed": int(rows[0][0])}


def test_an_edited_stored_answer_of_a_county_is_served_and_verify_names_it(app: TrainRec,
                                                                           client: TestClient) -> None:
    year = app.policy.year_of(app.policy.local_date(app.clock()))
    first = client.get(f"/api/v1/orgs/C1/compliance?year={year}", headers=bearer(ADMIN)).text  # stored
    assert app.verify_all(ADMIN, scope="readmodel")["read_model"]["ok"] is True
    assert "城关镇" in first
    _execute(app, "UPDATE rm_unit_years SET answer = REPLACE(answer, '城关镇', '改过镇') WHERE org_id = 'C1'", ())
    assert "改过镇" in client.get(f"/api/v1/orgs/C1/compliance?year={year}", headers=bearer(ADMIN)).text
    checked = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    assert checked["differences"] == 1
    difference = checked["first_difference"]
    assert (difference["table"], difference["key"], difference["column"]) == (
        "unit_years", {"year": year, "org_id": "C1"}, "answer")
    assert "改过镇" in difference["stored"]
    assert "城关镇" in difference["replayed"]
    _execute(app, "UPDATE rm_unit_years SET summary = REPLACE(summary, '城关镇', '改过镇') WHERE org_id = 'C1'", ())
    again = app.verify_all(ADMIN, scope="readmodel")["read_model"]
    assert again["differences"] == 2  # the summary (what the unit page shows) too
