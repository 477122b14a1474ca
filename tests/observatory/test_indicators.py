"""The indicator catalogue and the grid: each indicator defined once, whole; every table of the
grid has its margins in the grid (disclosure control must see them to protect a cell)."""

from __future__ import annotations

import itertools

from observatory.cells import Unit
from observatory.indicators import (
    GRID,
    INDICATORS,
    Dimension,
    IndicatorCode,
    Kind,
    allowed_groupings,
)


def test_every_code_is_defined_once_with_a_label_and_a_description() -> None:
    assert set(INDICATORS) == set(IndicatorCode)
    for code, indicator in INDICATORS.items():
        assert indicator.code is code
        assert indicator.label and indicator.description.endswith(".")


def test_a_rate_has_a_denominator_and_a_count_none() -> None:
    for indicator in INDICATORS.values():
        assert (indicator.denominator is not None) == (indicator.kind is Kind.RATE)


def test_offers_and_places_are_positions_and_applications_people() -> None:
    assert not INDICATORS[IndicatorCode.OFFERS_ACTIVE].counts_people
    assert not INDICATORS[IndicatorCode.TRAINING_CAPACITY].counts_people
    assert INDICATORS[IndicatorCode.APPLICATIONS].numerator.unit is Unit.PERSONS
    assert INDICATORS[IndicatorCode.TENSION_RATIO].counts_people  # its denominator is people


def test_each_table_of_the_grid_has_its_margins_in_the_grid() -> None:
    assert len(set(GRID)) == len(GRID)
    for grouping in GRID:
        for size in range(len(grouping)):
            for margin in itertools.combinations(grouping, size):
                assert margin in GRID, (grouping, margin)


def test_each_indicator_offers_its_total_and_only_its_own_dimensions() -> None:
    for code, indicator in INDICATORS.items():
        groupings = allowed_groupings(code)
        assert () in groupings
        assert all(set(g) <= indicator.dimensions for g in groupings)
    tension = allowed_groupings(IndicatorCode.TENSION_RATIO)
    assert (Dimension.DEPARTEMENT, Dimension.ROME_DOMAIN) in tension
    assert all(Dimension.STATUS not in g for g in tension)
