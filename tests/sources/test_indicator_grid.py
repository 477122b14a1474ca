"""The observatory's grid on the demo's owners (issue 9, item 8), through ``sources.indicators``.

The owners are the demo's personal ones (both ERPs in SQLite, Hub3E and AKTO checking the
hub's signed principal, over ASGI: ``tests/sources/test_counting.py``). Each test holds the
published grid to a property, checked from outside the code that protects it:

- no published count of young people is 1 to 10, anywhere in the grid;
- an attacker holding every table of a count at once, with their true published values and
  every relation between them, pins no suppressed cell down (``tests/observatory/attacker``);
- two allowed queries over overlapping periods never pin down a difference of 1 to 10;
- a cell shared by several tables and indicators has one value.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters import acting
from demo.record_keys import secret
from observatory import TOTAL, Count, DisclosureRules, PTable, Unit
from observatory.indicators import INDICATORS, Dimension, IndicatorCode, allowed_groupings
from observatory.linked import publish_linked
from sources.cache import HubCache
from sources.counting import count
from sources.indicators import (
    IndicatorRequest,
    Indicators,
    MonthRange,
    count_tables,
    measure_groupings,
    measure_query,
)
from tests.observatory import attacker
from tests.sources.test_counting import OBSERVATORY, Owners, demo_blocks, owners_of

PERSON_CODES = [code for code, i in INDICATORS.items() if i.counts_people]
MONTHS = MonthRange.parse("2025-12..2026-11")
RULES = DisclosureRules()


@pytest.fixture
async def owners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Owners]:
    found = await owners_of(tmp_path, monkeypatch, demo_blocks())
    yield found
    await found.registry.aclose()


def service(owners: Owners) -> Indicators:
    return Indicators(owners.registry, HubCache(), key_secret=secret(), rules=RULES)


async def test_no_published_count_of_young_people_in_the_grid_is_one_to_ten(
    owners: Owners,
) -> None:
    indicators = service(owners)
    published = 0
    with acting.scoped(OBSERVATORY, owners.signer):
        for code in PERSON_CODES:
            for grouping in allowed_groupings(code):
                table = await indicators.table(IndicatorRequest(code, grouping, MONTHS))
                assert table.failures == () or code is IndicatorCode.TENSION_RATIO
                indicator = INDICATORS[code]
                measures = (indicator.numerator, indicator.denominator)
                for cell in table.cells:
                    counts = [
                        value
                        for value, measure in zip(
                            (cell.numerator, cell.denominator), measures, strict=True
                        )
                        if measure is not None and measure.unit is Unit.PERSONS
                    ]
                    for value in counts:
                        if value is not None:
                            published += 1
                            assert not 0 < value < RULES.threshold, (code, grouping, cell)
                    if cell.suppressed is not None:
                        assert cell.value is None
    assert published > 100  # the grid has cells, not only suppressed ones


async def test_a_cell_shared_by_tables_and_indicators_has_one_value(owners: Owners) -> None:
    """The applications of a cell (a département, a status, the total...) are one published
    number in every table showing them, and as PLACEMENT_RATE's denominator."""
    indicators = service(owners)
    seen: dict[frozenset[tuple[Dimension, str]], set[float | None]] = {}
    with acting.scoped(OBSERVATORY, owners.signer):
        for code in (IndicatorCode.APPLICATIONS, IndicatorCode.PLACEMENT_RATE):
            for grouping in allowed_groupings(code):
                table = await indicators.table(IndicatorRequest(code, grouping, MONTHS))
                for cell in table.cells:
                    identity = frozenset((d, n) for d, n in cell.coordinates if n != TOTAL)
                    applications = (
                        cell.value if code is IndicatorCode.APPLICATIONS else cell.denominator
                    )
                    seen.setdefault(identity, set()).add(applications)
    shared = {identity: values for identity, values in seen.items() if len(identity) <= 1}
    assert frozenset() in shared and len(shared) > 10
    assert all(len(values) == 1 for values in seen.values()), seen


async def test_an_attacker_with_every_table_of_a_count_pins_no_suppressed_cell(
    owners: Owners,
) -> None:
    """The true counts are read here as the engine reads them (one count grouped by every
    dimension of the grid), their tables published together, and solved for."""
    measure = INDICATORS[IndicatorCode.APPLICATIONS].numerator
    query = measure_query(measure, MONTHS)
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
    cells = {k: Count(c.count, c.key_sum or 0) for k, c in result.cells.items()}
    tables = count_tables(measure.unit, measure_groupings(measure), query.dimensions, cells)
    published = publish_linked(tables, RULES)

    def key(dims: tuple[str, ...], coordinates: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            sorted(f"{d}={n}" for d, n in zip(dims, coordinates, strict=True) if n != TOTAL)
        )

    true: dict[tuple[str, ...], int] = {}
    relations = []
    suppressed: dict[tuple[str, ...], str] = {}
    for grouping, table in tables.items():
        dims = table.dimensions
        parents = [dict.fromkeys(h.leaves, TOTAL) for h in table.hierarchies]
        leaves = {leaf: c.count for leaf, c in table.leaves.items()}
        for coordinates, n in attacker.true_cells(parents, leaves).items():
            true[key(dims, coordinates)] = n
            reason = published[grouping].cells[coordinates].suppressed
            if reason is not None:
                suppressed[key(dims, coordinates)] = str(reason)
        relations.extend(
            (key(dims, m), [key(dims, p) for p in parts])
            for m, parts in attacker.relations(parents)
        )
    primaries = [c for c, r in suppressed.items() if r == "PRIMARY"]
    assert primaries, "the demo's grid has small cells to protect"
    known = attacker.rule_bounds(true, suppressed, RULES.threshold)
    everything = attacker.rule_bounds(
        true,
        {c: "PRIMARY" if v < RULES.threshold else "SECONDARY" for c, v in true.items() if v > 0},
        RULES.threshold,
    )
    for cell in primaries:
        value = true[cell]
        wanted = (
            max(1, value - RULES.protection_level),
            min(RULES.threshold - 1, value + RULES.protection_level),
        )
        low, high = attacker.interval(cell, true, relations, known)
        best_low, best_high = attacker.interval(cell, true, relations, everything)
        assert low <= max(wanted[0], best_low) and high >= min(wanted[1], best_high), cell


async def test_overlapping_periods_never_pin_a_difference_of_one_to_ten(owners: Owners) -> None:
    """Pairs of periods ending in the same month whose lengths differ by one month (the
    allowed queries an attacker would subtract), on the finest table of applications by
    département and status. The attacker knows the p-table (noise -2..+2) and that the longer
    period holds at least as many: a cell published in both, whose true difference is 1 to 10,
    leaves at least two true differences possible, the true one among them, and most leave
    five or more (the bound is two: 53 then 52 published leaves 0..3)."""
    indicators = service(owners)
    ptable = PTable(RULES.threshold)
    measure = INDICATORS[IndicatorCode.APPLICATIONS].numerator
    grouping = (Dimension.DEPARTEMENT, Dimension.STATUS)
    small: list[int] = []
    with acting.scoped(OBSERVATORY, owners.signer):
        for first, before in (
            ("2026-01", "2025-12"),
            ("2026-03", "2026-02"),
            ("2026-05", "2026-04"),
        ):
            published, true = [], []
            for months in (MonthRange.of(first, "2026-10"), MonthRange.of(before, "2026-10")):
                table = await indicators.table(
                    IndicatorRequest(IndicatorCode.APPLICATIONS, grouping, months)
                )
                published.append({c.coordinates: c.value for c in table.cells})
                query = measure_query(measure, months)
                result = await count(owners.registry, query, key_secret=secret())
                cells = {k: Count(c.count, c.key_sum or 0) for k, c in result.cells.items()}
                (counted,) = count_tables(
                    measure.unit, [grouping], query.dimensions, cells
                ).values()
                true.append(
                    {
                        tuple(zip(grouping, k, strict=True)): c.count
                        for k, c in counted.cells().items()
                    }
                )
            for coordinates, a in published[0].items():
                b = published[1].get(coordinates)
                if a is None or b is None:
                    continue
                difference = true[1][coordinates] - true[0][coordinates]
                possible = {y - x for x in ptable.preimage(a) for y in ptable.preimage(b) if y >= x}
                assert difference in possible
                if 0 < difference < RULES.threshold and a > 0:
                    small.append(len(possible))
    assert small, "some pair of periods differs by a small group"
    assert min(small) >= 2
    assert sum(n >= 5 for n in small) * 2 >= len(small), small
