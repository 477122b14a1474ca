"""Linked tables (the grid's views of one count): a shared cell has one fate in every table, and
an attacker holding every table at once, with every relation of each, pins no suppressed cell
down. Generated counts; the attacker (tests/observatory/attacker.py) is written apart."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory import TOTAL, Count, CountTable, DisclosureRules, Hierarchy, Unit
from observatory.linked import cell_identity, publish_linked
from tests.observatory import attacker

THRESHOLD = 11
counts = st.one_of(st.just(0), st.integers(1, THRESHOLD - 1), st.integers(THRESHOLD, 40))
Microdata = dict[tuple[str, str, str], int]


@st.composite
def microdata(draw: st.DrawFn) -> tuple[dict[str, list[str]], Microdata]:
    """Counts over three flat dimensions (département, domain, status), like one measure."""
    values = {
        "d": [f"d{i}" for i in range(draw(st.integers(1, 3)))],
        "r": [f"r{i}" for i in range(draw(st.integers(1, 3)))],
        "s": [f"s{i}" for i in range(draw(st.integers(1, 3)))],
    }
    cells = {key: draw(counts) for key in itertools.product(values["d"], values["r"], values["s"])}
    return values, cells


GROUPINGS = (("d",), ("r",), ("s",), ("d", "r"), ("d", "s"))


def tables_of(values: Mapping[str, list[str]], cells: Microdata) -> dict[str, CountTable]:
    names = ("d", "r", "s")
    out = {}
    for grouping in GROUPINGS:
        leaves: dict[tuple[str, ...], Count] = {}
        for key, n in cells.items():
            leaf = tuple(key[names.index(d)] for d in grouping)
            previous = leaves.get(leaf, Count(0))
            leaves[leaf] = previous + Count(n, (n * 2654435761) % 2**32)
        hierarchies = tuple(Hierarchy.flat(d, values[d]) for d in grouping)
        out[",".join(grouping)] = CountTable(Unit.PERSONS, hierarchies, leaves)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=microdata())
def test_linked_tables_give_a_shared_cell_one_fate_and_protect_it_jointly(
    data: tuple[dict[str, list[str]], Microdata],
) -> None:
    values, cells = data
    tables = tables_of(values, cells)
    rules = DisclosureRules(threshold=THRESHOLD, protection_level=THRESHOLD - 1)
    published = publish_linked(tables, rules)

    # One fate: every table showing a cell suppresses it, or none does.
    fate: dict[tuple[str, ...], set[str | None]] = {}
    for table in published.values():
        for coordinates, cell in table.cells.items():
            identity = cell_identity(table.dimensions, coordinates)
            fate.setdefault(identity, set()).add(cell.suppressed)
    assert all(len(reasons) == 1 for reasons in fate.values()), fate

    # The joint attacker: one unknown per distinct cell, every table's relations at once.
    true: dict[tuple[str, ...], int] = {}
    relations: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
    suppressed: dict[tuple[str, ...], str] = {}

    def key(dimensions: tuple[str, ...], coordinates: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            sorted(f"{d}={n}" for d, n in zip(dimensions, coordinates, strict=True) if n != TOTAL)
        )

    for name, table in tables.items():
        dims = table.dimensions
        parents = [dict.fromkeys(values[d], TOTAL) for d in dims]
        leaves = {leaf: c.count for leaf, c in table.leaves.items()}
        for coordinates, n in attacker.true_cells(parents, leaves).items():
            true[key(dims, coordinates)] = n
            reason = published[name].cells[coordinates].suppressed
            if reason is not None:
                suppressed[key(dims, coordinates)] = str(reason)
        for margin, parts in attacker.relations(parents):
            relations.append((key(dims, margin), [key(dims, p) for p in parts]))
    known = attacker.rule_bounds(true, suppressed, THRESHOLD)
    everything = attacker.rule_bounds(
        true,
        {c: "PRIMARY" if v < THRESHOLD else "SECONDARY" for c, v in true.items() if v > 0},
        THRESHOLD,
    )
    for cell, reason in sorted(suppressed.items()):
        if reason != "PRIMARY":
            continue
        low, high = attacker.interval(cell, true, relations, known)
        best_low, best_high = attacker.interval(cell, true, relations, everything)
        assert low <= max(1, best_low) and high >= min(THRESHOLD - 1, best_high), (
            cell,
            true[cell],
            (low, high),
        )
