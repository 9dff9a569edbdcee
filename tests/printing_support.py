"""What the PDF tests need: the project's CJK font (skip where it is missing, fail where it is
required: CI sets TRAINREC_REQUIRE_PDF_FONT=1), the text of a PDF, and the QR codes of its first page
(pdftoppm and zbarimg, from poppler-utils and zbar-tools, which CI installs beside the font)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from service.printing.font import font_missing_reason

REQUIRE = "TRAINREC_REQUIRE_PDF_FONT"


def _require(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"PDFs must be made here ({REQUIRE}=1): {reason}")
    pytest.skip(reason)


def require_pdf_font() -> None:
    """Skip with a one-line reason where no CJK font is installed; fail instead where one is required."""
    _require(font_missing_reason())


def pdf_text(document: bytes) -> str:
    """The text of every page, as a reader copying it out would get it, less its line breaks (a
    sentence wrapped at the margin reads as one)."""
    reader = PdfReader(io.BytesIO(document))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def qr_codes(document: bytes) -> list[str]:
    """What the QR codes on the first page say, read from the page rendered at 150 dpi."""
    missing = [tool for tool in ("pdftoppm", "zbarimg") if shutil.which(tool) is None]
    _require(f"no {' or '.join(missing)} (apt-get install poppler-utils zbar-tools)" if missing else None)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(document)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(folder) / "page")], check=True, timeout=60)
        command = ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(Path(folder) / "page.png")]
        found = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return [line for line in found.stdout.splitlines() if line]
