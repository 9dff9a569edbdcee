"""The CJK font the PDFs are set in, parsed once per process, and a small font per document.

The project installs WenQuanYi Micro Hei (Debian's `fonts-wqy-microhei`: `make setup` and .ci/run
install it), a TrueType font (glyf outlines) that fpdf2 embeds. `TRAINREC_PDF_FONT` names another
TrueType file (or collection, its first font) instead. Parsing the whole font takes about a second
and fpdf2's own subsetting re-reads it for every document, so the font is parsed once per process
(`_master`) and each document gets a font of only the characters it prints (`font_for`): a few
kilobytes, built in milliseconds, which fpdf2 then embeds as it would any font.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fontTools.fontBuilder import FontBuilder
from fontTools.ttLib import TTFont, newTable

from domain.errors import Unavailable

FONT_ENV = "TRAINREC_PDF_FONT"
DEFAULT_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian: fonts-wqy-microhei
)
FAMILY = "TrainrecCJK"


def font_path() -> Path | None:
    """The font file to use: `TRAINREC_PDF_FONT` if set, else the first default present, else None."""
    named = os.environ.get(FONT_ENV)
    if named:
        return Path(named) if Path(named).is_file() else None
    return next((path for path in DEFAULT_FONTS if path.is_file()), None)


def font_missing_reason() -> str | None:
    """Why no PDF can be set here (one line), or None when the font is there."""
    if font_path() is not None:
        return None
    named = os.environ.get(FONT_ENV)
    if named:
        return f"{FONT_ENV}={named} is not a file"
    return "no CJK font: apt-get install fonts-wqy-microhei (make setup does), or set TRAINREC_PDF_FONT"


@dataclass
class _Master:
    font: TTFont
    cmap: dict[int, str]
    units_per_em: int
    metrics: dict[str, Any]
    lock: threading.Lock


@cache
def _master(path: Path) -> _Master:
    font = TTFont(str(path), fontNumber=0, recalcTimestamp=False)
    cmap: dict[int, str] = font.getBestCmap()
    hhea, os2 = font["hhea"], font["OS/2"]
    metrics = {
        "ascent": hhea.ascent, "descent": hhea.descent,
        "os2": {"sTypoAscender": os2.sTypoAscender, "sTypoDescender": os2.sTypoDescender,
                "sTypoLineGap": os2.sTypoLineGap, "usWinAscent": os2.usWinAscent,
                "usWinDescent": os2.usWinDescent, "usWeightClass": os2.usWeightClass,
                "sCapHeight": getattr(os2, "sCapHeight", hhea.ascent),
                "sxHeight": getattr(os2, "sxHeight", 0)},
    }
    font["glyf"]  # read the outlines' table now, not under the first document's lock
    font["hmtx"]
    return _Master(font, cmap, int(font["head"].unitsPerEm), metrics, threading.Lock())


def warm() -> None:
    """Parse the font now (a server may call it at start so the first PDF is not the slow one)."""
    path = font_path()
    if path is not None:
        _master(path)


def font_for(text: str) -> bytes:
    """A TrueType font with the glyphs of the characters of `text` (those the font has), and .notdef."""
    path = font_path()
    if path is None:
        raise Unavailable("pdf_unavailable", f"PDFs cannot be made here: {font_missing_reason()}")
    master = _master(path)
    with master.lock:  # the outlines' table expands glyphs on first use: one document at a time
        glyf = master.font["glyf"]
        hmtx = master.font["hmtx"]
        order = [".notdef"]
        seen = {".notdef"}
        mapping: dict[int, str] = {}
        for char in sorted(set(text)):
            name = master.cmap.get(ord(char))
            if name is None:
                continue
            mapping[ord(char)] = name
            stack = [name]
            while stack:
                glyph_name = stack.pop()
                if glyph_name in seen:
                    continue
                seen.add(glyph_name)
                order.append(glyph_name)
                if glyf.glyphs[glyph_name].isComposite():  # (read without expanding the glyph)
                    stack.extend(glyf[glyph_name].getComponentNames(glyf))
        builder = FontBuilder(master.units_per_em, isTTF=True)
        builder.font.recalcBBoxes = False  # the stored glyphs keep their bounds: no need to expand them
        builder.setupGlyphOrder(order)
        builder.setupCharacterMap(mapping)
        # the glyphs as stored, not expanded: written back as the very bytes they were read from
        # (FontBuilder.setupGlyf would expand each to look for cubic curves, which TrueType has none of)
        table = newTable("glyf")
        table.glyphs = {name: glyf.glyphs[name] for name in order}
        table.glyphOrder = order
        builder.font["loca"] = newTable("loca")
        builder.font["glyf"] = table
        builder.setupHorizontalMetrics({name: hmtx[name] for name in order})
        builder.setupHorizontalHeader(ascent=master.metrics["ascent"], descent=master.metrics["descent"])
        builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
        builder.setupOS2(**master.metrics["os2"])
        builder.setupPost()
        out = io.BytesIO()
        builder.save(out)
    return out.getvalue()
