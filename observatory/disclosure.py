"""The contract of disclosure control: a table of true counts in, a table safe to publish out.

The observatory's resolvers and extractor call :func:`publish` (counts) or
:func:`publish_rate` (rates) once per table, after merging the partners' counts and before
anything is cached, shown or extracted; the raw table never leaves the caller. They ask for
the finest table of the grid and answer a coarser view from its margins
(:meth:`PublishedTable.cell`), so that a cell has one fate whichever view shows it: a margin
suppressed in the fine table is never published by a coarse one.

For a table of people (:attr:`Unit.PERSONS`):

1. cells of 1..threshold-1 are suppressed, ``PRIMARY``;
2. more cells are suppressed, ``SECONDARY``, until no primary cell can be recomputed from the
   table's margins (:mod:`observatory.suppression`);
3. every published non-zero cell gets its cell-key noise (:mod:`observatory.perturbation`):
   the same records always give the same published value, in any query.

A table of positions (offers, training places) is published as it is. A rate is the quotient of
two published counts: it is published when both are and the denominator, true and published,
is at least ``rate_min_denominator``; otherwise ``suppressed`` says why (the numerator's or the
denominator's reason, else ``RATE_DENOMINATOR``). It is computed from the published counts, so
it gives nothing of the true counts beyond them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from observatory.cells import TOTAL, Coordinates, Count, CountTable, Equation, Hierarchy, Unit
from observatory.perturbation import DEFAULT_NOISE_WEIGHTS, PTable
from observatory.suppression import Reason, primary_cells, secondary_cells


@dataclass(frozen=True)
class DisclosureRules:
    """The settings of disclosure control; the defaults are the hub's rules.

    ``threshold``: the smallest count of people published (11, the DGFiP rule: 1..10 is
    suppressed). ``rate_min_denominator``: the smallest denominator of a published rate (20,
    the InserJeunes rule). ``protection_level``: how far from its true value the attacker's
    interval for a suppressed cell must reach, both ways, within 1..threshold-1.
    ``noise_weights``: the p-table's noises and their weights; ``perturb=False`` publishes
    the exact values of the cells that pass (no protection against differencing).
    """

    threshold: int = 11
    rate_min_denominator: int = 20
    protection_level: int = 5
    perturb: bool = True
    noise_weights: tuple[tuple[int, int], ...] = DEFAULT_NOISE_WEIGHTS
    ptable: PTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.protection_level < 1:
            raise ValueError("the protection level is at least 1")
        if self.rate_min_denominator < 1:
            raise ValueError("a rate's minimum denominator is at least 1")
        object.__setattr__(self, "ptable", PTable(self.threshold, self.noise_weights))


@dataclass(frozen=True)
class PublishedCount:
    """A cell as it may be shown: its value, or None and why it is suppressed."""

    value: int | None
    suppressed: Reason | None = None


@dataclass(frozen=True)
class PublishedRate:
    """A rate cell: the rate (None when suppressed), and its two counts as published."""

    value: float | None
    numerator: PublishedCount
    denominator: PublishedCount
    suppressed: Reason | None = None


CellT = TypeVar("CellT", "PublishedCount", "PublishedRate")


@dataclass(frozen=True)
class _Published(Generic[CellT]):
    unit: Unit
    hierarchies: tuple[Hierarchy, ...]
    cells: Mapping[Coordinates, CellT]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(hierarchy.dimension for hierarchy in self.hierarchies)

    def cell(self, **nodes: str) -> CellT:
        """A cell by dimension name; a dimension not named is at its TOTAL."""
        unknown = set(nodes) - set(self.dimensions)
        if unknown:
            raise KeyError(f"no such dimension in this table: {sorted(unknown)}")
        return self.cells[tuple(nodes.get(dimension, TOTAL) for dimension in self.dimensions)]


class PublishedTable(_Published[PublishedCount]):
    """Every cell of a count table, margins included, as it may be shown."""


class PublishedRateTable(_Published[PublishedRate]):
    """Every cell of a rate table, margins included, as it may be shown."""


def publish(table: CountTable, rules: DisclosureRules | None = None) -> PublishedTable:
    """Apply disclosure control to a table of counts: every cell, margins included."""
    rules = rules or DisclosureRules()
    cells = table.cells()
    if table.unit is Unit.POSITIONS:
        return PublishedTable(
            table.unit,
            table.hierarchies,
            {coordinates: PublishedCount(c.count) for coordinates, c in cells.items()},
        )
    published = publish_cells(cells, table.equations(), rules)
    return PublishedTable(table.unit, table.hierarchies, published)


def publish_cells(
    cells: Mapping[Coordinates, Count],
    equations: Sequence[Equation],
    rules: DisclosureRules,
) -> dict[Coordinates, PublishedCount]:
    """Disclosure control of counts of people related by ``equations``: primary and secondary
    suppression, then each published cell's noise (one table's cells, or the distinct cells of
    linked tables: :mod:`observatory.linked`)."""
    values = {coordinates: c.count for coordinates, c in cells.items()}
    reasons = dict.fromkeys(primary_cells(values, rules.threshold), Reason.PRIMARY)
    secondary = secondary_cells(values, equations, rules.threshold, rules.protection_level)
    reasons.update(dict.fromkeys(secondary, Reason.SECONDARY))
    published = {}
    for coordinates, c in cells.items():
        if coordinates in reasons:
            published[coordinates] = PublishedCount(None, reasons[coordinates])
        elif rules.perturb:
            published[coordinates] = PublishedCount(rules.ptable.perturb(c.count, c.key_sum))
        else:
            published[coordinates] = PublishedCount(c.count)
    return published


def publish_rate(
    numerator: CountTable, denominator: CountTable, rules: DisclosureRules | None = None
) -> PublishedRateTable:
    """Apply disclosure control to a rate: each of its counts under its own unit's rules,
    then the rate from the published counts where both are and the denominator is large
    enough. The rate table's unit is its denominator's."""
    rules = rules or DisclosureRules()
    if numerator.hierarchies != denominator.hierarchies:
        raise ValueError("a rate's numerator and denominator cross the same dimensions")
    return rate_of(
        publish(numerator, rules),
        publish(denominator, rules),
        rules,
        {coordinates: c.count for coordinates, c in denominator.cells().items()},
    )


def rate_of(
    numerator: PublishedTable,
    denominator: PublishedTable,
    rules: DisclosureRules | None = None,
    true_denominators: Mapping[Coordinates, int] | None = None,
) -> PublishedRateTable:
    """A rate from two published tables: where both counts are published and the
    denominator is at least ``rate_min_denominator`` — published, and true when
    ``true_denominators`` are given (a caller holding only published tables, such as one
    reading them from the cache, checks the published value alone).

    The two tables may have seen different values of a dimension: a cell one of them lacks
    counts zero there (zeros are published), so a rate is given for every cell of the
    denominator."""
    rules = rules or DisclosureRules()
    if numerator.dimensions != denominator.dimensions:
        raise ValueError("a rate's numerator and denominator cross the same dimensions")
    rates = {}
    for coordinates, published_bottom in denominator.cells.items():
        published_top = numerator.cells.get(coordinates, PublishedCount(0))
        reason = published_top.suppressed or published_bottom.suppressed
        too_few = (published_bottom.value or 0) < rules.rate_min_denominator or (
            true_denominators is not None
            and true_denominators[coordinates] < rules.rate_min_denominator
        )
        if reason is None and too_few:
            reason = Reason.RATE_DENOMINATOR
        value = None
        if reason is None and published_top.value is not None and published_bottom.value:
            value = published_top.value / published_bottom.value
        rates[coordinates] = PublishedRate(value, published_top, published_bottom, reason)
    return PublishedRateTable(denominator.unit, denominator.hierarchies, rates)
