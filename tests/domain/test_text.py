"""The control-character guard: the fast search over canonical JSON agrees with the per-value rule."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.text import CONTROL, has_control_character

TRICKY = st.sampled_from(["\\", "\\u0001", "\\b", "\\f", "u0001", "\x00", "\x08", "\x0b", "\x0c", "\x1f", "\x7f",
                          "\t", "\n", "\r", "教师", '"', "\\\\"])


@settings(max_examples=600)
@given(parts=st.lists(st.one_of(st.text(max_size=6), TRICKY), max_size=8), key=st.text(max_size=4))
def test_json_search_finds_a_control_character_exactly_when_the_text_has_one(parts: list[str], key: str) -> None:
    text = "".join(parts)
    encoded = json.dumps({key: [text, {"x": 1}]}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert has_control_character(encoded) == bool(CONTROL.search(text) or CONTROL.search(key))


def test_escaped_looking_text_is_not_a_control_character() -> None:
    assert not has_control_character(json.dumps("C:\\u0001\\b\\f 路径", ensure_ascii=False))
    assert has_control_character(json.dumps("a\\\x01", ensure_ascii=False))
    assert not has_control_character(json.dumps("tab\there\nline\r", ensure_ascii=False))
