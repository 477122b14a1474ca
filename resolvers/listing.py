"""The shared path of every list query: validate paging, ask the source layer for one page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from strawberry.types import Info

from adapters.deadline import DeadlineExceeded
from adapters.types import Record
from resolvers import validation as check
from resolvers.errors import BadUserInput
from resolvers.pagination import PageInfo, check_first
from resolvers.selection import record_fields, requested
from sources.list_cursor import BadCursor


@dataclass(slots=True)
class Listed:
    items: list[tuple[str, Record]]  # (cursor right after the record, record)
    page_info: PageInfo
    total_count: int | None
    total_count_is_estimate: bool


async def list_records(
    info: Info,
    entity: str,
    filters: dict[str, Any],
    first: int,
    after: str | None,
    sources: Sequence[str] | None,
    whole: bool = False,
) -> Listed:
    """One page of ``entity``; every argument (the cursor too) is checked before any partner
    is called. ``whole``: map every field (the records are not the current field's edges)."""
    context = info.context
    check_first(first, context.max_page_size)
    if sources:
        known = [s.partner for s in context.registry.sources]
        check.partner_names("filter.sources", sources, known)
    wanted = None if whole else requested(info, "edges", "node")
    fields = None if wanted is None else record_fields(entity, wanted)
    try:
        page = await context.registry.list_page(
            entity, filters, first, after, sources, wanted, fields
        )
    except BadCursor as error:
        raise BadUserInput("after", str(error)) from None
    except DeadlineExceeded:
        raise GraphQLError(
            "the request's deadline passed", extensions={"code": DeadlineExceeded.code}
        ) from None
    context.record_failures(page.failures)
    info_ = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.start_cursor,
        end_cursor=page.items[-1][0] if page.items else None,
    )
    return Listed(page.items, info_, page.total, page.total_is_estimate)
