"""Cell-key perturbation: record keys, cell keys and the p-table, as the ONS method defines them."""

from __future__ import annotations

import functools

import pytest

from observatory import PTable, cell_key, record_key
from observatory.perturbation import KEY_SPACE

SECRET = b"observatory test secret"
# Keys spread evenly over the key space: a fine grid on the ONS's [0, 1).
GRID = [j * KEY_SPACE // 20_000 for j in range(20_000)]


def test_a_record_key_is_fixed_by_the_reference_and_the_secret() -> None:
    key = record_key(SECRET, "candidate:0f3a")
    assert key == record_key(SECRET, "candidate:0f3a")
    assert 0 <= key < KEY_SPACE
    assert key != record_key(SECRET, "candidate:0f3b")
    assert key != record_key(b"another secret", "candidate:0f3a")


def test_a_record_key_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        record_key(b"", "candidate:0f3a")


def test_record_keys_spread_over_the_key_space() -> None:
    keys = [record_key(SECRET, f"candidate:{i}") for i in range(4000)]
    quarters = [
        sum(1 for k in keys if q * KEY_SPACE // 4 <= k < (q + 1) * KEY_SPACE // 4) for q in range(4)
    ]
    assert all(900 < n < 1100 for n in quarters), quarters


def test_a_cell_key_is_the_sum_of_its_records_keys_in_the_key_space() -> None:
    assert cell_key([KEY_SPACE - 1, 2]) == 1
    assert cell_key([]) == 0
    assert cell_key([5, 7]) == cell_key([7, 5])


def test_zero_stays_zero() -> None:
    ptable = PTable()
    assert {ptable.perturb(0, key) for key in GRID} == {0}


def test_a_count_below_the_threshold_has_no_row() -> None:
    with pytest.raises(ValueError, match="suppressed"):
        PTable(threshold=11).noise(10, 0)


@pytest.mark.parametrize("value", range(11, 30))
def test_no_noise_publishes_a_count_below_the_threshold(value: int) -> None:
    published = {PTable(threshold=11).perturb(value, key) for key in GRID}
    assert min(published) >= 11
    assert max(published) - value <= 2 and value - min(published) <= 2
    assert len(published) > 1, "every published value gets noise"


def test_far_from_the_threshold_the_noise_follows_the_weights() -> None:
    ptable = PTable()
    noises = [ptable.noise(500, key) for key in GRID]
    shares = {n: noises.count(n) / len(noises) for n in range(-2, 3)}
    for noise, weight in ((-2, 1), (-1, 2), (0, 4), (1, 2), (2, 1)):
        assert shares[noise] == pytest.approx(weight / 10, abs=0.001)
    assert sum(noises) / len(noises) == pytest.approx(0, abs=0.001)


def test_the_same_value_and_key_always_give_the_same_noise() -> None:
    ptable = PTable()
    assert [ptable.noise(37, key) for key in GRID[:500]] == [
        PTable().noise(37, key) for key in GRID[:500]
    ]


@pytest.mark.parametrize("published", [0, 5, 11, 12, 13, 14, 40])
def test_the_preimage_is_every_value_that_may_publish_so(published: int) -> None:
    # Brute force over values and the key grid, through noise() alone.
    seen = {value for value in [0, *range(11, 60)] if published in reachable(value)}
    assert set(PTable().preimage(published)) == seen


@functools.cache
def reachable(value: int) -> frozenset[int]:
    ptable = PTable()
    return frozenset(ptable.perturb(value, key) for key in GRID)
