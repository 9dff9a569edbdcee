"""The fast transcoder writes the library transcoder's bytes, so stored events verify either way."""

from __future__ import annotations

import enum
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from service.application import DateAsISO
from service.transcoder import FastJSONTranscoder, fast_encodable


class Kind(enum.StrEnum):
    A = "甲"


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


REFERENCE = registered(JSONTranscoder())
FAST = registered(FastJSONTranscoder())

text = st.text(st.characters(blacklist_categories=("Cs",)))
leaves = st.one_of(
    st.none(), st.booleans(), text, st.integers(), st.integers(min_value=2**62, max_value=2**66),
    st.decimals(allow_nan=False), st.dates(), st.uuids(), st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])), st.just(Kind.A),
)
states = st.dictionaries(text, st.recursive(
    leaves, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=12), max_size=8)


@settings(max_examples=500)
@given(states)
def test_fast_encoding_is_the_library_encoding(state: dict[str, Any]) -> None:
    encoded = FAST.encode(state)
    assert encoded == REFERENCE.encode(state)
    assert FAST.decode(encoded) == REFERENCE.decode(encoded)


def test_the_fast_path_is_taken_for_event_shaped_state() -> None:
    from datetime import date, datetime
    from decimal import Decimal

    state = {"timestamp": datetime(2025, 1, 2, tzinfo=UTC), "actor": {"sub": "教师", "role": "teacher"},
             "hours": Decimal("40"), "on": date(2025, 1, 2), "sessions": [1, 2, 3], "note": None, "late": False}
    assert fast_encodable(state)
    assert FAST.encode(state) == REFERENCE.encode(state)


@pytest.mark.parametrize("value", [1.5, 2**64, Kind.A, {1: "x"}, __import__("uuid").uuid4()])
def test_values_orjson_writes_differently_take_the_library_path(value: Any) -> None:
    assert not fast_encodable({"v": value})
    assert FAST.encode({"v": value}) == REFERENCE.encode({"v": value})


def test_an_unregistered_type_raises_the_library_error() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.encode({"v": object()})
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.encode({"v": complex(1, 2)})
