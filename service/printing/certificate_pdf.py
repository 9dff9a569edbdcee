"""The printable hours certificate (学时证明): its number, whom and what it certifies, the lines it
counted and their total, the issuing org and date, and a QR code to its public check page."""

from __future__ import annotations

from dataclasses import dataclass

from domain.teacher_records import Certificate
from service.labels import label
from service.printing.sheet import Sheet
from service.printing.words import day, hours


@dataclass(frozen=True)
class CertificatePrint:
    certificate: Certificate
    teacher_no: str
    verify_url: str


def _data_text(p: CertificatePrint) -> list[str]:
    c = p.certificate
    texts = [c.certificate_no, c.teacher_name, p.teacher_no, c.school_name, c.school_id, c.issuer_org_name,
             c.purpose, p.verify_url, str(c.programme_code or ""), str(c.checkpoint_size or ""),
             str(c.checkpoint_root or "")]
    for line in c.lines:
        texts += [str(line.get("title") or ""), str(line.get("programme_code") or "")]
    return texts


def render_certificate(p: CertificatePrint) -> bytes:
    c = p.certificate
    footer = f"学时证明 {c.certificate_no} · 核验：{p.verify_url}"
    pdf = Sheet(_data_text(p), footer)
    pdf.set_title(f"学时证明 {c.certificate_no}")
    pdf.add_page()
    pdf.frame()
    pdf.qr_corner(p.verify_url, "扫码核验")
    pdf.set_y(22)
    pdf.title_line("学 时 证 明", size=24)
    pdf.set_font_size(10)
    pdf.cell(pdf.width, 7, f"证书编号：{c.certificate_no}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(12)
    pdf.ln(12)
    if c.year is not None:
        what = f"于{c.year}年度参加教师继续教育培训"
    else:
        title = c.lines[0]["title"] if c.lines else ""
        what = f"参加培训项目《{title}》（{c.programme_code}）"
    body = (f"兹证明{c.teacher_name}（工号：{p.teacher_no}），{c.school_name}教师，{what}，"
            f"经认定共计 {hours(c.hours)} 学时。明细如下：")
    pdf.multi_cell(pdf.width, 8, body, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    rows = []
    for n, line in enumerate(c.lines, start=1):
        if line["kind"] == "prior":
            rows.append([str(n), f"历史学时：{line['title']}", "", "", str(line["year"]), hours(line["hours"]), ""])
        else:
            rows.append([str(n), f"{line['title']}（{line['programme_code']}）", label("level", line["level"]),
                         label("form", line["form"]), str(line["year"]), hours(line["hours"]),
                         str(line["awarded_on"])])
    pdf.grid(["序号", "培训项目", "层级", "形式", "年度", "学时", "认定日期"], [6, 44, 9, 11, 8, 8, 14], rows,
              ["C", "L", "C", "C", "C", "R", "C"], footer=["", "合计", "", "", "", hours(c.hours), ""])
    pdf.ln(4)
    pdf.set_font_size(10.5)
    if c.purpose:
        pdf.multi_cell(pdf.width, 7, f"用途：{c.purpose}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(pdf.width, 6, "本证明据教师培训学时档案开具。所列学时如在开具后被撤销，本证明即不再有效；"
                   "请扫描右上角二维码或访问页脚地址核验。", align="L", new_x="LMARGIN", new_y="NEXT")
    if c.checkpoint_size is not None:
        pdf.set_font_size(9)
        pdf.multi_cell(pdf.width, 5, f"开具时审计日志检查点：共 {c.checkpoint_size} 条记录，根哈希 {c.checkpoint_root}",
                       align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(10.5)
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(16)
    pdf.set_font_size(12)
    pdf.cell(pdf.width - 10, 8, f"开具单位：{c.issuer_org_name}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(pdf.width - 10, 8, f"开具日期：{day(c.issued_on)}", align="R", new_x="LMARGIN", new_y="NEXT")
    return pdf.document()
