"""What somebody can work out of a published table: written apart from the code under test.

The tests give this attacker more than is published: the *true* (unperturbed) value of every
published cell. The relations of the table are rebuilt here from the leaves and the
hierarchies' parents alone, not taken from ``observatory.cells``: the property is checked
against the table's definition, not against the code that protects it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

TOTAL = "*"


def nodes_of(parents: Mapping[str, str]) -> list[str]:
    return sorted({TOTAL, *parents})


def chain(parents: Mapping[str, str], value: str) -> list[str]:
    out = [value]
    while out[-1] != TOTAL:
        out.append(parents[out[-1]])
    return out


def true_cells(
    dimensions: Sequence[Mapping[str, str]], leaves: Mapping[tuple[str, ...], int]
) -> dict[tuple[str, ...], int]:
    """Every cell's true count, margins included, by summing leaves into their ancestors."""
    cells = dict.fromkeys(itertools.product(*(nodes_of(d) for d in dimensions)), 0)
    for leaf, count in leaves.items():
        for margin in itertools.product(
            *(chain(d, v) for d, v in zip(dimensions, leaf, strict=True))
        ):
            cells[margin] += count
    return cells


def relations(
    dimensions: Sequence[Mapping[str, str]],
) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """(margin, parts) for every node with children along each dimension, any other nodes."""
    out = []
    all_nodes = [nodes_of(d) for d in dimensions]
    for axis, parents in enumerate(dimensions):
        for node in all_nodes[axis]:
            kids = sorted(v for v, p in parents.items() if p == node)
            if not kids:
                continue
            for other in itertools.product(*(all_nodes[:axis] + all_nodes[axis + 1 :])):
                margin = (*other[:axis], node, *other[axis:])
                out.append((margin, [(*other[:axis], kid, *other[axis:]) for kid in kids]))
    return out


def interval(
    target: tuple[str, ...],
    cells: Mapping[tuple[str, ...], int],
    rels: Sequence[tuple[tuple[str, ...], list[tuple[str, ...]]]],
    bounds: Mapping[tuple[str, ...], tuple[float, float]],
) -> tuple[int, int]:
    """The smallest and largest whole value of ``target`` in any table that obeys every
    relation, equals ``cells`` where no bound is given, and lies within ``bounds`` elsewhere."""
    order = sorted(cells)
    index = {cell: i for i, cell in enumerate(order)}
    lower = np.array([bounds.get(c, (cells[c], cells[c]))[0] for c in order], dtype=float)
    upper = np.array([bounds.get(c, (cells[c], cells[c]))[1] for c in order], dtype=float)
    matrix = np.zeros((max(len(rels), 1), len(order)))
    for row, (margin, parts) in enumerate(rels):
        matrix[row, index[margin]] = 1.0
        for part in parts:
            matrix[row, index[part]] -= 1.0
    found = []
    for sign in (1.0, -1.0):
        cost = np.zeros(len(order))
        cost[index[target]] = sign
        result = milp(
            cost,
            integrality=np.ones(len(order), dtype=np.int64),
            bounds=Bounds(lower, upper),
            constraints=[LinearConstraint(matrix, 0.0, 0.0)],
        )
        assert result.status == 0, result.message
        found.append(result.x[index[target]])
    return math.ceil(found[0] - 1e-6), math.floor(found[1] + 1e-6)


def rule_bounds(
    cells: Mapping[tuple[str, ...], int], suppressed: Mapping[tuple[str, ...], str], threshold: int
) -> dict[tuple[str, ...], tuple[float, float]]:
    """What the published reasons tell: PRIMARY is 1..threshold-1, SECONDARY at least the
    threshold; no upper bound beyond twice the grand total (any larger is impossible)."""
    ceiling = 2.0 * max(cells.values(), default=0) + 2 * threshold
    return {
        cell: (1.0, threshold - 1.0) if reason == "PRIMARY" else (float(threshold), ceiling)
        for cell, reason in suppressed.items()
    }
