"""The observatory's indicator tables: counted where the data lives, published, cached.

The one path every reader of indicators takes — the ``indicators`` GraphQL field, the
``/observatory`` page, the ``extract`` command::

    indicators = Indicators(registry, cache, key_secret=secret)       # one per gateway
    with acting.scoped(observatory_principal, signer):
        table = await indicators.table(IndicatorRequest(
            IndicatorCode.TENSION_RATIO, (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN),
            MonthRange.parse("2026-01..2026-06")))
    for cell in table.cells:
        cell.at(Dimension.DEPARTEMENT), cell.value, cell.numerator, cell.suppressed
    table.partners, table.failures, table.computed_at

**A measure, published once for the whole grid.** An indicator is built of measures
(:class:`observatory.indicators.Measure`: applications, placed applications, open
positions...). A measure is counted with **one** :class:`~adapters.counting.CountQuery` per
period, grouped by every dimension any table of the grid shows it by
(:func:`measure_groupings`), at every owner (:func:`sources.counting.count`); each table of the
grid is a margin of that one count. The tables of a measure of people are published together
(:func:`observatory.linked.publish_linked`), so a cell has one fate in every table and every
indicator that shows it: the applications of 73 are the same published number in APPLICATIONS,
as PLACEMENT_RATE's denominator and as ABANDON_RATE's. Only published tables leave
:meth:`Indicators.measure`: they are what the AGGREGATE cache holds (Redis when set), keyed by
the measure, the months and the rules; the true counts stay in that call's frame. A count with
a failed owner is partial: it is answered, and cached only when the owner cannot be
counted at all (:data:`LASTING_FAILURES`), never after a timeout.

**Rates and medians from published values.** A rate's counts are the published cells of its two
measures; it is published when both are and the published denominator is at least 20
(:func:`observatory.disclosure.rate_of`). TIME_TO_PLACEMENT is the median of the placed
applications' days to placement, from a histogram counted the same way (days as a dimension);
it is published where the placed count is published and at least 20.

**Territory and period.** The grid is computed for the pilot territory and whole months; a
request for some départements reads the cells of those départements (adding the département to
the grouping, which must then be a table of the grid): a territory never makes a new table, so
two territories cannot be differenced. Periods are whole months, at most
:data:`MAX_MONTHS`; overlapping periods are different tables, and cell-key perturbation keeps
their differences from revealing a small count (README, "Disclosure control").
"""

from __future__ import annotations

import asyncio
import builtins
import itertools
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import orjson
from cachetools import TTLCache

from adapters import acting
from adapters.counting import DATED_BY, CountBound, CountQuery, Period
from adapters.types import DataClass
from observatory import (
    TOTAL,
    Count,
    CountTable,
    DisclosureRules,
    Hierarchy,
    PublishedCount,
    PublishedTable,
    Reason,
    Unit,
)
from observatory.disclosure import rate_of
from observatory.indicators import (
    GRID,
    INDICATORS,
    Dimension,
    Indicator,
    IndicatorCode,
    Kind,
    Measure,
    allowed_groupings,
)
from observatory.linked import publish_linked
from sources.cache import HubCache
from sources.counting import COUNT_UNAVAILABLE, CountRefused, count
from sources.policy import may_count
from sources.registry import PartnerFailure, SourceRegistry

__all__ = [
    "MAX_MONTHS",
    "PILOT_DEPARTEMENTS",
    "IndicatorCell",
    "IndicatorError",
    "IndicatorRequest",
    "IndicatorTable",
    "Indicators",
    "MonthRange",
    "count_tables",
    "histogram_median",
    "measure_groupings",
    "measure_query",
]

PILOT_DEPARTEMENTS: Final = ("73", "74")
"""The pilot territory: Savoie and Haute-Savoie."""

MAX_MONTHS: Final = 36
"""The longest period a table is counted over."""

UNKNOWN: Final = "UNKNOWN"
"""The node of records an owner gives no value for on a dimension (counted, never dropped)."""

UNUSED_KEYS_SECRET: Final = b"alternance-hub: record keys of positions are never used"
"""Keys the in-memory path computes for positions, which no perturbation reads."""

DAYS: Final = "days_to_placement"
"""The counting dimension the median of TIME_TO_PLACEMENT is read from."""

LASTING_FAILURES: Final = frozenset({COUNT_UNAVAILABLE, CountBound.code})
"""Failures that say an owner cannot be counted (no statistics, a list it cannot resume),
not that it failed this time."""

ENCODING_VERSION: Final = 1
DECODED_KEPT: Final = 64
DECODED_FOR_S: Final = 30.0
"""How many published measures are kept decoded, and for how long: a measure's cached bytes
are decoded once per process and half-minute, not once per table read."""
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class IndicatorError(ValueError):
    """A request the grid does not offer: answered as ``BAD_USER_INPUT``, nothing counted."""

    code = "BAD_USER_INPUT"


# -- the request ---------------------------------------------------------------------------------


def _month(text: str) -> date:
    found = _MONTH.match(text.strip())
    if found is None:
        raise IndicatorError("a month is written YYYY-MM")
    return date(int(found[1]), int(found[2]), 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class MonthRange:
    """Whole months, ``first`` to ``last`` included (first days of months)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first.day != 1 or self.last.day != 1:
            raise IndicatorError("a period is made of whole months")
        if self.last < self.first:
            raise IndicatorError("a period's last month is not before its first")
        if self.months > MAX_MONTHS:
            raise IndicatorError(f"a period is at most {MAX_MONTHS} months")

    @classmethod
    def parse(cls, text: str) -> MonthRange:
        """``2026-01..2026-06``, or one month ``2026-03``."""
        first, sep, last = text.partition("..")
        return cls(_month(first), _month(last if sep else first))

    @classmethod
    def of(cls, first: str, last: str) -> MonthRange:
        return cls(_month(first), _month(last))

    @classmethod
    def last_twelve(cls, today: date) -> MonthRange:
        """The twelve whole months before the current one."""
        current = today.replace(day=1)
        return cls(_add_months(current, -12), _add_months(current, -1))

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def period(self) -> Period:
        return Period(self.first, _add_months(self.last, 1))

    def __str__(self) -> str:
        return f"{self.first:%Y-%m}..{self.last:%Y-%m}"


@dataclass(frozen=True, slots=True)
class IndicatorRequest:
    """One table of the grid for one indicator, over whole months, for some départements
    (empty: the pilot territory)."""

    code: IndicatorCode
    group_by: tuple[Dimension, ...]
    months: MonthRange
    departements: tuple[str, ...] = ()

    def table_grouping(self) -> tuple[Dimension, ...]:
        """The table of the grid read: ``group_by`` in the grid's order, with the département
        when a territory is asked for. Raises :class:`IndicatorError` when it is not offered."""
        wanted = set(self.group_by)
        if len(wanted) != len(self.group_by):
            raise IndicatorError("a dimension is grouped by once")
        unknown = sorted(set(self.departements) - set(PILOT_DEPARTEMENTS))
        if unknown:
            raise IndicatorError(
                f"the observatory covers départements {', '.join(PILOT_DEPARTEMENTS)}"
            )
        if self.departements:
            wanted.add(Dimension.DEPARTEMENT)
        for grouping in allowed_groupings(self.code):
            if set(grouping) == wanted:
                return grouping
        offered = "; ".join(
            ", ".join(d.name for d in g) or "(total)" for g in allowed_groupings(self.code)
        )
        asked = ", ".join(sorted(d.name for d in wanted)) or "(total)"
        raise IndicatorError(
            f"{self.code} is not offered by {asked}"
            + (" (a territory adds DEPARTEMENT)" if self.departements else "")
            + f"; its tables: {offered}"
        )


# -- the answer ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorCell:
    """One published cell: its node on each dimension of the table (:data:`TOTAL`, ``"*"``,
    for a margin), the indicator's value, the published counts it comes from, and why it is
    suppressed (None: published)."""

    coordinates: tuple[tuple[Dimension, str], ...]
    value: float | None
    numerator: float | None
    denominator: float | None
    suppressed: Reason | None

    def at(self, dimension: Dimension) -> str:
        return dict(self.coordinates)[dimension]


@dataclass(frozen=True, slots=True)
class IndicatorTable:
    request: IndicatorRequest
    grouping: tuple[Dimension, ...]  # the table of the grid the cells are read from
    cells: tuple[IndicatorCell, ...]
    partners: tuple[str, ...]  # the owners counted from
    failures: tuple[PartnerFailure, ...]  # the owners that could not be counted
    computed_at: str  # UTC instant of the oldest count used
    from_cache: bool

    @property
    def indicator(self) -> Indicator:
        return INDICATORS[self.request.code]


# -- measures and their grid ---------------------------------------------------------------------


def _measures(indicator: Indicator) -> Iterable[Measure]:
    yield indicator.numerator
    if indicator.denominator is not None:
        yield indicator.denominator


def measure_groupings(measure: Measure) -> tuple[tuple[Dimension, ...], ...]:
    """Every table of the grid any indicator shows ``measure`` by, in the grid's order."""
    used = {
        grouping
        for indicator in INDICATORS.values()
        if measure in _measures(indicator)
        for grouping in allowed_groupings(indicator.code)
    }
    return tuple(grouping for grouping in GRID if grouping in used)


def _dimensions(groupings: Iterable[tuple[Dimension, ...]]) -> tuple[str, ...]:
    found = {dimension for grouping in groupings for dimension in grouping}
    return tuple(d.value for d in Dimension if d in found)


def measure_query(measure: Measure, months: MonthRange) -> CountQuery:
    """The one count a measure's grid is made of: grouped by every dimension it is shown by."""
    return _query(measure, _dimensions(measure_groupings(measure)), months)


def _query(measure: Measure, dimensions: tuple[str, ...], months: MonthRange) -> CountQuery:
    """The measure's count over ``months``, dated by its ``dated_by`` when the entity may be
    dated by that field (an application's ``session``), else by the entity's default date."""
    dated_by = measure.dated_by if measure.dated_by in DATED_BY.get(measure.entity, ()) else None
    return CountQuery(
        measure.entity,
        dimensions,
        dict(measure.where),
        months.period if measure.dated_by is not None else None,
        measure.sums,
        period_field=dated_by,
    )


def _grouping_key(grouping: tuple[Dimension, ...]) -> str:
    return ",".join(d.value for d in grouping)


@dataclass(frozen=True, slots=True)
class PublishedMeasure:
    """A measure's published tables, by grouping, and where they were counted from."""

    tables: Mapping[tuple[Dimension, ...], Mapping[tuple[str, ...], PublishedCount]]
    partners: tuple[str, ...]
    failures: tuple[PartnerFailure, ...]
    computed_at: str

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": ENCODING_VERSION,
                "tables": {
                    _grouping_key(grouping): [
                        [list(coordinates), cell.value, cell.suppressed]
                        for coordinates, cell in cells.items()
                    ]
                    for grouping, cells in self.tables.items()
                },
                "partners": self.partners,
                "failures": [[f.partner, f.code, f.message, f.field] for f in self.failures],
                "computed_at": self.computed_at,
            }
        )

    @classmethod
    def decode(cls, payload: bytes) -> PublishedMeasure | None:
        raw = orjson.loads(payload)
        if not isinstance(raw, dict) or raw.get("v") != ENCODING_VERSION:
            return None
        tables = {
            tuple(Dimension(name) for name in key.split(",") if name): {
                tuple(coordinates): PublishedCount(
                    value, Reason(reason) if reason is not None else None
                )
                for coordinates, value, reason in cells
            }
            for key, cells in raw["tables"].items()
        }
        failures = tuple(PartnerFailure(*failure) for failure in raw["failures"])
        return cls(tables, tuple(raw["partners"]), failures, raw["computed_at"])

    @property
    def cacheable(self) -> bool:
        """Whether every owner that failed fails for good (it cannot be counted, by its
        configuration), so the next count would be the same: a passing failure (a timeout,
        an open breaker) is not kept for the AGGREGATE TTL."""
        return all(f.code in LASTING_FAILURES for f in self.failures)


def _node(value: str | None) -> str:
    return UNKNOWN if value is None else value


def count_tables(
    unit: Unit,
    groupings: Sequence[tuple[Dimension, ...]],
    dimensions: tuple[str, ...],
    cells: Mapping[tuple[str | None, ...], Count],
) -> dict[tuple[Dimension, ...], CountTable]:
    """Each grouping's table, the margin of the one count grouped by every dimension."""
    tables = {}
    for grouping in groupings:
        if not grouping:
            continue  # the total: every table's grand total (one fate, linked)
        axes = [dimensions.index(d.value) for d in grouping]
        leaves: dict[tuple[str, ...], Count] = {}
        for key, cell in cells.items():
            leaf = tuple(_node(key[axis]) for axis in axes)
            leaves[leaf] = leaves[leaf] + cell if leaf in leaves else cell
        hierarchies = tuple(
            Hierarchy.flat(d.value, sorted({leaf[i] for leaf in leaves}))
            for i, d in enumerate(grouping)
        )
        tables[grouping] = CountTable(unit, hierarchies, leaves)
    return tables


# -- the service ---------------------------------------------------------------------------------


class Indicators:
    """Indicator tables for a gateway's partners, published and cached (module docstring)."""

    def __init__(
        self,
        registry: SourceRegistry,
        cache: HubCache | None,
        *,
        key_secret: bytes,
        rules: DisclosureRules | None = None,
    ) -> None:
        self.registry = registry
        self.cache = cache
        self.key_secret = key_secret
        self.rules = rules or DisclosureRules()
        # Decoding a measure is its whole grid (the offers' commune x domain table alone is
        # 7,000 cells): a quarter of an extract's CPU when done per table. Published measures
        # are read-only, so they are kept decoded a little while, per process.
        self._decoded: TTLCache[str, PublishedMeasure] = TTLCache(DECODED_KEPT, DECODED_FOR_S)

    def _key_secret(self, measure: Measure) -> bytes:
        """The record keys' secret; a count of positions is published as counted, its keys
        unused, so it is counted without the secret when the gateway has none."""
        if self.key_secret or measure.unit is Unit.PERSONS:
            return self.key_secret
        return UNUSED_KEYS_SECRET

    def _rules_parts(self) -> tuple[object, ...]:
        r = self.rules
        return (r.threshold, r.rate_min_denominator, r.protection_level, r.perturb, r.noise_weights)

    def check_access(self, code: IndicatorCode) -> None:
        """Raise :class:`CountRefused` when the acting principal may not have ``code``
        (before any cache or partner is asked: published cells are shared, not public)."""
        personal = INDICATORS[code].counts_people
        who = acting.current()
        if not may_count(who.principal if who is not None else None, personal):
            raise CountRefused(f"{code} counts young people: the observatory's credential only")
        if personal and not self.key_secret:
            raise CountRefused(
                "indicators counting young people need the record-key secret "
                "(HUB_OBSERVATORY_KEY_SECRET), which this gateway is not given"
            )

    async def table(self, request: IndicatorRequest) -> IndicatorTable:
        """The published table the request asks for (see the module docstring)."""
        grouping = request.table_grouping()
        self.check_access(request.code)
        indicator = INDICATORS[request.code]
        top, top_cached = await self.measure(indicator.numerator, request.months)
        bottom, bottom_cached = (
            await self.measure(indicator.denominator, request.months)
            if indicator.denominator is not None
            else (None, True)
        )
        medians, medians_cached = (
            await self._medians(indicator, request.months, top)
            if indicator.kind is Kind.MEDIAN
            else (None, True)
        )
        within = None
        if indicator.denominator_within is not None and bottom is not None:
            dimension, measure = indicator.denominator_within
            counted, _ = await self.measure(measure, request.months)
            bottom = _within(bottom, dimension, _counted_nodes(counted, dimension))
            within = counted
        cells = self._cells(indicator, grouping, top, bottom, medians)
        keep = set(request.departements)
        if keep:
            cells = [c for c in cells if c.at(Dimension.DEPARTEMENT) in keep]
        used = [m for m in (top, bottom, medians, within) if m is not None]
        partners = tuple(dict.fromkeys(p for m in used for p in m.partners))
        failures = tuple(f for m in used for f in m.failures)
        return IndicatorTable(
            request,
            grouping,
            tuple(cells),
            partners,
            failures,
            min(m.computed_at for m in used),
            from_cache=top_cached and bottom_cached and medians_cached,
        )

    async def measure(self, measure: Measure, months: MonthRange) -> tuple[PublishedMeasure, bool]:
        """A measure's published tables for the period, and whether they came from the
        AGGREGATE cache; else counted and published (and cached unless an owner failed this
        time)."""
        return await self._cached(
            "indicator_measure",
            (repr(measure), str(months)),
            lambda: self._publish_measure(measure, months),
        )

    async def _cached(
        self,
        kind: str,
        parts: tuple[object, ...],
        compute: Callable[[], Awaitable[PublishedMeasure]],
    ) -> tuple[PublishedMeasure, bool]:
        if self.cache is None:
            return await compute(), False
        key = self.cache.key(kind, *parts, *self._rules_parts())
        held = self._decoded.get(key)
        if held is not None:
            return held, True
        found = await self.cache.get_payload(key)
        if found is not None:
            decoded = PublishedMeasure.decode(found)
            if decoded is not None:
                self._decoded[key] = decoded
                return decoded, True

        async def load() -> PublishedMeasure:
            published = await compute()
            if published.cacheable and self.cache is not None:
                await self.cache.set_payload(
                    key, published.encode(), self.cache.fresh_for(DataClass.AGGREGATE)
                )
                self._decoded[key] = published
            return published

        return await self.cache.single_flight(kind, (key,), load), False

    async def _publish_measure(self, measure: Measure, months: MonthRange) -> PublishedMeasure:
        query = measure_query(measure, months)
        result = await count(self.registry, query, key_secret=self._key_secret(measure))
        cells = {
            key: Count(
                round(cell.total or 0) if measure.sums is not None else cell.count,
                cell.key_sum or 0,
            )
            for key, cell in result.cells.items()
        }
        tables = count_tables(measure.unit, measure_groupings(measure), query.dimensions, cells)
        # Exact suppression is seconds of CPU for the larger grids: off the event loop, so the
        # gateway keeps answering (and the request's deadline can still answer for it).
        published = await asyncio.to_thread(publish_linked, tables, self.rules)
        out: dict[tuple[Dimension, ...], dict[tuple[str, ...], PublishedCount]] = {
            grouping: dict(table.cells) for grouping, table in published.items()
        }
        first = next(iter(published.values()))
        total = first.cells[tuple(TOTAL for _ in first.dimensions)]
        out[()] = {(): total}
        return PublishedMeasure(out, result.partners, result.errors, result.computed_at)

    async def _medians(
        self, indicator: Indicator, months: MonthRange, placed: PublishedMeasure
    ) -> tuple[PublishedMeasure, bool]:
        """The median days to placement by cell, in whole days, where the placed count is
        published and at least the rate minimum (else ``RATE_DENOMINATOR``); cached like a
        measure, the histogram itself never leaving this call."""

        async def compute() -> PublishedMeasure:
            groupings = allowed_groupings(indicator.code)
            dimensions = (*_dimensions(groupings), DAYS)
            result = await count(
                self.registry,
                _query(indicator.numerator, dimensions, months),
                key_secret=self._key_secret(indicator.numerator),
            )
            tables: dict[tuple[Dimension, ...], dict[tuple[str, ...], PublishedCount]] = {}
            for grouping in groupings:
                axes = [dimensions.index(d.value) for d in grouping]
                histograms: dict[tuple[str, ...], Counter[int]] = {}
                for key, cell in result.cells.items():
                    days = key[-1]
                    if days is None:
                        continue
                    for margin in _margins(tuple(_node(key[axis]) for axis in axes)):
                        histograms.setdefault(margin, Counter())[int(days)] += cell.count
                shown = placed.tables.get(grouping, {})
                tables[grouping] = {
                    coordinates: self._median_of(shown.get(coordinates), days)
                    for coordinates, days in histograms.items()
                }
            return PublishedMeasure(tables, result.partners, result.errors, result.computed_at)

        return await self._cached(
            "indicator_median", (indicator.code, str(months), placed.computed_at), compute
        )

    def _median_of(self, placed: PublishedCount | None, days: Counter[int]) -> PublishedCount:
        if placed is None or placed.suppressed is not None:
            return PublishedCount(None, placed.suppressed if placed else Reason.RATE_DENOMINATOR)
        if (placed.value or 0) < self.rules.rate_min_denominator:
            return PublishedCount(None, Reason.RATE_DENOMINATOR)
        return PublishedCount(round(histogram_median(days)))

    def _cells(
        self,
        indicator: Indicator,
        grouping: tuple[Dimension, ...],
        top: PublishedMeasure,
        bottom: PublishedMeasure | None,
        medians: PublishedMeasure | None,
    ) -> builtins.list[IndicatorCell]:
        counts = top.tables.get(grouping, {})
        names = tuple(d.value for d in grouping)
        cells: builtins.list[IndicatorCell] = []
        if bottom is not None:
            # rate_of reads the tables' dimension names and cells: the nodes are the cells'.
            hierarchies = tuple(Hierarchy.flat(name, ()) for name in names)
            rates = rate_of(
                PublishedTable(indicator.numerator.unit, hierarchies, counts),
                PublishedTable(Unit.PERSONS, hierarchies, bottom.tables.get(grouping, {})),
                self.rules,
            )
            for coordinates, rate in sorted(rates.cells.items()):
                cells.append(
                    IndicatorCell(
                        tuple(zip(grouping, coordinates, strict=True)),
                        rate.value,
                        rate.numerator.value,
                        rate.denominator.value,
                        rate.suppressed,
                    )
                )
            return cells
        for coordinates, published in sorted(counts.items()):
            value: float | None = published.value
            suppressed = published.suppressed
            if medians is not None:
                median = medians.tables.get(grouping, {}).get(coordinates)
                value = median.value if median is not None else None
                if value is None and suppressed is None:
                    suppressed = median.suppressed if median else Reason.RATE_DENOMINATOR
            cells.append(
                IndicatorCell(
                    tuple(zip(grouping, coordinates, strict=True)),
                    value,
                    published.value,
                    None,
                    suppressed,
                )
            )
        return cells


def _counted_nodes(measure: PublishedMeasure, dimension: Dimension) -> frozenset[str]:
    """The nodes of ``dimension`` where ``measure`` counts any record (a suppressed cell
    counts 1 to 10: some), not its total nor UNKNOWN."""
    return frozenset(
        node
        for (node,), cell in measure.tables.get((dimension,), {}).items()
        if node not in (TOTAL, UNKNOWN) and cell.value != 0
    )


def _within(
    measure: PublishedMeasure, dimension: Dimension, nodes: frozenset[str]
) -> PublishedMeasure:
    """A measure of positions (published exactly, so its cells add up) kept to ``nodes`` of
    ``dimension``: each table's cells on those nodes, and its margins summed over them."""
    tables: dict[tuple[Dimension, ...], dict[tuple[str, ...], PublishedCount]] = {}
    for grouping in measure.tables:
        source_grouping = next(
            (g for g in measure.tables if set(g) == {*grouping, dimension}), None
        )
        if source_grouping is None:
            continue
        axis = source_grouping.index(dimension)
        kept: dict[tuple[str, ...], int] = {}
        for coordinates, cell in measure.tables[source_grouping].items():
            if coordinates[axis] not in nodes:
                continue
            margin = (*coordinates[:axis], TOTAL, *coordinates[axis + 1 :])
            targets = (
                [coordinates, margin]
                if dimension in grouping
                else [coordinates[:axis] + coordinates[axis + 1 :]]
            )
            for target in targets:
                kept[target] = kept.get(target, 0) + (cell.value or 0)
        tables[grouping] = {c: PublishedCount(v) for c, v in kept.items()}
    return PublishedMeasure(tables, measure.partners, measure.failures, measure.computed_at)


def histogram_median(histogram: Counter[int]) -> float:
    """The median of the values a histogram counts (value -> how many), as
    ``statistics.median`` of every value repeated would give it (the mean of the two middle
    ones when their number is even), without writing each value out: a cell's placements
    are as many as its people, its distinct days a few hundred at most."""
    total = histogram.total()
    if total <= 0:
        raise ValueError("the median of an empty histogram")
    low_rank, high_rank = (total - 1) // 2, total // 2
    low: int | None = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > low_rank:
            low = value
        if seen > high_rank:
            assert low is not None
            return (low + value) / 2 if low != value else value
    raise AssertionError("unreachable: the ranks are below the total")


def _margins(leaf: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    """The leaf and every margin above it (each node or TOTAL, per flat dimension)."""
    return itertools.product(*((node, TOTAL) for node in leaf))
