"""Org units: ids, names, allowed parents; the kind and parent are fixed (domain/org.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import DomainError
from domain.org import OrgUnit
from domain.vocabulary import OrgKind
from tests.domain.rules.builders import ADMIN, at, refused


def test_org_units_are_registered_under_allowed_parents() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    town = OrgUnit.register("T1", "城关镇", OrgKind.TOWN, county, ADMIN, at(date(2024, 1, 1)))
    school = OrgUnit.register("S1", "城关第一小学", OrgKind.SCHOOL, town, ADMIN, at(date(2024, 1, 1)))
    assert (school.parent_id, town.parent_id, county.parent_id) == ("T1", "C1", None)


@pytest.mark.parametrize(("kind", "parent_kind"), [(OrgKind.SCHOOL, None), (OrgKind.TOWN, None),
                                                   (OrgKind.PROVINCE, OrgKind.CITY)])
def test_an_org_unit_under_a_disallowed_parent_is_refused(kind: OrgKind, parent_kind: OrgKind | None) -> None:
    parent = None
    if parent_kind is not None:
        parent = OrgUnit.register("X1", "上级", parent_kind, None, ADMIN, at(date(2024, 1, 1)))
    with pytest.raises(DomainError) as caught:
        OrgUnit.register("Y1", "下级", kind, parent, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_parent"


@pytest.mark.parametrize("bad", ["", " C1", "C/1", "C" * 65])
def test_an_org_id_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        OrgUnit.register(bad, "某县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_org_id"


def test_an_org_name_must_not_be_blank() -> None:
    with pytest.raises(DomainError) as caught:
        OrgUnit.register("C1", "  ", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_name"


def test_renaming_to_the_same_name_records_nothing_and_a_new_name_records_once() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert county.rename(" 示范县 ", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2))) is False
    assert len(county.pending_events) == 1
    assert county.rename("新示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2))) is True
    assert county.name == "新示范县"


def test_an_org_units_kind_and_parent_cannot_change() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    with refused(county, "org_structure_fixed"):
        county.rename("示范县", OrgKind.CITY, None, ADMIN, at(date(2024, 1, 2)))
    with refused(county, "org_structure_fixed"):
        county.rename("示范县", OrgKind.COUNTY, "P0", ADMIN, at(date(2024, 1, 2)))
