"""Hours (学时): positive, at most one decimal, at most 2000 (domain/rules/hours.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.errors import DomainError, Invalid
from domain.rules.hours import ensure_valid_hours


@pytest.mark.parametrize(("given", "kept"), [("7.5", Decimal("7.5")), ("8.0", Decimal(8)), (24, Decimal(24)),
                                              (Decimal("0.1"), Decimal("0.1")), ("2000", Decimal(2000))])
def test_positive_hours_with_at_most_one_decimal_are_accepted(given: Any, kept: Decimal) -> None:
    assert ensure_valid_hours(given) == kept


@pytest.mark.parametrize("given", ["0", "-1", "2000.1", "7.25", "abc", "NaN", "Infinity", "", True])
def test_zero_negative_too_many_or_too_precise_hours_are_invalid(given: Any) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_valid_hours(given)
    assert caught.value.code == "invalid_hours"
    assert isinstance(caught.value, Invalid)
