"""The fast transcoder writes the library transcoder's bytes, so stored events verify either way."""

from __future__ import annotations

import enum
from datetime import UTC, date, timedelta, timezone
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

from service.application.values import DateAsISO
from service.storage.transcoder import FastJSONTranscoder, fast_encodable


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


# --- decoding: orjson and one walk, or the library's decoder; the same objects either way ---------
def outcome(transcoder: JSONTranscoder, data: bytes) -> str:
    """What decoding `data` gives, as its repr (so 1 and 1.0, or True and 1, differ), or the error's type."""
    try:
        return repr(transcoder.decode(data))
    except Exception as error:  # noqa: BLE001 - the comparison is of which error
        return repr(type(error))


typed = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda v: {"_type_": "decimal_str", "_data_": str(v)}),
    st.dates().map(lambda v: {"_type_": "date_iso", "_data_": v.isoformat()}),
    st.uuids().map(lambda v: {"_type_": "uuid_hex", "_data_": v.hex}),
    st.sampled_from([{"_type_": "no_such_type", "_data_": "x"}, {"_type_": "decimal_str", "_data_": "not a number"},
                     {"_type_": "date_iso"}, {"_type_": "date_iso", "_data_": "2025-01-02", "more": 1}]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), text, st.integers(), st.integers(min_value=2**63 - 3, max_value=2**70),
              st.integers(max_value=-(2**63) + 3, min_value=-(2**70)), st.floats(allow_nan=False), typed),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3),
                            inner.map(lambda v: {"_type_": "decimal_str", "_data_": v})),
    max_leaves=12,
)


@settings(max_examples=500)
@given(json_values)
def test_decoding_gives_the_library_objects_or_its_error(value: Any) -> None:
    import json

    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert outcome(FAST, data) == outcome(REFERENCE, data)


@pytest.mark.parametrize("data", [
    b'{"n":123456789012345678901234567890}', b'{"n":-9223372036854775809}', b'[18446744073709551616]',
    b'{"v":NaN}', b'{"v":Infinity}', b'{"v":1e400}', b'{"s":"\\ud800"}', b'{"s":"\xff"}', b'{"a":1,"a":2}',
    b'{"t":{"_type_":"date_iso","_data_":"2025-02-30"}}', b'{"t":{"_type_":"decimal_str","_data_":"1.50"}}',
    b'[{"_type_":"uuid_hex","_data_":"6b1c5d528f0e4d3e9a572f1d6c0e7a11"}]', b'1.5', b'7', b'not json',
])
def test_texts_orjson_reads_otherwise_or_refuses_decode_as_the_library_does(data: bytes) -> None:
    assert outcome(FAST, data) == outcome(REFERENCE, data)  # big integers exact, not the floats orjson reads


def test_event_shaped_state_is_decoded_without_the_library_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date, datetime
    from decimal import Decimal

    state = {"timestamp": datetime(2025, 1, 2, tzinfo=UTC), "actor": {"sub": "教师", "role": "teacher"},
             "programme": {"hours": Decimal("40"), "starts_on": date(2025, 1, 6), "sessions": [{"no": 1}]},
             "prev_hash": "1234567890123456789012345678901234567890123456789012345678901234", "late": False}
    data = REFERENCE.encode(state)
    monkeypatch.setattr(JSONTranscoder, "decode", lambda *_: pytest.fail("the library's decoder was used"))
    assert FAST.decode(data) == state


def test_nesting_too_deep_for_the_walk_is_left_to_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(_: Any) -> Any:
        raise RecursionError

    data = b'{"t":{"_type_":"date_iso","_data_":"2025-01-02"},"n":[[[1]]]}'
    monkeypatch.setattr(FAST, "_revive", overflow)
    assert outcome(FAST, data) == outcome(REFERENCE, data) == repr({"t": date(2025, 1, 2), "n": [[[1]]]})
