"""Counts of an entity across every partner holding it: the observatory's only data path.

The contract the observatory's resolvers and extractor call::

    from adapters.counting import CountQuery, Period
    from sources.counting import count

    with acting.scoped(observatory_principal, signer):   # the gateway opens it per request
        result = await count(registry, CountQuery(
            "application", ("status", "month"), {"training_centre": ("0732727T",)},
            Period(date(2025, 9, 1), date(2026, 1, 1))), key_secret=settings_secret)
    result.cells[("PLACED", "2025-09")]   # CountCell(count, total, key_sum), summed over owners
    result.partners                        # who was counted from, and how (result.methods)
    result.errors                          # PartnerFailure of each owner that failed
    result.computed_at                     # UTC instant

The cells are **true counts**: hand them to :func:`observatory.publish` (as
``observatory.Count(cell.count, cell.key_sum or 0)``) before anything is cached, shown or
extracted; they never leave the process as they are.

**Where each owner is counted.** An owner whose entity block declares ``aggregates`` answering
the whole query (:meth:`adapters.counting.Counter.counts`) counts itself: one ``GROUP BY`` at an
SQL partner, its statistics endpoint at a REST partner, its aggregate query at a GraphQL
one. Any other owner is counted **in memory** from its normal list, page by page, each page
counted and dropped
(:func:`adapters.counting.count_in_memory`, outside the request's memo so no page is kept). An
owner that checks the principal (``principal = {...}``) and has no such aggregates is **not**
counted: it answers an OBSERVATORY principal no person, so its list would count zero; its name
is in ``errors`` (``COUNT_UNAVAILABLE``), never a silent zero. So is an owner whose
aggregates do not answer a query that breaks down by (or filters on) a dimension read from a
related record (:class:`adapters.counting.Related`: an application's programme's ROME domain):
its records do not hold it, and counting it as None would be wrong, not partial; and so is an
owner counted in memory whose mapping does not map the date the query's period selects by
(``CountQuery.period_field``: applications by their ``session``).

**Public entities several owners publish** (:data:`adapters.counting.COUNTED_ONCE`: training
programmes) are counted once per real record instead: every owner's list is read in memory, the
twins are merged by the list path's identity rules, and the merged records are counted
(:mod:`sources.counting_once`; ``methods`` says ``MERGED``, ``twins`` how many records were
folded into another owner's).

**Policy: counts, not rows.** :func:`sources.policy.scope` gives the OBSERVATORY no record of
any personal entity, so the list path never calls an owner for it; counting is a separate,
explicit path that :func:`sources.policy.may_count` opens to that role only (counts of public
entities are anybody's). It returns counts and key sums alone: the records read in memory are
mapped with the fields the count reads only (:attr:`CountQuery.read_fields`: a status, a date, a
commune, never a name), tallied, and dropped; nothing is cached, logged or returned of them.
Each partner call runs under the partner's deadline, bulkhead and breaker; a partner that fails
is a partial answer (its failure in ``errors``), never an exception.

**The same person or application at two owners** is summed twice unless the partners file
says otherwise: the hub cannot match people across owners without holding both owners' keys
(INE, e-mail + birth date) of every person at once, which counting must not do. What the
declared keys allow is declared per owner, in its ``aggregates`` (README, "Counting for the
observatory"): Hub3E's statistics are asked without the placements that mirror a centre's
application, which the centre's ERP counts.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adapters import acting, request_memo
from adapters.counting import (
    COUNT_UNAVAILABLE,
    COUNTED_ONCE,
    Counter,
    CountQuery,
    CountRow,
    CountUnavailable,
    Key,
    Tally,
    count_in_memory,
    unavailable_in_memory,
)
from adapters.mapping import now_instant
from adapters.syntax import DATA_CLASSES
from adapters.types import DataClass, ListQuery, Page
from sources.counting_once import count_once
from sources.policy import may_count
from sources.registry import PartnerFailure, Source, SourceRegistry, answered

__all__ = [
    "COUNT_UNAVAILABLE",
    "CountCell",
    "CountMethod",
    "CountRefused",
    "CountResult",
    "count",
]


class CountRefused(PermissionError):
    """The acting principal may not have counts of this entity (personal: OBSERVATORY only)."""


class CountMethod(enum.StrEnum):
    PUSHED = "PUSHED"  # the owner counted (GROUP BY, statistics endpoint)
    IN_MEMORY = "IN_MEMORY"  # its list, read page by page and dropped
    MERGED = "MERGED"  # its list read in memory with the others', twins counted once


@dataclass(frozen=True, slots=True)
class CountCell:
    """One cell summed over the owners: ``key_sum`` None when an owner stores no record key."""

    count: int
    total: float | None
    key_sum: int | None


@dataclass(frozen=True, slots=True)
class CountResult:
    query: CountQuery
    cells: Mapping[Key, CountCell]
    partners: tuple[str, ...]  # the owners counted from, in the partners file's order
    methods: Mapping[str, CountMethod]
    errors: tuple[PartnerFailure, ...]
    computed_at: str  # UTC ISO instant
    twins: int = 0  # owners' records merged into a twin and counted with it (COUNTED_ONCE)


async def count(
    registry: SourceRegistry,
    query: CountQuery,
    *,
    key_secret: bytes,
    partners: Sequence[str] | None = None,
) -> CountResult:
    """Count ``query`` at every partner holding its entity (or those of ``partners``), summed.

    ``key_secret`` keys the records counted in memory (:func:`observatory.record_key`);
    raises :class:`CountRefused` before any partner call when the acting principal may not
    have these counts.
    """
    personal = DATA_CLASSES.get(query.entity) is DataClass.PERSONAL
    who = acting.current()
    if not may_count(who.principal if who is not None else None, personal):
        raise CountRefused(f"counts of {query.entity} are the observatory's only")
    computed_at = now_instant()
    if query.entity in COUNTED_ONCE:
        return await _count_merged(registry, query, key_secret, partners, computed_at)
    sources = [
        s
        for s in registry.providers(query.entity, partners)
        if isinstance(s.adapter, Counter) or s.adapter.listable(query.entity)
    ]
    answers = await asyncio.gather(
        *(_count_one(source, query, personal, key_secret) for source in sources),
        return_exceptions=True,
    )
    tally = Tally(query.sum_field is not None)
    counted: builtins.list[str] = []
    methods: dict[str, CountMethod] = {}
    errors: builtins.list[PartnerFailure] = []
    for source, (rows, method) in answered(sources, answers, errors):
        for row in rows:
            tally.add(row.key, row.count, row.total, row.key_sum)
        counted.append(source.partner)
        methods[source.partner] = method
    cells = {row.key: CountCell(row.count, row.total, row.key_sum) for row in tally.rows()}
    return CountResult(query, cells, tuple(counted), methods, tuple(errors), computed_at)


async def _count_merged(
    registry: SourceRegistry,
    query: CountQuery,
    key_secret: bytes,
    partners: Sequence[str] | None,
    computed_at: str,
) -> CountResult:
    """An entity several owners publish: every owner's list read, twins merged, each real
    record counted once (:mod:`sources.counting_once`). An owner that cannot be listed
    (a look-up-only completer such as AKTO's funding levels) holds nothing to count."""
    sources = registry.listing_providers(query.entity, partners)
    once = await count_once(sources, query, key_secret)
    cells = {row.key: CountCell(row.count, row.total, row.key_sum) for row in once.rows}
    methods = dict.fromkeys(once.partners, CountMethod.MERGED)
    return CountResult(
        query, cells, once.partners, methods, once.errors, computed_at, twins=once.twins
    )


async def _count_one(
    source: Source, query: CountQuery, personal: bool, key_secret: bytes
) -> tuple[builtins.list[CountRow], CountMethod]:
    adapter = source.adapter
    if isinstance(adapter, Counter) and adapter.counts(query):
        rows = await source.call(lambda: adapter.count(query))
        return rows, CountMethod.PUSHED
    if personal and getattr(source.config, "principal", None) is not None:
        raise CountUnavailable(
            source.partner,
            "checks the principal and declares no statistics for this count: "
            "it shows the observatory no person to count",
        )
    mapping = source.config.entity_mappings().get(query.entity)
    if (refused := unavailable_in_memory(source.partner, query, mapping)) is not None:
        raise refused  # a related record's dimension, an unmapped date: None would be wrong
    if not adapter.listable(query.entity):
        raise CountUnavailable(source.partner, "declares neither statistics nor a list to count")

    async def one_page(page_query: ListQuery) -> Page:
        return await source.call(lambda: adapter.list(page_query))

    with request_memo.outside():  # each page is dropped once counted, not kept for the request
        rows = await count_in_memory(source.partner, query, one_page, key_secret)
    return rows, CountMethod.IN_MEMORY
