"""Reading about one page from a partner: how much to ask for, and when to stop.

Every kind that resumes (SQL, feeds, GraphQL) reads a list the same way: raw records in the
partner's order, each one mapped and tested against every filter of the query, until ``limit``
of them match or ``max_items`` raw ones have been examined (the bound on what a filter the
partner cannot apply may cost). A raw record asked for but not examined (the look-ahead, the
rest of a partner page past the limit) is not consumed: the page's ``end`` stays before it.

Usage::

    scan = Scan(limit=query.limit, budget=config.max_items, pushed_all=True)
    while not scan.done:
        size = scan.ask(page_size)       # what is missing, plus one to see whether more follow
        ...                              # read ``size`` raw records, then for each one examined:
        scan.examined += 1
        scan.matched += matches(record)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_GROWTH_STEPS = 16
"""Doublings of the ask after which it stops growing (the page size caps it long before)."""


def active_filters(filters: Mapping[str, Any]) -> frozenset[str]:
    """Names of the filters that filter something (None, "" or an empty list filter nothing,
    as :func:`adapters.predicates.predicates` reads them)."""
    return frozenset(
        name
        for name, value in filters.items()
        if value is not None
        and value != ""
        and not (isinstance(value, list | tuple | set | frozenset) and not value)
    )


def not_a_position(partner: str) -> ValueError:
    """The error for a resume position this adapter did not make (shape or type wrong)."""
    return ValueError(f"{partner}: not a position of this list")


@dataclass(slots=True)
class Scan:
    """One call's reading budget: ``limit`` matching records, at most ``budget`` raw ones.

    ``pushed_all`` says the partner applies every filter itself, so what it returns matches
    and each ask needs only what is missing; otherwise each further ask of the call doubles,
    so sparse matches cost a few round trips, not one per record.
    """

    limit: int
    budget: int
    pushed_all: bool
    examined: int = 0
    matched: int = 0
    asks: int = 0

    @property
    def done(self) -> bool:
        return self.matched >= self.limit or self.examined >= self.budget

    def ask(self, page_size: int, look_ahead: int = 1) -> int:
        """Raw records to ask for next (at least one, at most ``page_size``)."""
        missing = max(0, self.limit - self.matched)
        if not self.pushed_all:
            missing <<= min(self.asks, MAX_GROWTH_STEPS)
        self.asks += 1
        left = max(0, self.budget - self.examined)
        return max(1, min(page_size, missing + look_ahead, left + look_ahead))


__all__ = ["MAX_GROWTH_STEPS", "Scan", "active_filters", "not_a_position"]
