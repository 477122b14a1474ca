"""An integer programme in whole-number variables, solved by HiGHS (``highspy``).

Why highspy and not ``scipy.optimize.milp`` (the same solver): the HiGHS 1.12 inside scipy
1.17 prints a debugging line to the process's standard output during some solves, which would
end up in the gateway's output; highspy ships a later HiGHS without it, is typed, and needs
only numpy (the output flag is set before anything else, so it prints nothing). The solver
runs on one thread, so a programme always gets the same solution.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np
from highspy._core import _Highs
from numpy.typing import NDArray

INFINITY = highspy.kHighsInf


class Infeasible(Exception):
    """No whole-number point satisfies the programme."""


class IntegerProgramme:
    """Minimise ``cost · x`` over whole-number ``x`` within bounds, subject to linear rows."""

    def __init__(self, lower: NDArray[np.float64], upper: NDArray[np.float64]) -> None:
        self.lower, self.upper = lower, upper
        self.cost = np.zeros(len(lower))
        self._row_lower: list[float] = []
        self._row_upper: list[float] = []
        self._starts: list[int] = []
        self._indices: list[int] = []
        self._values: list[float] = []

    def add_row(
        self, indices: Sequence[int], values: Sequence[float], lower: float, upper: float
    ) -> None:
        """``lower <= sum(values[k] * x[indices[k]]) <= upper``."""
        self._starts.append(len(self._indices))
        self._indices.extend(indices)
        self._values.extend(values)
        self._row_lower.append(lower)
        self._row_upper.append(upper)

    def solve(self) -> NDArray[np.float64]:
        """The optimal ``x``; raises :class:`Infeasible` when there is none."""
        # The core solver, not highspy.Highs: that wrapper's callbacks print HiGHS's banner on
        # standard output before any option can turn logging off.
        solver = _Highs()
        solver.setOptionValue("output_flag", False)
        solver.setOptionValue("threads", 1)
        solver.setOptionValue("random_seed", 0)
        n = len(self.lower)
        solver.addVars(n, self.lower, self.upper)
        solver.changeColsCost(n, np.arange(n, dtype=np.int32), self.cost)
        solver.changeColsIntegrality(
            n,
            np.arange(n, dtype=np.int32),
            np.full(n, int(highspy.HighsVarType.kInteger), dtype=np.uint8),
        )
        if self._starts:
            solver.addRows(
                len(self._starts),
                np.array(self._row_lower),
                np.array(self._row_upper),
                len(self._indices),
                np.array(self._starts, dtype=np.int32),
                np.array(self._indices, dtype=np.int32),
                np.array(self._values),
            )
        solver.run()
        status = solver.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise Infeasible
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"the solver stopped: {solver.modelStatusToString(status)}")
        return np.array(solver.getSolution().col_value)
