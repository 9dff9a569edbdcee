"""The fast canonical encoder (orjson, type dispatch) and the hand-written event id give the
bytes and strings of their definitions, so events hashed before them still verify."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.canonical import _normalise, dumps, reference_dumps
from domain.ids import event_id


def defining_normalise(value: Any) -> Any:
    """The normaliser as every event so far was hashed with (domain/canonical.py before the fast path)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if isinstance(value, float):
        return {"$f": repr(value)}
    if isinstance(value, Mapping):
        return {str(k): defining_normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [defining_normalise(v) for v in value]
    raise TypeError(type(value).__name__)


class Colour(enum.StrEnum):
    RED = "红"


text = st.text(st.characters(blacklist_categories=("Cs",)))
scalars = st.one_of(
    st.none(), st.booleans(), text, st.integers(), st.integers(min_value=2**63 - 5, max_value=2**70),
    st.decimals(allow_nan=False, allow_infinity=False), st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])), st.uuids(),
    st.floats(allow_nan=False), st.just(Colour.RED),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
                            st.dictionaries(text, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=400)
@given(values)
def test_type_dispatch_normalises_as_the_definition(value: Any) -> None:
    assert dumps({"v": _normalise(value)}) == reference_dumps({"v": defining_normalise(value)})


@settings(max_examples=400)
@given(values)
def test_fast_dumps_writes_the_reference_bytes(value: Any) -> None:
    body = {"state": defining_normalise(value), "topic": "t"}
    assert dumps(body) == reference_dumps(body)


def test_integers_beyond_64_bits_take_the_reference_path() -> None:
    body = {"n": 2**80, "m": -(2**64), "名": "教师"}
    expected = '{"m":-18446744073709551616,"n":1208925819614629174706176,"名":"教师"}'.encode()
    assert dumps(body) == reference_dumps(body) == expected


def test_control_characters_are_escaped_as_the_reference_does() -> None:
    body = {"s": "".join(chr(c) for c in range(0x20)) + "\x7f\u2028\"\\"}
    assert dumps(body) == reference_dumps(body)


@given(st.uuids(), st.integers(min_value=0, max_value=10**12))
def test_event_id_is_uuid5_of_the_version(originator_id: UUID, version: int) -> None:
    assert event_id(originator_id, version) == str(uuid5(originator_id, str(version)))


def test_dates_and_datetimes_stay_distinct() -> None:
    moment = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    assert _normalise(moment) == {"$dt": "2025-01-02T03:04:00+00:00"}
    assert _normalise(date(2025, 1, 2)) == {"$d": "2025-01-02"}
    assert _normalise(Decimal("1.50")) == {"$dec": "1.50"}
