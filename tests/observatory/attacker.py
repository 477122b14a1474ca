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

import highspy

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
    found = []
    for sense in ("min", "max"):
        solver = highspy.Highs()  # type: ignore[no-untyped-call]  # its __init__ has no annotations
        solver.silent()
        x = {
            cell: solver.addIntegral(*bounds.get(cell, (cells[cell], cells[cell])))
            for cell in sorted(cells)
        }
        for margin, parts in rels:
            solver.addConstr(x[margin] == sum((x[part] for part in parts[1:]), x[parts[0]]))
        if sense == "min":
            solver.minimize(x[target])
        else:
            solver.maximize(x[target])
        status = solver.getModelStatus()
        assert status == highspy.HighsModelStatus.kOptimal, solver.modelStatusToString(status)
        found.append(solver.val(x[target]))
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
