"""`trainrec import`: bulk-load teachers, programmes, enrolments, attendance, assessments and credits
from CSV or XLSX through the service's own commands (so every row meets the same domain rules).

Each row's command carries an idempotency key derived from the file's sha256, the kind, the row
number and the row's content: importing the same file again (after an interruption, or twice)
replays the stored answers of rows already done and records nothing new for them. docs/import.md
documents the columns, the accepted values and the report.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.errors import DomainError
from domain.ids import teacher_uuid
from domain.vocabulary import AssessmentResult, Form, Level, Role, SchoolBasedContent, Selection
from service.app import TrainRec
from service.application.unit import CommandResult
from service.auth.scopes import IMPORTS
from service.commands.programmes import MAX_SHEET
from service.importing.sheets import (
    CONTENTS,
    FORMS,
    LEVELS,
    PRESENCE,
    RESULTS,
    SELECTIONS,
    Cell,
    ImportFileError,
    RowError,
    file_sha256,
    header_key,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_int,
    parse_sessions,
    read_rows,
)

DEFAULT_ACTOR = Actor("import", Role.ADMIN)
BATCH_ROWS = 500  # rows whose commands share one transaction (each row is still accepted or refused alone)
Progress = Callable[[int, int], None]
Send = Callable[..., CommandResult]
Row = tuple[int, dict[str, Cell]]


@dataclass(frozen=True)
class Column:
    field: str
    names: tuple[str, ...]  # accepted headers besides `field` itself; the first is the documented one
    required: bool = True

    @property
    def label(self) -> str:
        return f"{self.names[0]} ({self.field})"


_CODE = Column("code", ("项目编号", "项目代码"))
_TEACHER_NO = Column("teacher_no", ("工号", "教师编号", "教师工号"))
# when the row's fact happened, and why it is entered only now (补录): docs/import.md
_OCCURRED_ON = Column("occurred_on", ("发生日期",), required=False)
_LATE_REASON = Column("late_reason", ("补录原因",), required=False)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "teachers": (
        _TEACHER_NO,
        Column("name", ("姓名", "教师姓名")),
        Column("school_id", ("学校代码", "学校编号")),
        Column("hired_on", ("入职日期",), required=False),
    ),
    "programmes": (
        _CODE,
        Column("title", ("项目名称",)),
        Column("level", ("级别", "项目级别")),
        Column("form", ("形式", "培训形式")),
        Column("selection", ("选课方式",)),
        Column("school_based_content", ("校本内容",), required=False),
        Column("hours", ("学时", "总学时")),
        Column("provider_id", ("承训机构", "承训机构代码")),
        Column("owner_org_id", ("主办单位", "主办单位代码")),
        Column("starts_on", ("开始日期",)),
        Column("ends_on", ("结束日期",)),
        Column("sessions", ("场次安排",)),
        Column("capacity", ("容量", "名额"), required=False),
    ),
    "enrolments": (_CODE, _TEACHER_NO, _OCCURRED_ON, _LATE_REASON),
    # a mark happened on its session's day: an attendance sheet has no 发生日期 of its own
    "attendance": (_CODE, Column("session_no", ("场次", "场次号", "session")), _TEACHER_NO,
                   Column("present", ("出勤", "是否出勤")), _LATE_REASON),
    "assessments": (
        _CODE,
        _TEACHER_NO,
        Column("attitude", ("学习态度",)),
        Column("assignments", ("作业完成",)),
        Column("result", ("结果", "考核结果")),
        _OCCURRED_ON,
        _LATE_REASON,
    ),
    "credits": (_CODE, _TEACHER_NO, Column("hours", ("学时", "认定学时")), _OCCURRED_ON, _LATE_REASON),
    "prior-hours": (
        _TEACHER_NO,
        Column("year", ("年度", "年份")),
        Column("hours", ("学时", "总学时")),
        Column("self_selected", ("自主选学学时", "自主选课学时"), required=False),
        Column("school_based", ("校本学时", "校本研修学时"), required=False),
        Column("concentrated", ("集中培训学时", "集中学时"), required=False),
        Column("source", ("来源", "认定来源", "原平台")),
        Column("reason", ("说明", "事由")),
    ),
}
KINDS = tuple(COLUMNS)


# --- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowResult:
    """The answer to one row: accepted (recorded now, or `replayed` from an earlier import of the
    same file), or rejected with a stable code and a reason."""

    row: int
    accepted: bool
    code: str = ""
    reason: str = ""
    replayed: bool = False
    events: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    teacher_no: str = ""  # the row's 工号, when it has one
    name: str = ""  # the row's 姓名, when the sheet has such a column (repeated in the reject report)


@dataclass
class ImportReport:
    kind: str
    file_sha256: str
    results: list[RowResult]
    ignored_columns: list[str]

    @property
    def accepted(self) -> list[RowResult]:
        return [r for r in self.results if r.accepted]

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.results if not r.accepted]

    @property
    def replayed(self) -> list[RowResult]:
        return [r for r in self.results if r.replayed]

    @property
    def events(self) -> int:
        return sum(r.events for r in self.results)

    def summary(self) -> str:
        return (f"{self.kind}: {len(self.results)} rows, {len(self.accepted)} accepted "
                f"({len(self.replayed)} already imported before), {len(self.rejected)} rejected; "
                f"{self.events} events recorded")

    def write_csv(self, path: Path) -> None:
        """The rejected rows as CSV in UTF-8 with a BOM (so Excel opens it): row, code, reason, and
        the row's 工号 (teacher_no) and 姓名 (name) when it has them."""
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "code", "reason", "teacher_no", "name"])
            writer.writerows([r.row, r.code, r.reason, r.teacher_no, r.name] for r in self.rejected)

    def as_json(self) -> dict[str, Any]:
        """The report as the HTTP import answers it: the counts, then every row's answer."""
        return {
            "kind": self.kind, "file_sha256": self.file_sha256, "rows": len(self.results),
            "accepted": len(self.accepted), "replayed": len(self.replayed), "rejected": len(self.rejected),
            "events": self.events, "ignored_columns": list(self.ignored_columns), "summary": self.summary(),
            "results": [
                {"row": r.row, "accepted": r.accepted, "replayed": r.replayed, "events": r.events,
                 **({"answer": r.answer} if r.accepted and r.answer else {}),
                 **({} if r.accepted else {"code": r.code, "reason": r.reason}),
                 "teacher_no": r.teacher_no, "name": r.name}
                for r in self.results
            ],
        }


# --- idempotency keys ----------------------------------------------------------------------------
def _key(*parts: Any) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return "import-" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_key(file_hash: str, kind: str, number: int, row: dict[str, Cell]) -> str:
    """The idempotency key of one row's command: same file, row number and content → same key."""
    return _key(file_hash, kind, number, row)


# --- rows → commands -----------------------------------------------------------------------------
def map_columns(kind: str, headers: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """{field: header in the file} for the kind's columns, and the headers the import ignores."""
    lookup = {header_key(name): column.field for column in COLUMNS[kind] for name in (column.field, *column.names)}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        name = lookup.get(header_key(header))
        if name is None:
            ignored.append(header)
        elif name in mapping:
            raise ImportFileError("duplicate_column", f"columns {mapping[name]!r} and {header!r} both give {name}")
        else:
            mapping[name] = header
    return mapping, ignored


NAME_HEADERS = ("姓名", "教师姓名", "name")
"""The column whose cell a rejected row repeats beside its 工号 (any kind: 姓名 beside 工号 helps
people read a sheet even where the import identifies the teacher by 工号 only)."""


def known_headers(kind: str) -> list[str]:
    """Every header the kind's columns accept, and 姓名: what finds the header row under title rows."""
    return [name for column in COLUMNS[kind] for name in (column.field, *column.names)] + list(NAME_HEADERS)


def name_header(headers: Sequence[str]) -> str:
    """The file's 姓名 column, or ""."""
    keys = {header_key(name) for name in NAME_HEADERS}
    return next((header for header in headers if header_key(header) in keys), "")


def _cell_text(cell: Cell | None) -> str:
    if cell is None or cell == "":
        return ""
    return cell if isinstance(cell, str) else cell.isoformat()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def row_fields(kind: str, mapping: dict[str, str], row: dict[str, Cell]) -> dict[str, Cell]:
    fields: dict[str, Cell] = {}
    for name, cell in row.items():
        if isinstance(cell, str) and _CONTROL.search(cell):
            raise RowError("invalid_text", f"{name} holds a control character (such as NUL)")
    for column in COLUMNS[kind]:
        header = mapping.get(column.field)
        if header is None:
            if column.required:
                raise RowError("missing_column", f"the file has no column {column.label}")
            continue
        value = row.get(header, "")
        if value == "":
            if column.required:
                raise RowError("missing_value", f"{column.label} is empty")
            continue
        fields[column.field] = value
    return fields


def _text(fields: dict[str, Cell], name: str) -> str:
    value = fields[name]
    return value if isinstance(value, str) else value.isoformat()


def _teacher(app: TrainRec, actor: Actor, f: dict[str, Cell]) -> Send:
    hired_on = parse_date(f["hired_on"], "入职日期") if "hired_on" in f else None
    return partial(app.register_teacher, actor, _text(f, "teacher_no"), _text(f, "name"), _text(f, "school_id"),
                   hired_on)


def _programme(app: TrainRec, actor: Actor, f: dict[str, Cell]) -> Send:
    content = f.get("school_based_content")
    capacity = f.get("capacity")
    return partial(
        app.define_programme, actor, code=_text(f, "code"), title=_text(f, "title"),
        level=Level(parse_choice(f["level"], "级别", LEVELS)), form=Form(parse_choice(f["form"], "形式", FORMS)),
        selection=Selection(parse_choice(f["selection"], "选课方式", SELECTIONS)),
        school_based_content=(None if content is None
                              else SchoolBasedContent(parse_choice(content, "校本内容", CONTENTS))),
        hours=parse_decimal(f["hours"], "学时"), provider_id=_text(f, "provider_id"),
        owner_org_id=_text(f, "owner_org_id"), starts_on=parse_date(f["starts_on"], "开始日期"),
        ends_on=parse_date(f["ends_on"], "结束日期"), sessions=parse_sessions(f["sessions"]),
        capacity=None if capacity is None else parse_int(capacity, "容量"),
    )


def _dated(f: dict[str, Cell]) -> dict[str, Any]:
    """The row's effective date (发生日期) and late reason (补录原因), when given."""
    dated: dict[str, Any] = {}
    if "occurred_on" in f:
        dated["occurred_on"] = parse_date(f["occurred_on"], "发生日期")
    if "late_reason" in f:
        dated["late_reason"] = _text(f, "late_reason")
    return dated


def _enrolment(app: TrainRec, actor: Actor, f: dict[str, Cell]) -> Send:
    return partial(app.enrol, actor, _text(f, "code"), _text(f, "teacher_no"), **_dated(f))


def _assessment(app: TrainRec, actor: Actor, f: dict[str, Cell]) -> Send:
    return partial(app.assess, actor, _text(f, "code"), _text(f, "teacher_no"),
                   parse_int(f["attitude"], "学习态度"), parse_int(f["assignments"], "作业完成"),
                   AssessmentResult(parse_choice(f["result"], "结果", RESULTS)), **_dated(f))


def _credit(app: TrainRec, actor: Actor, f: dict[str, Cell]) -> Send:
    return partial(app.award_credit, actor, _text(f, "code"), _text(f, "teacher_no"), parse_decimal(f["hours"], "学时"),
                   **_dated(f))


def _prior_hours(app: TrainRec, actor: Actor, f: dict[str, Cell], evidence: dict[str, str]) -> Send:
    """Earlier hours: the sheet itself (its name and sha256) is the evidence each row cites."""
    def part(name: str, label: str) -> Decimal | None:
        return parse_decimal(f[name], label) if name in f else None

    return partial(app.record_prior_hours, actor, _text(f, "teacher_no"), parse_int(f["year"], "年度"),
                   parse_decimal(f["hours"], "学时"), _text(f, "source"), [evidence], _text(f, "reason"),
                   self_selected=part("self_selected", "自主选学学时"), school_based=part("school_based", "校本学时"),
                   concentrated=part("concentrated", "集中培训学时"))


BUILDERS: dict[str, Callable[[TrainRec, Actor, dict[str, Cell]], Send]] = {
    "teachers": _teacher, "programmes": _programme, "enrolments": _enrolment,
    "assessments": _assessment, "credits": _credit,
}


@dataclass(frozen=True)
class Mark:
    """One attendance row: sent with the other rows of its (programme, session) as one sheet."""

    row: int
    content: dict[str, Cell]
    code: str
    session_no: int
    teacher_no: str
    present: bool
    late_reason: str | None = None


# --- running an import --------------------------------------------------------------------------
class _Line:
    """One row of a sheet, read once: its fields (or why they cannot be read) and its key."""

    def __init__(self, kind: str, mapping: dict[str, str], number: int, row: dict[str, Cell], key: str,
                 name_column: str = "") -> None:
        self.number, self.key = number, key
        self.name = _cell_text(row.get(name_column)) if name_column else ""
        self.fields: dict[str, Cell] = {}
        self.error: RowError | None = None
        try:
            self.fields = row_fields(kind, mapping, row)
        except RowError as error:
            self.error = error
        value = self.fields.get("teacher_no", row.get(mapping.get("teacher_no", ""), ""))  # (also of a bad row)
        self.teacher_no = "" if value in (None, "") else _text({"teacher_no": value}, "teacher_no")


def _accepted(number: int, result: CommandResult, teacher_no: str | None = None) -> RowResult:
    events = [e for e in result.body.get("events", []) if teacher_no is None or e.get("teacher_no") == teacher_no]
    answer = {k: v for k, v in result.body.items() if k != "events"}
    return RowResult(number, True, replayed=result.replayed, events=0 if result.replayed else len(events),
                     answer=answer)


def _send(send: Send, number: int, key: str, teacher_no: str | None = None) -> RowResult:
    try:
        result = send(idempotency_key=key)
    except DomainError as error:
        return RowResult(number, False, error.code, error.detail)
    return _accepted(number, result, teacher_no)


class _Run:
    def __init__(self, app: TrainRec, kind: str, actor: Actor, file_hash: str, total: int,
                 progress: Progress | None, exclusive: bool, file_name: str = "", name_column: str = "") -> None:
        self.name_column = name_column
        self.app, self.kind, self.actor, self.file_hash = app, kind, actor, file_hash
        self.evidence = {"name": file_name or "import", "sha256": file_hash}
        self.exclusive = exclusive
        self.total, self.progress, self.done = total, progress, 0
        self.results: list[RowResult] = []

    def tick(self, rows: int) -> None:
        """Progress: rows run so far (an open batch's rows are recorded when it commits)."""
        self.done += rows
        if self.progress is not None:
            self.progress(self.done, self.total)

    def in_batch(self, run: Callable[[], list[RowResult]], keys: Sequence[str], read_ahead: Sequence[UUID]) -> None:
        """Run some rows' commands (with idempotency `keys`) as one batch, one transaction; their
        results count once it committed. An interruption records nothing of the batch. If another
        writer changed one of its records meanwhile, the batch saved nothing: its rows are run again
        one by one."""
        done = self.done
        try:
            with self.app.batched(self.actor, keys, exclusive=self.exclusive, read_ahead=read_ahead):
                results = run()
        except IntegrityError:
            self.done = done
            results = run()
        self.results.extend(results)

    def rows(self, mapping: dict[str, str], rows: Sequence[Row]) -> None:
        reads_teacher = self.kind in ("teachers", "enrolments", "assessments", "credits", "prior-hours")
        for start in range(0, len(rows), BATCH_ROWS):
            chunk = [_Line(self.kind, mapping, number, row, row_key(self.file_hash, self.kind, number, row),
                           self.name_column)
                     for number, row in rows[start : start + BATCH_ROWS]]
            # the teachers the rows' commands will load (or, registering them, look for)
            ahead = [teacher_uuid(line.teacher_no) for line in chunk if reads_teacher and line.teacher_no]
            self.in_batch(partial(self.chunk, chunk), [line.key for line in chunk], ahead)

    def chunk(self, lines: Sequence[_Line]) -> list[RowResult]:
        results = []
        for line in lines:
            results.append(self.row(line))
            self.tick(1)
        return results

    def row(self, line: _Line) -> RowResult:
        try:
            if line.error is not None:
                raise line.error
            if self.kind == "prior-hours":
                send = _prior_hours(self.app, self.actor, line.fields, self.evidence)
            else:
                send = BUILDERS[self.kind](self.app, self.actor, line.fields)
        except RowError as error:
            return RowResult(line.number, False, error.code, error.reason, teacher_no=line.teacher_no,
                             name=line.name)
        result = _send(send, line.number, line.key)
        return result if result.accepted else replace(result, teacher_no=line.teacher_no, name=line.name)

    def attendance(self, mapping: dict[str, str], rows: Sequence[Row]) -> None:
        units: list[tuple[int, RowResult | list[Mark]]] = []
        sheets: dict[tuple[str, int, str | None], list[Mark]] = {}
        seen: dict[tuple[str, int, str], int] = {}
        for number, row in rows:
            try:
                f = row_fields(self.kind, mapping, row)
                mark = Mark(number, row, _text(f, "code"), parse_int(f["session_no"], "场次"),
                            _text(f, "teacher_no"), parse_choice(f["present"], "出勤", PRESENCE) == "1",
                            _text(f, "late_reason") if "late_reason" in f else None)
                first = seen.setdefault((mark.code, mark.session_no, mark.teacher_no), number)
                if first != number:
                    raise RowError("duplicate_line", f"teacher {mark.teacher_no} is already on row {first} "
                                   f"for {mark.code} session {mark.session_no}")
            except RowError as error:
                teacher_no = _cell_text(row.get(mapping.get("teacher_no", "")))
                units.append((number, RowResult(number, False, error.code, error.reason, teacher_no=teacher_no,
                                                name=self.name_of(row))))
                continue
            # one sheet per session and late reason (a sheet's reason is its lines')
            sheet = sheets.setdefault((mark.code, mark.session_no, mark.late_reason), [])
            if not sheet:
                units.append((number, sheet))
            sheet.append(mark)
        work: list[RowResult | list[Mark]] = []
        for _, unit in units:
            if isinstance(unit, RowResult):
                work.append(unit)
            else:
                work.extend(unit[start : start + MAX_SHEET] for start in range(0, len(unit), MAX_SHEET))
        chunk: list[RowResult | list[Mark]] = []
        lines = 0
        for index, item in enumerate(work):
            chunk.append(item)
            lines += 1 if isinstance(item, RowResult) else len(item)
            if lines >= BATCH_ROWS or index == len(work) - 1:  # sheets share a transaction up to BATCH_ROWS lines
                sheets_of_chunk = [part for part in chunk if not isinstance(part, RowResult)]
                ahead = [teacher_uuid(m.teacher_no) for sheet in sheets_of_chunk for m in sheet]
                self.in_batch(partial(self.sheets, chunk), [self.sheet_key(sheet) for sheet in sheets_of_chunk], ahead)
                chunk, lines = [], 0

    def name_of(self, row: dict[str, Cell]) -> str:
        return _cell_text(row.get(self.name_column)) if self.name_column else ""

    def sheets(self, items: list[RowResult | list[Mark]]) -> list[RowResult]:
        results: list[RowResult] = []
        for item in items:
            done = [item] if isinstance(item, RowResult) else self.sheet(item)
            results.extend(done)
            self.tick(len(done))
        return results

    def sheet_key(self, marks: list[Mark]) -> str:
        return _key(self.file_hash, self.kind, "sheet", marks[0].code, marks[0].session_no,
                    [(m.row, m.content) for m in marks])

    def sheet(self, marks: list[Mark]) -> list[RowResult]:
        """One sheet command for the marks; if it is refused (one refused line refuses a sheet),
        each mark is sent as a sheet of its own, so good lines are recorded and bad ones named."""
        code, session_no, late_reason = marks[0].code, marks[0].session_no, marks[0].late_reason

        def send(lines: list[Mark]) -> Send:
            return partial(self.app.record_attendance, self.actor, code, session_no,
                           [m.teacher_no for m in lines if m.present], [m.teacher_no for m in lines if not m.present],
                           late_reason=late_reason)

        try:
            result = send(marks)(idempotency_key=self.sheet_key(marks))
        except DomainError as error:
            if len(marks) == 1:
                return [RowResult(marks[0].row, False, error.code, error.detail, teacher_no=marks[0].teacher_no,
                                  name=self.name_of(marks[0].content))]
            results = [_send(send([m]), m.row, row_key(self.file_hash, self.kind, m.row, m.content), m.teacher_no)
                       for m in marks]
            return [r if r.accepted else replace(r, teacher_no=m.teacher_no, name=self.name_of(m.content))
                    for r, m in zip(results, marks, strict=True)]
        return [_accepted(m.row, result, m.teacher_no) for m in marks]


def import_file(
    app: TrainRec,
    kind: str,
    path: Path | str,
    actor: Actor = DEFAULT_ACTOR,
    progress: Progress | None = None,
    exclusive: bool = False,
    max_rows: int | None = None,
    file_name: str | None = None,
) -> ImportReport:
    """Import every row of `path` as `kind` through the service's commands, acting as `actor`.

    Raises ImportFileError when the file as a whole cannot be read; a row that fails is reported
    (code and reason) and records nothing; the others are recorded, one command per row (one
    per (programme, session) sheet for attendance), the commands of up to BATCH_ROWS rows in
    one transaction. `exclusive`: no other thread uses `app` meanwhile (the CLI), so commands
    may work on cached aggregates without copying them (TrainRecBase.batched). `max_rows`: a file
    with more data rows is refused whole (ImportFileError `too_many_rows`) before any is run.
    `file_name`: the file's name as its sender called it (the evidence earlier hours cite), else
    the path's. A role that never may record the kind's rows is refused (Forbidden) before the file
    is read (service.auth.scopes.IMPORTS).
    """
    if kind not in COLUMNS:
        raise ImportFileError("unknown_kind", f"unknown import {kind!r}; one of {', '.join(KINDS)}")
    app.scopes.gate(actor, IMPORTS[kind])
    path = Path(path)
    try:
        file_hash = file_sha256(path)
        rows = list(read_rows(path, known_headers(kind)))
    except OSError as error:
        raise ImportFileError("unreadable_file", f"cannot read {path}: {error.strerror or error}") from None
    if max_rows is not None and len(rows) > max_rows:
        raise ImportFileError("too_many_rows", f"the sheet has {len(rows)} rows; at most {max_rows} are "
                                               f"imported at once: split it, or use `trainrec import`")
    headers = list(dict.fromkeys(header for _, row in rows for header in row)) if rows else []
    mapping, ignored = map_columns(kind, headers)
    run = _Run(app, kind, actor, file_hash, len(rows), progress, exclusive, file_name or path.name,
               name_header(headers))
    if progress is not None:
        progress(0, len(rows))
    if kind == "attendance":
        run.attendance(mapping, rows)
    else:
        run.rows(mapping, rows)
    results = sorted(run.results, key=lambda r: r.row)
    return ImportReport(kind, file_hash, results, ignored)


__all__ = ["DEFAULT_ACTOR", "KINDS", "ImportFileError", "ImportReport", "RowResult", "import_file", "read_rows"]
