"""Tables of counts, their hierarchies and their margins: what disclosure control works on.

A table crosses one or more dimensions. Each dimension is a :class:`Hierarchy`: its values nest
(commune → département → région, ROME code → domain) up to :data:`TOTAL`, the one node at the
top of every hierarchy. The caller gives the counts of the *leaf* cells (one leaf value per
dimension); every other cell, a margin, is the sum of the leaves under it, so the table is
*additive*: each record falls in exactly one leaf cell. Counts of distinct people over a period
are additive across months only if a person is counted in one month (an event's month, not
"was active in"); the caller chooses dimensions for which that holds.

Every cell carries, beside its count, the sum of its records' keys (see
:mod:`observatory.perturbation`): the margins add them up like counts, so a cell's key depends
only on which records it holds, whichever table or query it is computed in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from observatory.perturbation import KEY_SPACE

TOTAL = "*"
"""The node at the top of every hierarchy: all values of the dimension together."""

Coordinates = tuple[str, ...]
"""A cell's position: one node per dimension, in the table's order of dimensions."""


class Unit(StrEnum):
    """What a table counts, which decides whether disclosure control applies to it."""

    PERSONS = "PERSONS"  # young people, candidates, apprentices: controlled
    POSITIONS = "POSITIONS"  # offers, open positions, training places: published as they are


@dataclass(frozen=True)
class Count:
    """A cell's number of records and the sum of their record keys (modulo the key space)."""

    count: int
    key_sum: int = 0

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("a count is never negative")
        if not 0 <= self.key_sum < KEY_SPACE:
            raise ValueError("a key sum lies in the key space; add keys with Count.__add__")

    def __add__(self, other: Count) -> Count:
        return Count(self.count + other.count, (self.key_sum + other.key_sum) % KEY_SPACE)


ZERO = Count(0, 0)


@dataclass(frozen=True)
class Hierarchy:
    """One dimension and how its values nest: each value's parent, the top values under TOTAL.

    >>> territory = Hierarchy("territory", {"73008": "73", "73011": "73", "73": "84", "84": TOTAL})
    >>> territory.children("73")
    ('73008', '73011')
    >>> territory.ancestors("73008")
    ('73008', '73', '84', '*')
    """

    dimension: str
    parents: Mapping[str, str]
    _children: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if TOTAL in self.parents:
            raise ValueError(f"{self.dimension}: the total has no parent")
        children: dict[str, list[str]] = {}
        for value, parent in self.parents.items():
            if parent != TOTAL and parent not in self.parents:
                raise ValueError(f"{self.dimension}: a parent is neither a value nor the total")
            children.setdefault(parent, []).append(value)
        for value in self.parents:
            seen = {value}
            node = value
            while node != TOTAL:
                node = self.parents[node]
                if node in seen:
                    raise ValueError(f"{self.dimension}: the values' parents make a cycle")
                seen.add(node)
        # Sorted, never in insertion or hash order: suppression must not depend on how the
        # caller happened to build the mapping.
        object.__setattr__(
            self, "_children", {node: tuple(sorted(kids)) for node, kids in children.items()}
        )

    @classmethod
    def flat(cls, dimension: str, values: Iterable[str]) -> Hierarchy:
        """A dimension without levels (months, training levels): every value under TOTAL."""
        return cls(dimension, dict.fromkeys(values, TOTAL))

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every value and TOTAL, sorted."""
        return tuple(sorted([TOTAL, *self.parents]))

    @property
    def leaves(self) -> tuple[str, ...]:
        """The values with no value under them: where a table's counts are given."""
        return tuple(value for value in self.nodes if value != TOTAL and self.is_leaf(value))

    def is_leaf(self, value: str) -> bool:
        return value != TOTAL and value not in self._children

    def children(self, node: str) -> tuple[str, ...]:
        return self._children.get(node, ())

    def ancestors(self, value: str) -> tuple[str, ...]:
        """The value itself, its parent, and so on up to TOTAL."""
        chain = [value]
        while chain[-1] != TOTAL:
            chain.append(self.parents[chain[-1]])
        return tuple(chain)


@dataclass(frozen=True)
class Equation:
    """One additive relation of a table: the margin is the sum of the parts."""

    margin: Coordinates
    parts: tuple[Coordinates, ...]


@dataclass(frozen=True)
class CountTable:
    """The counts of a cross-tabulation, given at its leaves; margins are derived.

    ``leaves`` maps leaf coordinates to counts; a leaf that is absent counts zero.
    """

    unit: Unit
    hierarchies: tuple[Hierarchy, ...]
    leaves: Mapping[Coordinates, Count]

    def __post_init__(self) -> None:
        if not self.hierarchies:
            raise ValueError("a table has at least one dimension")
        names = [hierarchy.dimension for hierarchy in self.hierarchies]
        if len(set(names)) != len(names):
            raise ValueError("a table's dimensions have distinct names")
        for coordinates in self.leaves:
            if len(coordinates) != len(self.hierarchies) or not all(
                hierarchy.is_leaf(value)
                for hierarchy, value in zip(self.hierarchies, coordinates, strict=True)
            ):
                raise ValueError("counts are given at leaf cells only, one value per dimension")

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(hierarchy.dimension for hierarchy in self.hierarchies)

    def coordinates(self) -> Iterator[Coordinates]:
        """Every cell of the table, margins included, in a fixed (sorted) order."""
        return itertools.product(*(hierarchy.nodes for hierarchy in self.hierarchies))

    def cells(self) -> dict[Coordinates, Count]:
        """Every cell's count, margins included: each leaf adds to each of its margins."""
        cells = dict.fromkeys(self.coordinates(), ZERO)
        for leaf in sorted(self.leaves):
            count = self.leaves[leaf]
            chains = (
                hierarchy.ancestors(value)
                for hierarchy, value in zip(self.hierarchies, leaf, strict=True)
            )
            for margin in itertools.product(*chains):
                cells[margin] = cells[margin] + count
        return cells

    def equations(self) -> list[Equation]:
        """Every additive relation: along each dimension, a node is the sum of its children,
        whatever the other dimensions' nodes (leaves or margins)."""
        equations = []
        for axis, hierarchy in enumerate(self.hierarchies):
            others = [h.nodes for h in self.hierarchies]
            for node in hierarchy.nodes:
                children = hierarchy.children(node)
                if not children:
                    continue
                others[axis] = (node,)
                for margin in itertools.product(*others):
                    parts = tuple(
                        (*margin[:axis], child, *margin[axis + 1 :]) for child in children
                    )
                    equations.append(Equation(margin, parts))
        return equations


def count_records(
    unit: Unit,
    hierarchies: tuple[Hierarchy, ...],
    records: Iterable[tuple[Coordinates, int]],
) -> CountTable:
    """Count records streamed as (leaf coordinates, record key), keeping none of them."""
    leaves: dict[Coordinates, Count] = {}
    for coordinates, key in records:
        leaves[coordinates] = leaves.get(coordinates, ZERO) + Count(1, key % KEY_SPACE)
    return CountTable(unit, hierarchies, leaves)
