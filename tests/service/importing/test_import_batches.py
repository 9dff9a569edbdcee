"""Import batches: the rows of a batch share one transaction, yet each is accepted or refused on its
own, sees what the batch's earlier rows did, and gets the answer and records the events it would
have as a command of its own; a batch another writer got into first is run again row by row."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.errors import DomainError
from domain.ids import idempotency_uuid, programme_uuid, teacher_uuid
from service.app import TrainRec
from service.importing import importer
from service.importing.importer import DEFAULT_ACTOR, import_file
from service.storage.bulk_reads import stored_ids
from tests.conftest import ADMIN, Backend, Clock, build_county, define

# Rows that depend on each other: a teacher enrolled twice, a programme of capacity 2 asked for three
# seats, an unknown teacher and an unknown programme between good rows, a teacher in two programmes.
ROWS = [
    ("K1", "A001"), ("K1", "A001"), ("K1", "ZZZ9"), ("K2", "A002"), ("K2", "A003"), ("K2", "B001"),
    ("K1", "A002"), ("K9", "A003"), ("K2", "A002"), ("K1", "C001"),
]
EXPECTED = [
    (2, True, ""), (3, False, "already_enrolled"), (4, False, "teacher_not_found"), (5, True, ""), (6, True, ""),
    (7, False, "programme_full"), (8, True, ""), (9, False, "programme_not_found"), (10, False, "already_enrolled"),
    (11, True, ""),
]


def write_rows(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([["项目编号", "工号"], *ROWS])
    return path


def new_county(backend: Backend, clock: Clock) -> TrainRec:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    define(app, "K1")
    define(app, "K2", capacity=2)
    return app


def history(app: TrainRec) -> dict[str, list[str]]:
    """Each teacher's and programme's event types, in order."""
    ids = {no: teacher_uuid(no) for no in ("A001", "A002", "A003", "B001", "C001")}
    ids |= {code: programme_uuid(code) for code in ("K1", "K2")}
    return {name: [e.topic.rsplit(".", 1)[-1] for e in app.recorder.select_events(i)] for name, i in ids.items()}


@pytest.mark.parametrize(("batch_rows", "exclusive"), [(1, False), (3, False), (3, True), (500, True)])
def test_a_batch_answers_as_commands_of_their_own(
    backend: Backend, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int,
    exclusive: bool,
) -> None:
    one_by_one = new_county(backend, clock)
    codes = []
    for code, teacher_no in ROWS:
        try:
            one_by_one.enrol(ADMIN, code, teacher_no)
            codes.append("")
        except DomainError as error:
            codes.append(error.code)
    assert [(n + 2, not c, c) for n, c in enumerate(codes)] == EXPECTED

    monkeypatch.setattr(importer, "BATCH_ROWS", batch_rows)
    batched = new_county(backend, clock)
    before = batched.recorder.max_notification_id() or 0
    saves: list[int] = []
    save = batched.save
    monkeypatch.setattr(batched, "save", lambda *events, **kw: saves.append(len(events)) or save(*events, **kw))
    report = import_file(batched, "enrolments", write_rows(tmp_path / "enrol.csv"), exclusive=exclusive)
    # one transaction per batch with an accepted row: no batch had to be run again row by row
    chunks = [EXPECTED[i : i + batch_rows] for i in range(0, len(EXPECTED), batch_rows)]
    assert len(saves) == sum(any(accepted for _, accepted, _ in chunk) for chunk in chunks)
    assert [(r.row, r.accepted, r.code) for r in report.results] == EXPECTED
    assert history(batched) == history(one_by_one)
    recorded = (batched.recorder.max_notification_id() or 0) - before
    assert recorded == report.events + len(report.accepted)  # and one idempotency record per accepted row
    again = import_file(batched, "enrolments", tmp_path / "enrol.csv", exclusive=exclusive)
    assert (len(again.replayed), again.events) == (5, 0)
    assert history(batched) == history(one_by_one)
    one_by_one.close()
    batched.close()


def test_a_batch_another_writer_got_into_is_run_row_by_row(
    durable_backend: Backend, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process enrols A002 in K1 after the batch read A002 and before it commits: the batch
    saves nothing, its rows run again one by one, and A002's row is then refused, not doubled."""
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    define(app, "K1")
    other = TrainRec(storage, clock=clock)
    save = app.save
    interfered: list[Any] = []

    def save_after_another_writer(*events: Any, **kwargs: Any) -> Any:
        if not interfered:
            interfered.append(other.enrol(ADMIN, "K1", "A002"))
        return save(*events, **kwargs)

    monkeypatch.setattr(app, "save", save_after_another_writer)
    path = tmp_path / "enrol.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["项目编号", "工号"], ["K1", "A001"], ["K1", "A002"], ["K1", "A003"]])
    report = import_file(app, "enrolments", path)
    assert interfered
    assert [(r.row, r.accepted, r.code) for r in report.results] == [
        (2, True, ""), (3, False, "already_enrolled"), (4, True, "")]
    for teacher_no in ("A001", "A002", "A003"):
        topics = [e.topic for e in app.recorder.select_events(teacher_uuid(teacher_no))]
        assert sum(t.endswith(".Enrolled") for t in topics) == 1
    other.close()
    app.close()


@pytest.mark.parametrize("exclusive", [False, True])
def test_a_refused_row_leaves_the_batch_as_it_was(county: TrainRec, exclusive: bool) -> None:
    """A command refused halfway, after it changed an aggregate (one the batch holds, one it read
    ahead, one from the application's cache), changes nothing that the batch's later commands, its
    transaction or later commands see; `exclusive` batches hand over objects instead of copies."""
    define(county, "K1")
    define(county, "K2")
    county.enrol(ADMIN, "K2", "A003")  # A003 is now in the cache

    def enrol_then_fail(teacher_no: str, code: str) -> Callable[[Any], tuple[int, dict[str, Any]]]:
        def handle(unit: Any) -> tuple[int, dict[str, Any]]:
            unit.teacher(teacher_no).enrol(unit.programme(code).facts(), county.policy, ADMIN, unit.now)
            raise DomainError("made_up", "refused after the teacher changed")

        return handle

    with county.batched(exclusive=exclusive, read_ahead=[teacher_uuid("A002")]) as batch:
        county.enrol(ADMIN, "K1", "A001")
        for teacher_no, code in (("A001", "K2"), ("A002", "K1"), ("A003", "K1")):
            with pytest.raises(DomainError):
                county.execute(ADMIN, enrol_then_fail(teacher_no, code))
        # each would be already_enrolled had the refused change stayed
        county.enrol(ADMIN, "K2", "A001")
        county.enrol(ADMIN, "K1", "A002")
        county.enrol(ADMIN, "K1", "A003")
        assert batch.commands == 4
    for teacher_no, enrolled in (("A001", 2), ("A002", 1), ("A003", 2)):
        topics = [e.topic.rsplit(".", 1)[-1] for e in county.recorder.select_events(teacher_uuid(teacher_no))]
        assert topics.count("Enrolled") == enrolled
        assert len(county.transcript(ADMIN, teacher_no)["lines"]) == 0


def test_nothing_of_a_batch_is_saved_when_it_is_interrupted(county: TrainRec) -> None:
    define(county, "K1")
    before = county.recorder.max_notification_id()
    def interrupted() -> None:
        with county.batched():
            county.enrol(ADMIN, "K1", "A001")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert county.recorder.max_notification_id() == before
    county.enrol(ADMIN, "K1", "A001")
    with pytest.raises(RuntimeError), county.batched(), county.batched():
        pass


def test_a_conflict_at_commit_saves_nothing(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    define(county, "K1")
    before = county.recorder.max_notification_id()

    def refuse(*_: Any, **__: Any) -> Any:
        raise IntegrityError("another writer")

    monkeypatch.setattr(county, "save", refuse)
    with pytest.raises(IntegrityError), county.batched():
        county.enrol(ADMIN, "K1", "A001")
    monkeypatch.undo()
    assert county.recorder.max_notification_id() == before
    county.enrol(ADMIN, "K1", "A001")


def test_stored_ids_finds_exactly_the_ids_with_events(county: TrainRec) -> None:
    known = [teacher_uuid("A001"), teacher_uuid("C002")]
    unknown = [idempotency_uuid(DEFAULT_ACTOR.subject, f"key-{i}") for i in range(1200)]  # more than a chunk
    assert stored_ids(county.recorder, [*unknown[:700], *known, *unknown[700:]]) == set(known)
    assert stored_ids(county.recorder, []) == set()


def _count_lookups(app: TrainRec, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    calls: list[Any] = []
    select = app.recorder.select_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return select(*args, **kwargs)

    monkeypatch.setattr(app.recorder, "select_events", counted)
    return lambda: len(calls)


def test_a_batch_looks_up_its_idempotency_keys_at_once(
    durable_backend: Backend, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite and PostgreSQL (in memory each id is asked on its own: nothing to save there)."""
    county = new_county(durable_backend, clock)
    path = tmp_path / "enrol.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["项目编号", "工号"], *[["K1", no] for no in ("A001", "A002", "A003")]])
    lookups = _count_lookups(county, monkeypatch)
    report = import_file(county, "enrolments", path)
    assert len(report.accepted) == 3
    # the teachers and the programme may be read; no row's idempotency record is looked up alone
    assert lookups() <= 4
    county.close()


@pytest.mark.parametrize("exclusive", [False, True])
def test_registrations_in_a_batch_find_the_teachers_before_them(
    county: TrainRec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exclusive: bool
) -> None:
    """The batch reads ahead which teachers exist: one registered before the import and one
    registered by an earlier row of the same batch are both refused as existing."""
    path = tmp_path / "teachers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([
            ["工号", "姓名", "学校代码"], ["T001", "赵一", "S1"], ["T001", "赵一", "S2"], ["A001", "张伟", "S1"],
            ["T002", "钱二", "S9"], ["T002", "钱二", "S2"],
        ])
    saves: list[int] = []
    save = county.save
    monkeypatch.setattr(county, "save", lambda *events, **kw: saves.append(len(events)) or save(*events, **kw))
    report = import_file(county, "teachers", path, exclusive=exclusive)
    assert len(saves) == 1  # one transaction: the batch did not have to be run again row by row
    assert [(r.row, r.accepted, r.code) for r in report.results] == [
        (2, True, ""), (3, False, "teacher_exists"), (4, False, "teacher_exists"), (5, False, "org_not_found"),
        (6, True, "")]
    assert county.transcript(ADMIN, "T001")["school_id"] == "S1"
    assert county.transcript(ADMIN, "T002")["school_id"] == "S2"
    assert [e.topic.rsplit(".", 1)[-1] for e in county.recorder.select_events(teacher_uuid("A001"))] == ["Registered"]


@pytest.mark.parametrize("exclusive", [False, True])
def test_an_exclusive_batch_hands_what_its_commands_only_read_to_the_next_as_it_is(
    county: TrainRec, exclusive: bool
) -> None:
    """An enrolment reads a programme without capacity and records nothing on it: an exclusive
    batch (a bulk import) hands that object to its next command rather than a copy per command;
    any other batch gives each command its own copy."""
    define(county, "K1")
    seen: list[Any] = []
    enrol = county.enrol

    def enrol_and_keep(teacher_no: str) -> None:
        def handle(unit: Any) -> tuple[int, dict[str, Any]]:
            seen.append(unit.programme("K1"))
            return 200, {}

        county.execute(ADMIN, handle)
        enrol(ADMIN, "K1", teacher_no)

    with county.batched(exclusive=exclusive):
        for teacher_no in ("A001", "A002", "A003"):
            enrol_and_keep(teacher_no)
    assert len({id(programme) for programme in seen}) == (1 if exclusive else 3)
    for teacher_no in ("A001", "A002", "A003"):
        topics = [e.topic.rsplit(".", 1)[-1] for e in county.recorder.select_events(teacher_uuid(teacher_no))]
        assert topics.count("Enrolled") == 1
    assert [e.topic.rsplit(".", 1)[-1] for e in county.recorder.select_events(programme_uuid("K1"))] == ["Defined"]


@pytest.mark.parametrize("exclusive", [False, True])
def test_a_refused_command_drops_what_an_earlier_command_only_read(county: TrainRec, exclusive: bool) -> None:
    """A001 is read by an accepted command that leaves it unchanged, then changed by a command
    refused halfway: the next command sees A001 as stored, not the refused change."""
    define(county, "K1")

    def read_only(unit: Any) -> tuple[int, dict[str, Any]]:
        unit.teacher("A001")
        return 200, {}

    def enrol_then_fail(unit: Any) -> tuple[int, dict[str, Any]]:
        unit.teacher("A001").enrol(unit.programme("K1").facts(), county.policy, ADMIN, unit.now)
        raise DomainError("made_up", "refused after the teacher changed")

    with county.batched(exclusive=exclusive) as batch:
        county.execute(ADMIN, read_only)
        with pytest.raises(DomainError):
            county.execute(ADMIN, enrol_then_fail)
        county.enrol(ADMIN, "K1", "A001")  # already_enrolled had the refused change stayed
        assert batch.commands == 2
    topics = [e.topic.rsplit(".", 1)[-1] for e in county.recorder.select_events(teacher_uuid("A001"))]
    assert topics.count("Enrolled") == 1
    with pytest.raises(DomainError) as refused:
        county.enrol(ADMIN, "K1", "A001")
    assert refused.value.code == "already_enrolled"
