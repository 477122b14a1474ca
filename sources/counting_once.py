"""Counting each real record once when several owners publish it: the training catalogue.

The same programme is published by API Apprentissage, by the Carif-Oref and by the centre's
own ERP; summing each owner's sessions would count it two or three times (in the demo: 660
sessions and 7,124 places counted for 379 sessions and 6,592 places). For the entities of
:data:`adapters.counting.COUNTED_ONCE`, :func:`count_once` counts **through the merge the list
path does**:

1. every owner's whole list is read in memory, page by page (``count_in_memory``'s walk), with
   the fields the count reads and those its identity rules read; of each record only a slim
   copy is kept: the fields the count reads (its dimensions, period and sum, and the items'
   ``start``, which the merge matches them by) and the record's identity keys;
2. twins are found **over the whole catalogue** by the same identity rules as the list path
   (:meth:`sources.registry.Source.identity`: a partner's declared ``identity``, else the
   defaults of :mod:`sources.merge`: a catalogue key, or the RNCP, the responsible UAI and the
   commune), each group holding at most one record per owner;
3. each group is merged as the list merges it (:func:`sources.merge.merge_group`): the record
   of the owner listed first in the partners file owns it, its twins complete it in file
   order, and sessions are united by start date, a session's missing capacity completed by a
   twin's; the merged records are then counted (one unit per session).

So the places counted are the places ``trainingPrograms`` shows: a session's capacity is the
first owner's (in file order) that gives one. To make a centre's ERP the authority on its own
places, list it before the catalogues in the partners file. A session no owner gives a capacity
for counts in ``count`` and adds 0 places. An owner that fails is named in the errors, and its
programmes are still counted from the twins the others publish.

**Cost**: every owner's whole list is read once per count, one page at a time, and the slim
copies of all of them are held until every owner has answered: 2 to 4 KB a record in the
demo (measured with tracemalloc), some 10 MB for 4,000 programmes published twice; public data,
and no page is kept. No owner counts these entities
itself (an ``aggregates`` block is refused): its ``GROUP BY`` could not tell which of its
records another owner also publishes. Personal entities are never counted this way: matching
people across owners would need both owners' keys of every person at once.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters import request_memo
from adapters.counting import (
    COUNTED_ITEMS,
    COUNTED_ONCE,
    CountQuery,
    CountRow,
    Tally,
    tally_records,
    walk_in_memory,
)
from adapters.syntax import DATA_CLASSES
from adapters.types import DataClass, Fields, ListQuery, Page, Record
from sources.merge import merge_group
from sources.registry import PartnerFailure, Source, answered

__all__ = ["OnceCount", "count_once", "slim"]

MATCHED_BY = "start"
"""The item field :func:`sources.merge.fill_missing` unites two records' items by."""


@dataclass(frozen=True, slots=True)
class OnceCount:
    rows: builtins.list[CountRow]
    partners: tuple[str, ...]  # the owners read, in the partners file's order
    errors: tuple[PartnerFailure, ...]
    twins: int  # records merged into another owner's twin (counted with it, not again)


@dataclass(frozen=True, slots=True)
class _Held:
    """What is kept of one owner's record until every owner is read."""

    record: Record  # the slim copy, with its owner's provenance
    keys: builtins.list[tuple[Any, ...]]


def slim(value: Any, paths: frozenset[str]) -> Any:
    """``value`` with only the dotted ``paths`` under it (a list keeps, of each item, the
    paths under the list; an empty path keeps the value whole)."""
    if not paths or "" in paths:
        return value
    if isinstance(value, builtins.list):
        return [slim(item, paths) for item in value]
    if not isinstance(value, dict):
        return None
    by_head: dict[str, set[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        by_head.setdefault(head, set()).add(rest)
    return {
        head: slim(value[head], frozenset(rests))
        for head, rests in by_head.items()
        if value.get(head) is not None
    }


def _kept_paths(query: CountQuery) -> frozenset[str]:
    items = COUNTED_ITEMS.get(query.entity)
    if items is None:
        return query.read_paths
    return query.read_paths | {f"{items}.{MATCHED_BY}"}  # twins' items meet by it, asked or not


async def _read(source: Source, query: CountQuery) -> builtins.list[_Held]:
    """One owner's whole list, slimmed, with each record's identity keys."""
    adapter = source.adapter
    identity = source.identity(query.entity)
    kept = _kept_paths(query)
    mapped = query.read_fields | source.identity_fields.get(query.entity, frozenset())
    held: builtins.list[_Held] = []

    def keep(records: builtins.list[Record]) -> None:
        for record in records:
            keys = identity(record.fields) if identity is not None else []
            fields: Fields = slim(record.fields, kept)
            held.append(_Held(Record(record.entity, fields, [record.owner]), keys))

    async def one_page(page_query: ListQuery) -> Page:
        return await source.call(lambda: adapter.list(page_query))

    with request_memo.outside():  # each page is dropped once slimmed, not kept for the request
        await walk_in_memory(source.partner, query, one_page, keep, fields=mapped)
    return held


def _merged(streams: Sequence[builtins.list[_Held]]) -> tuple[builtins.list[Record], int]:
    """The owners' records (given in partner order) merged into one record per real thing.

    A record joins the first group sharing an identity key with it that holds no record of
    its own owner (within one owner, records are told apart by the owner's ids); records
    without a key stay alone. The group's first record, in partner order, owns the merge.
    """
    groups: builtins.list[builtins.list[Record]] = []
    by_key: dict[tuple[Any, ...], int] = {}
    for held in streams:
        for item in held:
            partner = item.record.owner.partner
            group = next(
                (
                    by_key[key]
                    for key in item.keys
                    if key in by_key
                    and all(r.owner.partner != partner for r in groups[by_key[key]])
                ),
                None,
            )
            if group is None:
                group = len(groups)
                groups.append([item.record])
            else:
                groups[group].append(item.record)
            for key in item.keys:
                by_key.setdefault(key, group)
    twins = sum(len(group) - 1 for group in groups)
    return [merge_group(group) for group in groups], twins


async def count_once(sources: Sequence[Source], query: CountQuery, key_secret: bytes) -> OnceCount:
    """Count ``query`` over the merged records of every owner in ``sources`` (listed ones, in
    the partners file's order): each real record once."""
    if query.entity not in COUNTED_ONCE:
        raise ValueError(f"{query.entity} is counted owner by owner")
    if DATA_CLASSES.get(query.entity) is DataClass.PERSONAL:
        raise ValueError("people are never matched across owners to be counted")
    answers = await asyncio.gather(
        *(_read(source, query) for source in sources), return_exceptions=True
    )
    streams: builtins.list[builtins.list[_Held]] = []
    read: builtins.list[str] = []
    errors: builtins.list[PartnerFailure] = []
    for source, answer in answered(sources, answers, errors):
        streams.append(answer)
        read.append(source.partner)
    records, twins = _merged(streams)
    del streams  # the merged records are all that is left to count
    tally = Tally(query.sum_field is not None)
    tally_records(query, records, key_secret, tally)
    return OnceCount(tally.rows(), tuple(read), tuple(errors), twins)
