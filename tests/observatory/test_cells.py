"""Tables, hierarchies and margins: what disclosure control is given to work on."""

from __future__ import annotations

import pytest

from observatory import TOTAL, Count, CountTable, Hierarchy, Unit, count_records

TERRITORY = Hierarchy(
    "territory",
    {"73008": "73", "73011": "73", "74010": "74", "73": "84", "74": "84", "84": TOTAL},
)
ROME = Hierarchy(
    "rome", {"G1602": "G16", "G1603": "G16", "F1201": "F12", "G16": TOTAL, "F12": TOTAL}
)


def test_a_hierarchy_knows_its_leaves_children_and_ancestors() -> None:
    assert TERRITORY.leaves == ("73008", "73011", "74010")
    assert TERRITORY.children(TOTAL) == ("84",)
    assert TERRITORY.children("73") == ("73008", "73011")
    assert TERRITORY.ancestors("74010") == ("74010", "74", "84", TOTAL)


@pytest.mark.parametrize(
    ("parents", "message"),
    [
        ({"a": "b"}, "neither a value nor the total"),
        ({"a": "b", "b": "a"}, "cycle"),
        ({TOTAL: "a", "a": TOTAL}, "no parent"),
    ],
)
def test_a_malformed_hierarchy_is_refused(parents: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Hierarchy("broken", parents)


def test_margins_are_the_sums_of_the_leaves_under_them() -> None:
    table = CountTable(
        Unit.PERSONS,
        (TERRITORY, ROME),
        {
            ("73008", "G1602"): Count(3, 10),
            ("73011", "G1602"): Count(4, 20),
            ("73011", "F1201"): Count(5, 30),
            ("74010", "G1603"): Count(7, 2**32 - 1),
        },
    )
    cells = table.cells()
    assert len(cells) == 7 * 6
    assert cells[("73", "G16")] == Count(7, 30)
    assert cells[("73", TOTAL)] == Count(12, 60)
    assert cells[(TOTAL, "G16")] == Count(14, 29)  # key sums wrap in the key space
    assert cells[("84", TOTAL)] == cells[(TOTAL, TOTAL)] == Count(19, 59)
    assert cells[("74010", "F1201")] == Count(0, 0)


def test_every_relation_holds_on_the_derived_margins() -> None:
    table = CountTable(
        Unit.PERSONS,
        (TERRITORY, ROME),
        {("73008", "G1602"): Count(3), ("74010", "F1201"): Count(9), ("73011", "G1603"): Count(1)},
    )
    cells = table.cells()
    equations = table.equations()
    # Along territory: 4 nodes with children x 6 rome nodes; along rome: 3 x 7.
    assert len(equations) == 4 * 6 + 3 * 7
    for equation in equations:
        assert cells[equation.margin].count == sum(cells[p].count for p in equation.parts)


def test_counts_are_given_at_leaves_only() -> None:
    with pytest.raises(ValueError, match="leaf cells only"):
        CountTable(Unit.PERSONS, (TERRITORY,), {("73",): Count(4)})


def test_records_are_counted_with_their_keys() -> None:
    table = count_records(Unit.PERSONS, (TERRITORY,), [(("73008",), 5), (("73008",), 7)])
    assert table.leaves == {("73008",): Count(2, 12)}
