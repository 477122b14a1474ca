"""The shared path of every list query: validate paging, search, slice by keyset cursor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info

from adapters.types import Record
from resolvers import validation as check
from resolvers.pagination import PageInfo, SortKey, check_first, decode_cursor, page, page_info
from resolvers.selection import requested

SORT_KEY_ARITY = 3  # (sort value, partner, partner id): unique, so cursors never tie


@dataclass(slots=True)
class Listed:
    items: list[tuple[SortKey, Record]]
    page_info: PageInfo
    total_count: int | None


async def list_records(
    info: Info,
    entity: str,
    filters: dict[str, Any],
    first: int,
    after: str | None,
    sources: Sequence[str] | None,
    key: Callable[[Record], SortKey],
    descending: bool = False,
) -> Listed:
    """One page of ``entity``; every argument is checked before any partner is called."""
    context = info.context
    check_first(first, context.max_page_size)
    if sources:
        known = [s.partner for s in context.registry.sources]
        check.partner_names("filter.sources", sources, known)
    if after is not None:
        decode_cursor(after, SORT_KEY_ARITY)
    wanted = requested(info, "edges", "node")
    outcome = await context.registry.search(entity, filters, sources, wanted)
    context.record_failures(outcome.failures)
    chunk = page(outcome.records, key, first, after, arity=SORT_KEY_ARITY, descending=descending)
    complete = outcome.complete and not outcome.failures
    return Listed(chunk.items, page_info(chunk), len(outcome.records) if complete else None)
