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
CELL_PADDING = 1.1  # mm of room either side of a table cell's text


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
        new page; `footer` is a last, shaded row (totals). Each cell is a rectangle and a line of
        text placed by hand (`FPDF.cell` costs a millisecond a cell, and a transcript has hundreds)."""
        total = sum(widths)
        cols = [self.width * w / total for w in widths]
        self.set_font_size(9)

        def line(texts: Sequence[str], line_aligns: Sequence[str], shade: int | None) -> None:
            if self.will_page_break(height):
                self.add_page()
                if texts is not headers:
                    line(headers, ["C"] * len(headers), 232)
            x, y = self.l_margin, self.y
            if shade is not None:
                self.set_fill_color(shade, shade, shade)
            for text, w, align in zip(texts, cols, line_aligns, strict=True):
                self.rect(x, y, w, height, style="DF" if shade is not None else "D")
                shown = fit(self, text, w)
                room = w - 2 * CELL_PADDING
                left = {"C": (room - text_width(self, shown)) / 2, "R": room - text_width(self, shown)}.get(align, 0)
                self.text(x + CELL_PADDING + left, y + height / 2 + 0.3 * self.font_size, shown)
                x += w
            self.set_xy(self.l_margin, y + height)

        line(headers, ["C"] * len(headers), 232)
        for row in rows:
            line(row, aligns, None)
        if footer is not None:
            line(footer, aligns, 245)
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


def text_width(pdf: FPDF, text: str) -> float:
    """The width of `text` in the current font and size, from the font's advance widths (what
    `FPDF.get_string_width` answers for plain text, without its markup parsing: a table has
    hundreds of cells)."""
    font = pdf.current_font
    assert isinstance(font, TTFFont)  # the sheet's own font, set before anything is written
    widths = font.cw  # 1/1000 em per character
    return float(sum(widths[ord(char)] for char in text)) * pdf.font_size / 1000


def fit(pdf: FPDF, text: str, width: float, padding: float = 2.2) -> str:
    """`text`, cut to fit `width` (mm, less the cell's padding) with an ellipsis where it is cut."""
    room = width - padding
    if text_width(pdf, text) <= room:
        return text
    while text and text_width(pdf, text + "…") > room:
        text = text[:-1]
    return text + "…"
