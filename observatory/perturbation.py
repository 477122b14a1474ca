"""Cell-key perturbation (the ONS method): the same cell always gets the same small noise.

Each record carries a *record key*, a number drawn uniformly from the key space, derived from a
keyed hash (HMAC-SHA256) of its pseudonymous reference: the same person always has the same key,
and nobody without the secret can compute it. A cell's *cell key* is the sum of its records' keys
modulo the key space (the ONS's "fractional part of the sum" of keys in [0, 1), in integers so
that no float rounding ever changes a key). The *p-table* maps (cell value, cell key) to the
noise added to that cell. The same records give the same key, so the same cell gets the same
noise in every query and every table it appears in: asking twice, or through another query,
averages nothing away.

Why not the ``cell-key-perturbation`` package (ONS, PyPI): it tabulates a pandas DataFrame of
microdata, one row per person, which the observatory never holds (counts are pushed down to the
partners, or counted from a stream and discarded); its record keys are 0..255 read from a
column; it brings pandas; and the p-table it ships (``ptable_10_5_rule.csv``) adds noise that
depends on the value only (rounding to base 5), not on the cell key. What it does for a cell,
a lookup of (value, cell key) in a p-table, is the few lines of :meth:`PTable.noise`.

The p-table here: for a value at least ``max_noise`` above the threshold, noise -2..+2 with
weights 1, 2, 4, 2, 1 (mean 0, variance 1.2); just above the threshold the noises that would
publish a value below it are dropped and the rest reweighted, so a published count is never
1..threshold-1 (the distribution there is biased upwards by at most 0.6). Zero stays zero.
Values 1..threshold-1 are never published, so they have no row.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

KEY_BITS = 32
KEY_SPACE = 1 << KEY_BITS
"""Record and cell keys are integers in [0, KEY_SPACE): a key / KEY_SPACE is the ONS's [0, 1)."""

DEFAULT_NOISE_WEIGHTS: tuple[tuple[int, int], ...] = ((-2, 1), (-1, 2), (0, 4), (1, 2), (2, 1))


def record_key(secret: bytes, reference: str) -> int:
    """A record's key: uniform in the key space, fixed for a reference and a secret."""
    if not secret:
        raise ValueError("record keys need a secret: without one anybody can recompute them")
    digest = hmac.new(secret, reference.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[: KEY_BITS // 8], "big")


def cell_key(record_keys: Iterable[int]) -> int:
    """A cell's key: the sum of its records' keys, modulo the key space."""
    return sum(record_keys) % KEY_SPACE


@dataclass(frozen=True)
class PTable:
    """The perturbation table: (cell value, cell key) -> noise, for a suppression threshold.

    ``noise_weights`` are (noise, weight) pairs: a cell's key picks a noise with probability
    proportional to its weight among the noises allowed for its value.
    """

    threshold: int = 11
    noise_weights: tuple[tuple[int, int], ...] = DEFAULT_NOISE_WEIGHTS

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("the threshold is at least 1")
        if not self.noise_weights or any(weight <= 0 for _, weight in self.noise_weights):
            raise ValueError("every noise has a positive weight")
        if not any(noise >= 0 for noise, _ in self.noise_weights):
            raise ValueError("a p-table needs a non-negative noise, or the threshold has no row")

    @property
    def max_noise(self) -> int:
        return max(abs(noise) for noise, _ in self.noise_weights)

    def row(self, value: int) -> tuple[tuple[int, int], ...]:
        """The (noise, weight) pairs that may apply to a value: none that publishes it below
        the threshold."""
        if value == 0:
            return ((0, 1),)
        if value < self.threshold:
            raise ValueError("a count below the threshold is suppressed, never perturbed")
        return _row(self.noise_weights, value - self.threshold)

    def noise(self, value: int, key: int) -> int:
        """The noise of a cell: its key, scaled to the row's total weight, picks a noise."""
        row = self.row(value)
        position = (key % KEY_SPACE) * sum(weight for _, weight in row) >> KEY_BITS
        for noise, weight in row:
            if position < weight:
                return noise
            position -= weight
        raise AssertionError("a position below the row's total weight falls in the row")

    def perturb(self, value: int, key: int) -> int:
        return value + self.noise(value, key)

    def preimage(self, published: int) -> tuple[int, ...]:
        """Every true value that this p-table may publish as ``published``: what somebody who
        knows the p-table, but not the cell keys, can tell from a published value."""
        if published == 0:
            return (0,)
        return tuple(
            value
            for value in range(
                max(self.threshold, published - self.max_noise), published + self.max_noise + 1
            )
            if any(value + noise == published for noise, _ in self.row(value))
        )


@functools.lru_cache(maxsize=256)
def _row(noise_weights: tuple[tuple[int, int], ...], above: int) -> tuple[tuple[int, int], ...]:
    # Rows differ only within max_noise of the threshold: few distinct keys, computed once.
    return tuple((noise, weight) for noise, weight in sorted(noise_weights) if above + noise >= 0)
