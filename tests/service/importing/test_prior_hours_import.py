"""`trainrec import prior-hours`: a county's earlier hours (历史学时) from a sheet with Chinese headers,
CSV or XLSX, on every backend; each row is recorded or rejected on its own (with its 工号), the sheet
itself is the evidence each record cites, and importing it again records nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.errors import Forbidden
from service.app import TrainRec
from service.importing.importer import import_file
from service.storage.config import storage_from_url
from tests.conftest import COUNTY_SUP, SCHOOL_ADMIN, build_county
from tests.helpers import last_notification
from tests.service.importing.test_import import ROOT, import_twice, write_csv, write_xlsx

HEADER = ["工号", "姓名", "年度", "学时", "自主选学学时", "校本学时", "集中培训学时", "来源", "说明"]
ROWS = [
    HEADER,
    ["A001", "张伟", "2023", "80", "40", "16", "", "省继续教育旧平台", "平台迁移"],  # 2
    ["A002", "王芳", "2022", "72.5", "", "", "72.5", "省继续教育旧平台", "平台迁移"],  # 3
    ["X999", "某某", "2023", "80", "", "", "", "省继续教育旧平台", "平台迁移"],  # 4: unknown teacher
    ["A003", "李娜", "2023", "80", "50", "40", "", "省继续教育旧平台", "平台迁移"],  # 5: 50 + 40 > 80
    ["B001", "刘洋", "2023", "80", "", "", "", "省继续教育旧平台", ""],  # 6: no 说明
    ["C001", "陈静", "二〇二三", "80", "", "", "", "省继续教育旧平台", "平台迁移"],  # 7: year not a number
    ["A001", "张伟", "2023", "80", "40", "16", "", "省继续教育旧平台", "平台迁移"],  # 8: row 2 again
    ["C002", "欧阳娜娜", "2030", "80", "", "", "", "省继续教育旧平台", "平台迁移"],  # 9: a future year
]
EXPECTED = [(4, "teacher_not_found", "X999"), (5, "invalid_breakdown", "A003"), (6, "missing_value", "B001"),
            (7, "invalid_number", "C001"), (8, "prior_hours_already_recorded", "A001"), (9, "invalid_year", "C002")]


def test_a_sheet_of_earlier_hours_is_imported_row_by_row(county: TrainRec, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "历史学时.csv", ROWS, encoding="gbk")
    report = import_twice(county, "prior-hours", path)
    assert [(r.row, r.code, r.teacher_no) for r in report.rejected] == EXPECTED
    assert [r.row for r in report.accepted] == [2, 3]
    assert report.ignored_columns == ["姓名"]
    a001 = county.transcript(COUNTY_SUP, "A001")
    assert [(p["year"], p["hours"], p["source"]) for p in a001["prior"]] == [(2023, 80, "省继续教育旧平台")]
    assert a001["totals"]["by_year"]["2023"] == {"hours": 80, "self_selected": 40, "school_based": 16,
                                                 "concentrated": 0}
    assert county.transcript(COUNTY_SUP, "A002")["totals"]["by_year"]["2022"]["concentrated"] == 72.5
    recorded = county.teacher_history(COUNTY_SUP, "A001")[-1]
    assert recorded["type"] == "PriorHoursRecorded"
    assert recorded["data"]["evidence"] == [{"name": "历史学时.csv", "sha256": report.file_sha256}]
    assert (recorded["reason"], recorded["actor"]["sub"]) == ("平台迁移", "import")


def test_an_xlsx_sheet_of_earlier_hours_is_held_to_the_importers_scope(county: TrainRec, tmp_path: Path) -> None:
    """A county supervisor imports its county's sheet; a school admin, which never records earlier
    hours, is refused the whole sheet before it is read."""
    row = ["A001", "张伟", 2023, 80.0, 40, None, None, "旧平台", "迁移"]
    path = write_xlsx(tmp_path / "历史学时.xlsx", [HEADER, [1001, *row[1:]]])
    before = last_notification(county)
    with pytest.raises(Forbidden) as refused:
        import_file(county, "prior-hours", path, actor=SCHOOL_ADMIN)
    assert refused.value.code == "forbidden_scope"
    assert last_notification(county) == before
    path = write_xlsx(tmp_path / "历史学时2.xlsx", [HEADER, row])
    report = import_file(county, "prior-hours", path, actor=COUNTY_SUP)
    assert ([r.row for r in report.accepted], report.rejected) == ([2], [])
    assert county.transcript(COUNTY_SUP, "A001")["totals"]["by_year"]["2023"]["self_selected"] == 40


def test_cli_import_of_earlier_hours_names_each_rejected_rows_teacher(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    app = TrainRec(storage_from_url(url))
    build_county(app)
    app.close()
    path = write_csv(tmp_path / "prior.csv", [HEADER, ROWS[1], ROWS[3]])
    env = {**os.environ, "TRAINREC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "service.cli", "import", "prior-hours", str(path), "--report", "rejected.csv"]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "row 3: teacher_not_found: no teacher X999 [工号 X999] [姓名 某某]" in run.stdout
    assert "prior-hours: 2 rows, 1 accepted (0 already imported before), 1 rejected; 1 events recorded" in run.stdout
    lines = (tmp_path / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["row,code,reason,teacher_no,name", "3,teacher_not_found,no teacher X999,X999,某某"]
