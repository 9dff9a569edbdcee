"""Text that may enter the records: no control characters (a NUL, for one, breaks PostgreSQL text),
and no bidirectional controls (they make a name display as another: docs/decisions.md)."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import Invalid

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The invisible characters that reorder the display of text around them: the embeddings and
# overrides (U+202A–U+202E), the isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
BIDI_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def ensure_clean_text(value: str, name: str = "text") -> str:
    """Refuse control characters other than tab and line breaks, and bidirectional controls."""
    if CONTROL.search(value):
        raise Invalid("invalid_text", f"{name} contains a control character")
    bidi = BIDI_CONTROL.search(value)
    if bidi:
        raise Invalid("bidi_control", f"{name} contains a bidirectional control character (U+{ord(bidi[0]):04X})")
    return value


def ensure_clean_values(values: Any, name: str = "text") -> None:
    """Apply `ensure_clean_text` to every string inside `values` (dicts, lists, keys included)."""
    if isinstance(values, str):
        ensure_clean_text(values, name)
    elif isinstance(values, dict):
        for key, value in values.items():
            ensure_clean_values(key, name)
            ensure_clean_values(value, f"{key}")
    elif isinstance(values, (list, tuple)):
        for value in values:
            ensure_clean_values(value, name)


# In JSON text (as json.dumps writes it), a refused control character appears as an escape
# (\u0000-\u0008, \b, \u000b, \f, \u000e-\u001f) preceded by an even number of backslashes, or as
# a raw DEL.
_ESCAPED_CONTROL = re.compile(r'(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bBeEfF]|1[0-9a-fA-F])|[bf])|\x7f')


def has_bidi_control(text: str) -> bool:
    """Whether text (JSON text included: it holds these characters as they are) holds a
    bidirectional control."""
    return BIDI_CONTROL.search(text) is not None


def has_control_character(json_text: str) -> bool:
    """Whether JSON text encodes a string holding a refused control character."""
    if "\\" not in json_text and "\x7f" not in json_text:  # the usual case, at the speed of a find
        return False
    return _ESCAPED_CONTROL.search(json_text) is not None
