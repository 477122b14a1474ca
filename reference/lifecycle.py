"""The application lifecycle of the common syntax: the hub's authority for every transition.

The main path runs "from creating the file to placing the young person"::

    DRAFT → SUBMITTED → UNDER_REVIEW → ADMITTED → PROPOSED_TO_EMPLOYER → INTERVIEW →
    EMPLOYER_AGREED → CONTRACT_DRAFTED → CONTRACT_SIGNED → CONTRACT_DEPOSITED → PLACED

COMMON-SYNTAX.md names the side exits without saying where they leave from; the hub reads them
as follows, all terminal like PLACED:

- ``REJECTED_BY_CFA`` from SUBMITTED or UNDER_REVIEW (the centre decides on admission);
- ``REJECTED_BY_EMPLOYER`` from PROPOSED_TO_EMPLOYER or INTERVIEW;
- ``WITHDRAWN`` from any state before the contract is signed (the young person changes plans);
- ``ABANDONED`` from SUBMITTED up to CONTRACT_DEPOSITED (the young person stops answering).

``transitionApplication`` accepts only an edge of this graph (:func:`allows`); anything else
is refused before the owner is asked.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

MAIN_PATH: Final = (
    "DRAFT",
    "SUBMITTED",
    "UNDER_REVIEW",
    "ADMITTED",
    "PROPOSED_TO_EMPLOYER",
    "INTERVIEW",
    "EMPLOYER_AGREED",
    "CONTRACT_DRAFTED",
    "CONTRACT_SIGNED",
    "CONTRACT_DEPOSITED",
    "PLACED",
)
SIDE_EXITS: Final[dict[str, tuple[str, ...]]] = {
    "REJECTED_BY_CFA": ("SUBMITTED", "UNDER_REVIEW"),
    "REJECTED_BY_EMPLOYER": ("PROPOSED_TO_EMPLOYER", "INTERVIEW"),
    "WITHDRAWN": MAIN_PATH[: MAIN_PATH.index("CONTRACT_SIGNED")],
    "ABANDONED": MAIN_PATH[1 : MAIN_PATH.index("PLACED")],
}
STATUSES: Final = (*MAIN_PATH, *SIDE_EXITS)
TERMINAL: Final = frozenset({"PLACED", *SIDE_EXITS})
CONTRACT_STAGES: Final = frozenset({"CONTRACT_SIGNED", "CONTRACT_DEPOSITED", "PLACED"})
"""Statuses from which a contract exists at the OPCO (signed, deposited, executing)."""


def _transitions() -> dict[str, frozenset[str]]:
    graph: dict[str, set[str]] = {status: set() for status in STATUSES}
    for here, there in itertools.pairwise(MAIN_PATH):
        graph[here].add(there)
    for exit_status, sources in SIDE_EXITS.items():
        for source in sources:
            graph[source].add(exit_status)
    return {status: frozenset(nexts) for status, nexts in graph.items()}


TRANSITIONS: Final = _transitions()


def allows(current: str, to: str) -> bool:
    """Whether an application at ``current`` may move to ``to``."""
    return to in TRANSITIONS.get(current, frozenset())


def is_valid_path(statuses: Sequence[str]) -> bool:
    """Whether ``statuses`` starts at DRAFT and takes only edges of the graph."""
    if not statuses or statuses[0] != "DRAFT":
        return False
    return all(b in TRANSITIONS.get(a, ()) for a, b in itertools.pairwise(statuses))
