"""The printing modules on their own: the font cut to a document's characters, the QR code, the
words of the page, and the names the public check page masks."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import segno
from fontTools.ttLib import TTFont

from service.printing.font import font_for
from service.printing.qr import qr_matrix
from service.printing.words import day, hours, instant
from service.queries.printing import masked
from tests.printing_support import require_pdf_font


def test_a_documents_font_holds_the_glyphs_of_its_characters_and_no_others() -> None:
    require_pdf_font()
    font = TTFont(io.BytesIO(font_for("张伟 24 学时")))
    cmap = font.getBestCmap()
    assert set(cmap) == {ord(c) for c in "张伟 24学时"}
    glyf = font["glyf"]
    components = {name for glyph in cmap.values() if glyf[glyph].isComposite()
                  for name in glyf[glyph].getComponentNames(glyf)}
    # .notdef, the characters' glyphs and the parts the composite ones are drawn from: nothing else
    assert set(font.getGlyphOrder()) == {".notdef", *cmap.values(), *components}
    assert all(glyf[name].numberOfContours != 0 for name in cmap.values() if name != "space")


def test_the_qr_matrix_is_segnos_encoding_of_the_address() -> None:
    url = "https://trainrec.example/verify/ZM-0123456789ABCDEF"
    assert qr_matrix(url) == [[bool(c) for c in row] for row in segno.make_qr(url, error="m", boost_error=False).matrix]


def test_the_words_of_the_page() -> None:
    assert [hours(24), hours(Decimal("12.5")), hours(12.0), hours("0.5")] == ["24", "12.5", "12", "0.5"]
    assert day(date(2024, 3, 6)) == day("2024-03-06") == "2024年03月06日"
    shanghai = ZoneInfo("Asia/Shanghai")
    assert instant(datetime(2024, 3, 5, 16, 30, tzinfo=UTC), shanghai) == "2024-03-06 00:30（北京时间）"


def test_the_check_page_masks_names_but_their_first_and_last_characters() -> None:
    assert [masked(n) for n in ("张伟明", "王芳", "欧阳娜娜", "李", "")] == ["张*明", "王*", "欧**娜", "*", "*"]
