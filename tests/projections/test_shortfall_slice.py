"""A page of a shortfall's teachers cut from the schools' rows (`shortfall_slice`) is the page of the
whole list merged and sorted: the same teachers, schools and "more follow", for any lists, cursor
and page size; and one hand-made case."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.reports import LIST_COLUMN, shortfall_slice
from projections.school_years import SEPARATOR, VALUES

RULE = "share_concentrated_90h"


def rows(lists: dict[str, list[str]], rule: str = RULE) -> list[tuple[str, str, tuple[object, ...]]]:
    """Schools' rows with `rule`'s list filled (members: 1, so the row counts) and every other value 0."""
    found = []
    for school, nos in sorted(lists.items()):
        values: list[object] = [0] * len(VALUES)
        values[0] = 1
        values[LIST_COLUMN[rule]] = SEPARATOR.join(sorted(nos))
        found.append((school, f"/C/{school}/", tuple(values)))
    return found


def test_a_hand_made_page() -> None:
    found = rows({"S1": ["A001", "A004", "A009"], "S2": ["A002", "A003"], "S3": []})
    assert shortfall_slice(found, RULE, None, 2) == ([("A001", "S1"), ("A002", "S2")], True)
    assert shortfall_slice(found, RULE, "A002", 2) == ([("A003", "S2"), ("A004", "S1")], True)
    assert shortfall_slice(found, RULE, "A004", 2) == ([("A009", "S1")], False)
    assert shortfall_slice(found, RULE, "A009", 2) == ([], False)
    overdue = rows({"S1": ["B001"]}, "overdue_evaluations")
    assert shortfall_slice(overdue, "overdue_evaluations", None, 5) == ([("B001", "S1")], False)
    assert shortfall_slice(overdue, RULE, None, 5) == ([], False)  # another rule's column is empty


teacher = st.integers(min_value=0, max_value=60).map(lambda i: f"T{i:03d}")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["S1", "S2", "S3", "S4"]), st.sets(teacher, max_size=15), max_size=4),
       st.one_of(st.none(), teacher), st.integers(min_value=1, max_value=20))
def test_the_slice_is_the_page_of_the_whole_sorted_list(lists: dict[str, set[str]], after: str | None,
                                                          limit: int) -> None:
    owned: dict[str, str] = {}  # a teacher is listed by one school's row
    for school in sorted(lists):
        for no in lists[school]:
            owned.setdefault(no, school)
    distinct = {school: [no for no, owner in owned.items() if owner == school] for school in lists}
    whole = sorted(owned)
    rest = [no for no in whole if after is None or no > after]
    expected = ([(no, owned[no]) for no in rest[:limit]], len(rest) > limit)
    assert shortfall_slice(rows(distinct), RULE, after, limit) == expected
