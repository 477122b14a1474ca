"""Rates: published only over at least 20, and only from counts that are themselves published."""

from __future__ import annotations

import pytest

from observatory import (
    TOTAL,
    Count,
    CountTable,
    DisclosureRules,
    Hierarchy,
    Reason,
    Unit,
    publish,
    publish_rate,
)

LEVELS = Hierarchy.flat("level", ["3", "4", "5"])


def table(unit: Unit, counts: dict[str, int]) -> CountTable:
    return CountTable(
        unit,
        (LEVELS,),
        {
            (level,): Count(n, (n * 40503 + i) % 2**32)
            for i, (level, n) in enumerate(counts.items())
        },
    )


def test_a_rate_over_fewer_than_twenty_is_suppressed_for_its_denominator() -> None:
    placed = table(Unit.PERSONS, {"3": 12, "4": 14, "5": 30})
    finished = table(Unit.PERSONS, {"3": 15, "4": 25, "5": 45})
    rates = publish_rate(placed, finished)
    low = rates.cell(level="3")
    assert low.value is None
    assert low.suppressed is Reason.RATE_DENOMINATOR
    # Its counts are each publishable on their own: the rule is about the rate's reliability.
    assert low.numerator.value is not None and low.denominator.value is not None


def test_a_published_rate_is_the_quotient_of_the_published_counts() -> None:
    placed = table(Unit.PERSONS, {"3": 12, "4": 14, "5": 30})
    finished = table(Unit.PERSONS, {"3": 15, "4": 25, "5": 45})
    rates = publish_rate(placed, finished)
    for level in ("4", "5", TOTAL):
        cell = rates.cell(level=level)
        assert cell.suppressed is None
        assert cell.numerator.value is not None and cell.denominator.value is not None
        assert cell.denominator.value >= 20
        assert cell.value == pytest.approx(cell.numerator.value / cell.denominator.value)
    # The published counts are the count tables' own: one value per cell, whichever view.
    assert rates.cell(level="5").numerator == publish(placed).cell(level="5")


def test_a_small_numerator_suppresses_the_rate_that_would_give_it_back() -> None:
    # 3 ruptures among 40 contracts: rate x denominator would be 3.
    ruptures = table(Unit.PERSONS, {"3": 3, "4": 16, "5": 25})
    contracts = table(Unit.PERSONS, {"3": 40, "4": 40, "5": 50})
    cell = publish_rate(ruptures, contracts).cell(level="3")
    assert cell.value is None
    assert cell.suppressed is Reason.PRIMARY
    assert cell.numerator.value is None


def test_a_zero_numerator_is_a_published_zero_rate() -> None:
    ruptures = table(Unit.PERSONS, {"3": 0, "4": 16, "5": 25})
    contracts = table(Unit.PERSONS, {"3": 40, "4": 40, "5": 50})
    assert publish_rate(ruptures, contracts).cell(level="3").value == 0


def test_a_rate_over_positions_keeps_them_exact() -> None:
    # Fill rate: entrants (people) over training places (positions, published as they are).
    entrants = table(Unit.PERSONS, {"3": 18, "4": 22, "5": 40})
    places = table(Unit.POSITIONS, {"3": 24, "4": 19, "5": 48})
    rates = publish_rate(entrants, places, DisclosureRules())
    assert rates.cell(level="3").denominator.value == 24
    assert rates.cell(level="4").suppressed is Reason.RATE_DENOMINATOR


def test_a_rate_needs_one_set_of_dimensions() -> None:
    other = CountTable(Unit.PERSONS, (Hierarchy.flat("month", ["2026-01"]),), {})
    with pytest.raises(ValueError, match="same dimensions"):
        publish_rate(table(Unit.PERSONS, {"3": 1}), other)
