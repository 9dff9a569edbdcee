"""What the printed records share: an A4 page set in the project's CJK font, a bold title, bordered
tables whose cells fit their text, a QR code in the top right corner and a footer on every page."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import TTFFont

from service.labels import FORMS, LEVELS, STATUSES
from service.printing.font import FAMILY, font_for
from service.printing.qr import draw_qr

# Every character the printing modules write themselves: their own source (the words of their
# templates), the labels they print, digits and punctuation. A document's font holds these and the
# characters of its data.
_HERE = Path(__file__).resolve().parent
TEMPLATE_TEXT = "".join(
    [*(path.read_text(encoding="utf-8") for path in sorted(_HERE.glob("*.py"))),
     *LEVELS.values(), *FORMS.values(), *STATUSES.values(), "0123456789…—–·・"]
)

MARGIN = 15.0
QR_SIZE = 30.0


class Sheet(FPDF):
    """One printed record: `footer_text` on the left of every page's foot, the page number on its right."""

    def __init__(self, data_text: Iterable[str], footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 8)
        text = TEMPLATE_TEXT + footer_text + "".join(data_text)
        # fpdf2 reads a font from a file name; a file-like object serves as well (fontTools opens either)
        font = TTFFont(self, io.BytesIO(font_for(text)), FAMILY.lower(), "")  # type: ignore[arg-type]
        font.ttfont.recalcBBoxes = False  # its glyphs keep the bounds they were stored with
        self.fonts[FAMILY.lower()] = font
        self.set_font(FAMILY, size=10.5)
        self.set_draw_color(0, 0, 0)
        self.set_line_width(0.2)
        self.set_creator("trainrec")

    def footer(self) -> None:
        self.set_y(-MARGIN - 2)
        self.set_font(FAMILY, size=8)
        self.set_text_color(90, 90, 90)
        width = self.w - 2 * MARGIN
        self.cell(width * 0.8, 5, fit(self, self.footer_text, width * 0.8), align="L")
        self.cell(width * 0.2, 5, f"第 {self.page_no()} 页 共 {{nb}} 页", align="R")
        self.set_text_color(0, 0, 0)
        self.set_font(FAMILY, size=10.5)

    @property
    def width(self) -> float:
        return self.w - 2 * MARGIN

    def title_line(self, text: str, size: float = 20) -> None:
        self.set_font(FAMILY, size=size)
        self.text_mode = TextMode.FILL_STROKE  # the font has no bold face: a stroked outline thickens it
        self.set_line_width(0.35)
        self.cell(self.width, size * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.text_mode = TextMode.FILL
        self.set_line_width(0.2)
        self.set_font(FAMILY, size=10.5)

    def qr_corner(self, url: str, caption: str) -> None:
        """The QR code in the first page's top right corner, `caption` under it."""
        x, y = self.w - MARGIN - QR_SIZE, MARGIN - 4
        draw_qr(self, url, x, y, QR_SIZE)
        self.set_font(FAMILY, size=7)
        self.set_xy(x, y + QR_SIZE - 1)
        self.cell(QR_SIZE, 3.5, caption, align="C")
        self.set_font(FAMILY, size=10.5)

    def frame(self) -> None:
        """A double rule around the page (a certificate's border)."""
        self.set_line_width(0.8)
        self.rect(8, 8, self.w - 16, self.h - 16)
        self.set_line_width(0.2)
        self.rect(9.5, 9.5, self.w - 19, self.h - 19)

    def section(self, text: str) -> None:
        self.ln(3)
        self.set_font(FAMILY, size=12)
        self.cell(self.width, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=10.5)

    def grid(self, headers: Sequence[str], widths: Sequence[float], rows: Iterable[Sequence[str]],
              aligns: Sequence[str], height: float = 7.0, footer: Sequence[str] | None = None) -> None:
        """A bordered table; `widths` in shares of the page's width. The header row repeats on each
        new page; `footer` is a last, shaded row (totals)."""
        total = sum(widths)
        cols = [self.width * w / total for w in widths]
        self.set_font_size(9)

        def header() -> None:
            self.set_fill_color(232, 232, 232)
            for text, w in zip(headers, cols, strict=True):
                self.cell(w, height, fit(self, text, w), border=1, align="C", fill=True)
            self.ln(height)

        header()
        for row in rows:
            if self.will_page_break(height):
                self.add_page()
                header()
            for text, w, align in zip(row, cols, aligns, strict=True):
                self.cell(w, height, fit(self, text, w), border=1, align=align)
            self.ln(height)
        if footer is not None:
            if self.will_page_break(height):
                self.add_page()
                header()
            self.set_fill_color(245, 245, 245)
            for text, w, align in zip(footer, cols, aligns, strict=True):
                self.cell(w, height, fit(self, text, w), border=1, align=align, fill=True)
            self.ln(height)
        self.set_font_size(10.5)

    def pairs(self, items: Sequence[tuple[str, str]], per_row: int = 2, height: float = 8.0) -> None:
        """Label–value cells, `per_row` pairs a row, labels shaded."""
        label_w = self.width * 0.14
        value_w = self.width / per_row - label_w
        for start in range(0, len(items), per_row):
            for label, value in items[start:start + per_row]:
                self.set_fill_color(240, 240, 240)
                self.cell(label_w, height, label, border=1, align="C", fill=True)
                self.cell(value_w, height, fit(self, value, value_w), border=1, align="L")
            self.ln(height)

    def document(self) -> bytes:
        return bytes(self.output())


def fit(pdf: FPDF, text: str, width: float, padding: float = 2.2) -> str:
    """`text`, cut to fit `width` (mm, less the cell's padding) with an ellipsis where it is cut."""
    room = width - padding
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"
