"""QR codes (segno), drawn on a PDF page as filled squares: sharp at any zoom, no image to embed."""

from __future__ import annotations

import segno
from fpdf import FPDF


def qr_matrix(text: str) -> list[list[bool]]:
    """The dark modules of `text`'s QR code (error correction M, no quiet zone), row by row."""
    code = segno.make_qr(text, error="m", boost_error=False)
    return [[bool(cell) for cell in row] for row in code.matrix]


def draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw `text`'s QR code with its top-left corner at (x, y), `size` wide with its 4-module quiet
    zone (white, left as the page is), each row's runs of dark modules as one rectangle."""
    matrix = qr_matrix(text)
    modules = len(matrix) + 8
    step = size / modules
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + (start + 4) * step, y + (r + 4) * step, (c - start) * step, step, style="F")
