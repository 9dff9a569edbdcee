"""Text refused for control characters, naming the field; the canonical encoding of subclasses
(str enums, a Decimal subclass, a mapping that is not a dict …) equal to that of their base type;
and a chain hash recomputed by `seal` rather than carried over."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict, UserDict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import pytest

from domain.actor import Actor
from domain.canonical import GENESIS, canonical_bytes, chain_digest, reference_dumps
from domain.chained import seal
from domain.errors import Invalid
from domain.policy import DEFAULT_POLICY
from domain.teacher import Teacher
from domain.text import ensure_clean_text, ensure_clean_values, has_control_character
from domain.vocabulary import Role

ADMIN = Actor("admin", Role.ADMIN)
NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
OID = UUID("12345678-1234-5678-1234-567812345678")


def refusal(call: Any, *args: Any) -> tuple[str, str]:
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value.code, caught.value.detail


def test_clean_text_is_returned_as_it_is() -> None:
    assert ensure_clean_text("第一行\n\t第二行\r\n") == "第一行\n\t第二行\r\n"


def test_a_control_character_is_refused_naming_the_field() -> None:
    assert refusal(ensure_clean_text, "a\x00b") == ("invalid_text", "text contains a control character")
    assert refusal(ensure_clean_text, "a\x7f", "title") == ("invalid_text", "title contains a control character")


def test_every_string_inside_values_is_checked_under_its_key() -> None:
    ensure_clean_values({"title": "培训", "nos": [1, 2.5, None], "nested": {"k": ("a", "b")}})  # nothing refused
    assert refusal(ensure_clean_values, "x\x01") == ("invalid_text", "text contains a control character")
    assert refusal(ensure_clean_values, {"title": "x\x02"}) == ("invalid_text", "title contains a control character")
    assert refusal(ensure_clean_values, {"k\x03": "v"}, "claim") == (
        "invalid_text", "claim contains a control character")
    assert refusal(ensure_clean_values, ["ok", ("x\x04",)], "evidence") == (
        "invalid_text", "evidence contains a control character")
    assert refusal(ensure_clean_values, {"evidence": [{"name": "a\x05"}]}) == (
        "invalid_text", "name contains a control character")


def test_a_command_with_a_control_character_records_nothing_and_names_the_field() -> None:
    assert refusal(Teacher.register, "A001", "张\x00伟", "S1", None, ADMIN, NOW) == (
        "invalid_text", "name contains a control character")
    teacher = Teacher.register("A001", "张伟", "S1", None, ADMIN, NOW)
    assert refusal(teacher.transfer, "S\x1f2", date(2024, 2, 1), ADMIN, NOW, date(2024, 3, 1)) == (
        "invalid_text", "to_school_id contains a control character")
    assert len(teacher.collect_events()) == 1


class Dec(Decimal):
    pass


class Moment(datetime):
    pass


class Day(date):
    pass


class Id(UUID):
    pass


class Real(float):
    pass


class Pair(NamedTuple):
    first: Any
    second: Any


class Items(list[Any]):
    pass


@pytest.mark.parametrize(("value", "plain"), [
    (Dec("1.50"), Decimal("1.50")),
    (Moment(2024, 3, 1, 10, 30, tzinfo=UTC), datetime(2024, 3, 1, 10, 30, tzinfo=UTC)),
    (Day(2024, 3, 1), date(2024, 3, 1)),
    (Id(int=7), UUID(int=7)),
    (Real(0.1), 0.1),
    (OrderedDict(b=Dec(2), a=1), {"a": 1, "b": Decimal(2)}),
    (UserDict({"a": Day(2024, 1, 2)}), {"a": date(2024, 1, 2)}),
    (Pair(Dec(1), "x"), [Decimal(1), "x"]),
    (Items([Id(int=1), Real(2.5)]), [UUID(int=1), 2.5]),
    (Role.ADMIN, "admin"),
])
def test_a_subclass_encodes_as_its_base_type(value: Any, plain: Any) -> None:
    assert canonical_bytes("t", OID, 1, {"v": value}) == canonical_bytes("t", OID, 1, {"v": plain})


def test_subclasses_encode_to_the_tagged_forms() -> None:
    state = {"dec": Dec("8.5"), "dt": Moment(2024, 3, 1, tzinfo=UTC), "d": Day(2024, 3, 1), "id": Id(int=255),
             "f": Real(1.25), "n": None, "l": [Decimal("1.5"), 2, Items([Id(int=1)])]}
    assert canonical_bytes("t", "o", 2, state) == (
        b'{"originator_id":"o","originator_version":2,"state":{"d":{"$d":"2024-03-01"},"dec":{"$dec":"8.5"},'
        b'"dt":{"$dt":"2024-03-01T00:00:00+00:00"},"f":{"$f":"1.25"},'
        b'"id":{"$uuid":"000000000000000000000000000000ff"},'
        b'"l":[{"$dec":"1.5"},2,[{"$uuid":"00000000000000000000000000000001"}]],"n":null},"topic":"t"}')


def test_mapping_keys_are_text_and_mapping_values_are_encoded() -> None:
    state = {"m": {1: "x", "a": Decimal("2"), "d": {"u": UUID(int=3)}}}
    assert canonical_bytes("t", "o", 1, state) == (
        b'{"originator_id":"o","originator_version":1,"state":{"m":{"1":"x","a":{"$dec":"2"},'
        b'"d":{"u":{"$uuid":"00000000000000000000000000000003"}}}},"topic":"t"}')


def test_a_chain_link_is_the_sha256_of_the_previous_link_a_newline_and_the_bytes() -> None:
    assert chain_digest(GENESIS, b'{"a":1}') == hashlib.sha256(b"0" * 64 + b'\n{"a":1}').hexdigest()


def test_json_text_holds_a_control_character_when_it_escapes_one_or_holds_a_raw_delete() -> None:
    assert has_control_character('"a\x7fb"')  # DEL is not escaped by JSON writers
    assert has_control_character('"\\u0000"')
    assert has_control_character('"\\b"')
    assert has_control_character('"\\u001F"')
    assert not has_control_character('"plain 文本"')
    assert not has_control_character('"\\n\\t\\r \\u0020"')  # escapes of allowed characters
    assert not has_control_character('"\\\\u0000"')  # an escaped backslash, then the text u0000


def test_an_actor_is_recorded_with_the_authority_it_acted_under() -> None:
    assert ADMIN.as_record() == {"sub": "admin", "role": "admin"}
    assert Actor("s1-admin", Role.SCHOOL_ADMIN, org_id="S1").as_record() == {
        "sub": "s1-admin", "role": "school_admin", "org": "S1"}
    assert Actor("t-A001", Role.TEACHER, teacher_no="A001").as_record() == {
        "sub": "t-A001", "role": "teacher", "teacher_no": "A001"}


def test_the_reference_encoding_keeps_text_unescaped_and_compact() -> None:
    assert reference_dumps({"b": "张伟", "a": [1, 2]}) == '{"a":[1,2],"b":"张伟"}'.encode()


def test_a_control_character_the_walk_does_not_reach_is_still_refused() -> None:
    """A mapping that is not a dict is encoded (so the hash covers it) but not walked field by field."""
    teacher = Teacher.register("A001", "张伟", "S1", None, ADMIN, NOW)
    facts = UserDict({"code": "P1", "title": "培训\x00", "selection": "mandated", "form": "online",
                      "owner_org_id": "C1", "starts_on": date(2024, 3, 4), "ends_on": date(2024, 3, 4)})
    assert refusal(teacher.enrol, facts, DEFAULT_POLICY, ADMIN, NOW) == (
        "invalid_text", "text contains a control character")
    assert len(teacher.collect_events()) == 1


def test_seal_computes_the_chain_hash_from_the_other_fields() -> None:
    (event,) = Teacher.register("A001", "张伟", "S1", None, ADMIN, NOW).collect_events()
    blank = dataclasses.replace(event, chain_hash="")
    assert seal(blank).chain_hash == event.chain_hash
    assert seal(dataclasses.replace(event, name="李娜")).chain_hash != event.chain_hash
