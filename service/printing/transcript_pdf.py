"""The printable transcript (培训学时档案) of one teacher as of an instant: who, where, every line with
its level, form, hours and certifier, earlier hours, totals per year and for the cycle, a document
number and a QR code to the transcript's page as of the same instant."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.labels import label
from service.printing.sheet import Sheet
from service.printing.words import day, hours, instant

ISSUER = "trainrec 教师培训学时管理平台"


@dataclass(frozen=True)
class TranscriptPrint:
    """What the transcript's page shows besides the transcript: names, the instant, the link."""

    transcript: dict[str, Any]
    school_name: str
    as_of: datetime
    printed_at: datetime
    check_url: str
    zone: ZoneInfo

    @property
    def document_no(self) -> str:
        """DA- and 16 hex digits of a digest of the transcript and its instant: the same record as of
        the same instant prints the same number; any difference in what it says, another."""
        content = {k: v for k, v in self.transcript.items() if k not in ("stale", "as_of")}
        digest = hashlib.sha256(json.dumps([content, self.as_of.isoformat()], sort_keys=True,
                                           ensure_ascii=False, default=str).encode()).hexdigest()
        return "DA-" + digest[:16].upper()


def _data_text(p: TranscriptPrint) -> list[str]:
    t = p.transcript
    texts = [str(t.get("name", "")), str(t.get("teacher_no", "")), str(t.get("school_id", "")), p.school_name,
             p.check_url, p.document_no]
    for line in t.get("lines", []):
        texts += [str(line.get(k) or "") for k in ("title", "programme_code", "certified_by")]
    texts += [str(r.get("source") or "") for r in t.get("prior", [])]
    texts += [str(code) for code in t.get("pending_evaluation", [])]
    return texts


def render_transcript(p: TranscriptPrint) -> bytes:
    t = p.transcript
    footer = f"{ISSUER}据记录生成 · 文档编号 {p.document_no} · 扫描右上角二维码可核对"
    pdf = Sheet(_data_text(p), footer)
    pdf.set_title(f"培训学时档案 {t['teacher_no']}")
    pdf.add_page()
    pdf.qr_corner(p.check_url, "扫码核对")
    pdf.set_y(18)
    pdf.title_line("教师培训学时档案")
    pdf.set_font_size(9)
    pdf.cell(pdf.width, 6, f"文档编号：{p.document_no}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(pdf.width, 5, f"记录截至：{instant(p.as_of, p.zone)}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(10.5)
    pdf.ln(7)
    departure = t.get("departure")
    status = "在职" if departure is None else (
        f"{label('departure_kind', departure['kind'])}（{day(departure['effective_on'])}）")
    pdf.pairs([("姓名", str(t["name"])), ("工号", str(t["teacher_no"])),
               ("学校", f"{p.school_name}（{t['school_id']}）"), ("状态", status)])

    pdf.section("一、培训学时明细")
    rows = []
    for n, line in enumerate(t["lines"], start=1):
        rows.append([str(n), f"{line['title']}（{line['programme_code']}）", label("level", line["level"]),
                     label("form", line["form"]), str(line["year"]), hours(line["hours"]), line["awarded_on"],
                     str(line.get("certified_by") or ""), label("status", line["status"])])
    if not rows:
        rows.append(["", "（无）", "", "", "", "", "", "", ""])
    pdf.grid(["序号", "培训项目", "层级", "形式", "年度", "学时", "认定日期", "认定人", "状态"],
              [5.5, 34, 9, 11, 7, 7, 13, 13, 8], rows, ["C", "L", "C", "C", "C", "R", "C", "C", "C"])
    if t.get("pending_evaluation"):
        pdf.set_font_size(9)
        pdf.multi_cell(pdf.width, 5, "待学员评价后显示学时的项目：" + "、".join(t["pending_evaluation"]),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(10.5)

    if t.get("prior"):
        pdf.section("二、历史学时（原平台认定）")
        prior_rows = [[str(n), str(r["source"]), str(r["year"]), hours(r["hours"]), hours(r["self_selected"]),
                       hours(r["school_based"]), hours(r["concentrated"]), label("status", r["status"])]
                      for n, r in enumerate(t["prior"], start=1)]
        pdf.grid(["序号", "来源", "年度", "学时", "自主选学", "校本研修", "集中培训", "状态"],
                  [5.5, 34, 8, 8, 10, 10, 10, 8], prior_rows, ["C", "L", "C", "R", "R", "R", "R", "C"])

    pdf.section(f"{'三' if t.get('prior') else '二'}、学时合计（已撤销的不计）")
    by_year = t["totals"]["by_year"]
    year_rows = [[year, hours(v["hours"]), hours(v["self_selected"]), hours(v["school_based"]),
                  hours(v["concentrated"])] for year, v in by_year.items()]
    if not year_rows:
        year_rows.append(["（无）", "0", "0", "0", "0"])
    cycle = t["totals"]["cycle"]
    pdf.grid(["年度", "学时", "其中自主选学", "其中校本研修", "其中集中培训"], [1, 1, 1, 1, 1], year_rows,
              ["C", "R", "R", "R", "R"],
              footer=[f"本周期 {cycle['start_year']}–{cycle['end_year']}", hours(cycle["hours"]),
                      f"应达 {hours(cycle['required'])}", "", ""])

    pdf.ln(8)
    pdf.set_font_size(10)
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.cell(pdf.width, 6, f"生成单位：{ISSUER}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(pdf.width, 6, f"打印日期：{day(p.printed_at.astimezone(p.zone).date())}", align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(pdf.width, 6, f"政策版本：{t.get('policy_version', '')}", align="R", new_x="LMARGIN", new_y="NEXT")
    return pdf.document()
