"""TIME_TO_PLACEMENT's median is read from a histogram of days: it must be the median of the
values themselves, as ``statistics.median`` gives it (odd and even counts, ties, zeros)."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.indicators import histogram_median

histograms = st.dictionaries(
    st.integers(0, 400), st.integers(0, 50), min_size=1, max_size=30
).filter(lambda counts: sum(counts.values()) > 0)


@given(histograms)
def test_the_median_of_a_histogram_is_that_of_its_values(counts: dict[int, int]) -> None:
    values = [value for value, n in counts.items() for _ in range(n)]
    assert histogram_median(Counter(counts)) == statistics.median(values)


def test_an_even_count_takes_the_mean_of_the_two_middle_values() -> None:
    assert histogram_median(Counter({3: 1, 10: 1})) == 6.5
    assert histogram_median(Counter({3: 2, 10: 2})) == 6.5
    assert histogram_median(Counter({3: 1, 4: 2, 10: 1})) == 4


def test_an_empty_histogram_has_no_median() -> None:
    with pytest.raises(ValueError, match="empty"):
        histogram_median(Counter({5: 0}))
