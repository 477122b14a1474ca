"""Linked tables: the tables of one count that share cells, suppressed as one problem.

The grid offers several tables of the same count (applications by département, by département
and domain, by département and status...), and they share cells: the département's total is in
all of them. Suppressing each table on its own could suppress that total in one table, as a
complement protecting a small cell, and publish it in another, which hands the attacker the
complement back. Suppressing them in turn until they agree (τ-ARGUS's modular way) still lets an
attacker combine the relations of two tables, through a zero one publishes and the other sums
(the property test found such a table: ``tests/observatory/test_linked.py``). So
:func:`publish_linked` solves them together: one unknown per distinct cell, whatever table shows
it (:func:`cell_identity`), every relation of every table, one exact suppression over the whole
(:func:`observatory.suppression.secondary_cells`); each cell then has one fate and one published
value in every table, and the attacker holding all tables at once is the one protected against.

The tables given must count the same records (one count, margins of one another), with flat
dimensions, so that a node names one cell whatever table shows it (the grid offers no
hierarchy for counts of people: README, "The grid"). Tables of positions are published as
they are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from observatory.cells import TOTAL, Coordinates, Count, CountTable, Equation, Unit
from observatory.disclosure import DisclosureRules, PublishedTable, publish, publish_cells

K = TypeVar("K", bound=Hashable)


def cell_identity(dimensions: tuple[str, ...], coordinates: Coordinates) -> Coordinates:
    """What a cell is, whichever table shows it: its ``dimension=node`` pairs off the totals,
    sorted."""
    return tuple(
        sorted(
            f"{dimension}={node}"
            for dimension, node in zip(dimensions, coordinates, strict=True)
            if node != TOTAL
        )
    )


def publish_linked(
    tables: Mapping[K, CountTable], rules: DisclosureRules | None = None
) -> dict[K, PublishedTable]:
    """Publish tables of one count together: every shared cell suppressed in all or none,
    protected against the relations of all the tables at once."""
    rules = rules or DisclosureRules()
    people = {name: t for name, t in tables.items() if t.unit is Unit.PERSONS}
    published = {name: publish(t, rules) for name, t in tables.items() if name not in people}
    if not people:
        return published
    counts: dict[Coordinates, Count] = {}
    equations: set[Equation] = set()
    for table in people.values():
        if any(p != TOTAL for h in table.hierarchies for p in h.parents.values()):
            raise ValueError("linked tables have flat dimensions only")
        dimensions = table.dimensions
        for coordinates, cell in table.cells().items():
            identity = cell_identity(dimensions, coordinates)
            if counts.setdefault(identity, cell) != cell:
                raise ValueError("linked tables count the same records: a shared cell differs")
        for equation in table.equations():
            equations.add(
                Equation(
                    cell_identity(dimensions, equation.margin),
                    tuple(sorted(cell_identity(dimensions, p) for p in equation.parts)),
                )
            )
    fates = publish_cells(counts, sorted(equations, key=repr), rules)
    for name, table in people.items():
        dimensions = table.dimensions
        published[name] = PublishedTable(
            table.unit,
            table.hierarchies,
            {c: fates[cell_identity(dimensions, c)] for c in table.coordinates()},
        )
    return published


__all__ = ["cell_identity", "publish_linked"]
