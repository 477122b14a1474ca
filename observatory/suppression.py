"""Primary and secondary cell suppression of a table of counts of people.

**Primary**: a count of 1..threshold-1 people is not published (threshold 11: the DGFiP rule
for individuals). Zero is published: it says that nobody is there, not who.

**Secondary**: the margins would give a primary cell back (a département's total minus its
other communes), so more cells are suppressed until none can be recomputed. The attacker this
protects against knows every published cell, every additive relation of the table (each margin
is the sum of its parts, along every dimension and every level of its hierarchy), that counts
are whole and non-negative, and the rules themselves: a cell suppressed as PRIMARY holds
1..threshold-1, one suppressed as SECONDARY holds at least the threshold (zeros are never
chosen as complements, they are often known anyway). For each primary cell of value ``a`` the
values that attacker cannot rule out must cover the protection interval
``[max(1, a - P), min(threshold - 1, a + P)]``, P the protection level: with P =
threshold - 1 the attacker learns nothing beyond "1 to threshold-1".

The method is exact, after Fischetti and Salazar (the model behind τ-ARGUS's optimal
suppression): a cell is protected upwards when some integer table that agrees with every
published cell, obeys every relation and the attacker's bounds, and has the cell at the top of
its interval exists; downwards likewise. For each primary cell, largest first, one integer
programme (HiGHS, see :mod:`observatory.programme`) finds both tables, up and down, while
choosing the complementary cells of least total value that both need, the cells already
suppressed being free. The complements are looked for in widening circles — none (the cells
suppressed so far often protect the next cell already), the cells two relations away, then
every cell — and the first circle with a solution is taken: on the grid's linked tables this
makes suppression about three times faster, for complements of slightly more value. Suppressing
more cells only widens what the attacker must consider, so a table found for one primary cell
stays valid as others are protected after it: when the loop ends every primary cell is
protected, against an attacker who solves integer programmes (and so against one who solves
linear ones). The choice is sequential and local first, so the set is small, not always the
smallest. When even suppressing every non-zero cell cannot give a cell its whole interval (the
rules' bounds and the published zeros pin it), it gets the widest that can be.

The solver is deterministic and every input is in sorted order: the same table always gets
the same suppressions, in any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from observatory.cells import Coordinates, Equation
from observatory.programme import INFINITY, Infeasible, IntegerProgramme


class Reason(StrEnum):
    """Why a cell is not published."""

    PRIMARY = "PRIMARY"  # it counts 1..threshold-1 people
    SECONDARY = "SECONDARY"  # it would let a PRIMARY cell be recomputed from the margins
    RATE_DENOMINATOR = "RATE_DENOMINATOR"  # a rate over fewer people than the minimum


def primary_cells(values: Mapping[Coordinates, int], threshold: int) -> list[Coordinates]:
    """The cells counting 1..threshold-1, sorted."""
    return sorted(cell for cell, value in values.items() if 0 < value < threshold)


def protection_interval(value: int, threshold: int, protection_level: int) -> tuple[int, int]:
    """The values an attacker must not be able to rule out for a primary cell of ``value``."""
    return max(1, value - protection_level), min(threshold - 1, value + protection_level)


NEAR_STEPS = 2
"""How far (in relations) complements are looked for first: in a two-way table a small cell's
complements are the corners of a rectangle, two relations away."""


class _Witnesses:
    """The integer programme behind the choice of complementary cells.

    One binary ``z`` per cell (suppress it) and, per wanted move of the protected cell, one
    *witness table*: a whole ``y`` per cell (how far it moves) obeying every relation, zero on
    published cells, within the attacker's bounds on suppressed ones. Witness tables for both
    directions share the ``z``, so the complements chosen serve the two at once."""

    def __init__(
        self,
        values: Mapping[Coordinates, int],
        equations: Sequence[Equation],
        threshold: int,
    ) -> None:
        self.cells = sorted(values)
        self.index = {cell: i for i, cell in enumerate(self.cells)}
        self.values = [float(values[cell]) for cell in self.cells]
        self.threshold = float(threshold)
        # Larger than any move a witness table needs: no cell exceeds the grand total.
        self.big = 2.0 * max(self.values, default=0.0) + 2.0 * threshold
        self.relations = [
            (
                [self.index[equation.margin], *(self.index[part] for part in equation.parts)],
                [1.0, *(-1.0 for _ in equation.parts)],
            )
            for equation in equations
        ]
        # Which cells share a relation with each cell, for near() (see NEAR_STEPS).
        self.related: list[set[int]] = [set() for _ in self.cells]
        for indices, _ in self.relations:
            for i in indices:
                self.related[i].update(indices)

    def near(self, cell: Coordinates, steps: int) -> set[int]:
        """The cells at most ``steps`` relations away from ``cell``."""
        reached = {self.index[cell]}
        for _ in range(steps):
            reached = reached.union(*(self.related[i] for i in reached))
        return reached

    def solve(
        self,
        cell: Coordinates,
        moves: Sequence[tuple[float, float]],
        primary: Sequence[Coordinates],
        secondary: set[Coordinates],
        reach: bool = False,
        among: set[int] | None = None,
    ) -> NDArray[np.float64]:
        """Witness tables moving ``cell`` by an amount within each of ``moves``: the values
        of the ``z`` then of each ``y``, new complements taken ``among`` those cells only
        (None: any). Raises :class:`Infeasible` when there are none.

        Minimises the value of the new complementary cells; with ``reach`` (one move only),
        maximises instead how far the cell moves towards the move's far end."""
        n, t = len(self.cells), self.threshold
        z_low, z_high = np.zeros(n), np.zeros(n)
        y_low, y_high = np.zeros(n), np.zeros(n)
        cost = np.zeros(n)
        for q in primary:
            i = self.index[q]
            y_low[i], y_high[i] = 1.0 - self.values[i], t - 1.0 - self.values[i]
            z_low[i] = z_high[i] = 1.0
        for s in secondary:
            i = self.index[s]
            y_low[i], y_high[i] = t - self.values[i], self.big
            z_low[i] = z_high[i] = 1.0
        suppressed = set(primary) | secondary
        candidates = [
            i
            for i, c in enumerate(self.cells)
            if (among is None or i in among) and c not in suppressed and self.values[i] > 0
        ]
        for i in candidates:
            y_low[i], y_high[i] = t - self.values[i], self.big
            z_high[i] = 1.0
            cost[i] = self.values[i]
        p = self.index[cell]
        lows, highs = [z_low], [z_high]
        for low, high in moves:
            block_low, block_high = y_low.copy(), y_high.copy()
            block_low[p], block_high[p] = low, high
            lows.append(block_low)
            highs.append(block_high)
        programme = IntegerProgramme(np.concatenate(lows), np.concatenate(highs))
        for block in range(1, len(moves) + 1):
            offset = n * block
            for indices, coefficients in self.relations:
                programme.add_row([offset + i for i in indices], coefficients, 0.0, 0.0)
            for i in candidates:
                # A cell left published does not move: y <= big * z and y >= (t - value) * z.
                programme.add_row([offset + i, i], [1.0, -self.big], -INFINITY, 0.0)
                programme.add_row([offset + i, i], [1.0, self.values[i] - t], 0.0, INFINITY)
        if reach:
            ((low, high),) = moves
            programme.cost[n + p] = -1.0 if high > 0 else 1.0
        else:
            programme.cost[:n] = cost
        return programme.solve()

    def first_solution(
        self,
        cell: Coordinates,
        moves: Sequence[float],
        primary: Sequence[Coordinates],
        secondary: set[Coordinates],
        where: Sequence[set[int] | None],
    ) -> NDArray[np.float64]:
        """Witness tables moving ``cell`` by exactly each of ``moves``, with complements
        chosen among the first of ``where`` that has any (None: every cell)."""
        for among in where:
            try:
                return self.solve(cell, [(m, m) for m in moves], primary, secondary, among=among)
            except Infeasible:
                continue
        raise Infeasible

    def chosen(self, solution: NDArray[np.float64]) -> set[Coordinates]:
        return {cell for i, cell in enumerate(self.cells) if solution[i] > 0.5}

    def moved(self, solution: NDArray[np.float64], cell: Coordinates) -> float:
        return float(round(solution[len(self.cells) + self.index[cell]]))


def secondary_cells(
    values: Mapping[Coordinates, int],
    equations: Sequence[Equation],
    threshold: int,
    protection_level: int,
) -> list[Coordinates]:
    """The complementary cells that protect every primary cell of a table, sorted.

    ``values`` holds every cell, margins included; ``equations`` every additive relation."""
    primary = primary_cells(values, threshold)
    if not primary:
        return []
    programme = _Witnesses(values, equations, threshold)
    secondary: set[Coordinates] = set()
    for cell in sorted(primary, key=lambda c: (-values[c], c)):
        value = values[cell]
        moves = [
            float(bound - value)
            for bound in protection_interval(value, threshold, protection_level)
            if bound != value
        ]
        if not moves:
            continue
        # Widening circles, each exact (the module's docstring says why): none, near, all.
        where: tuple[set[int] | None, ...] = (set(), programme.near(cell, NEAR_STEPS), None)
        try:
            solution = programme.first_solution(cell, moves, primary, secondary, where)
        except Infeasible:
            # Some of the interval is out of any reach: protect as far as can be, each way.
            reached = []
            for move in moves:
                span = (0.0, move) if move > 0 else (move, 0.0)
                farthest = programme.solve(cell, [span], primary, secondary, reach=True)
                reached.append(programme.moved(farthest, cell))
            moves = [move for move in reached if move != 0]
            if not moves:
                continue
            solution = programme.first_solution(cell, moves, primary, secondary, where)
        secondary |= programme.chosen(solution) - set(primary)
    return sorted(secondary)
