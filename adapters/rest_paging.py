"""One REST list call: about one page of matching records, resumed where the last one stopped.

The walk reads the partner's pages from a :data:`~adapters.types.Position` until it holds
``want`` records matching every filter, the partner has nothing more, or ``max_items`` raw
records were read (filters the partner cannot apply cost a bounded scan, never the catalogue).
Raw records are mapped one at a time and only until the page is full: what a partner page holds
beyond it is never mapped.

Positions, by pagination style:

- ``range``, ``offset``, ``page``: the raw offset of the next record to examine (an int). For
  ``page`` the page size is chosen so that one partner page covers the wanted window
  (:func:`aligned_page`): resuming at offset 2013 for 20 records asks page 67 of 30, not two
  pages of 20;
- ``cursor``: ``[partner cursor or null, records to skip in that page, page size]`` — the page
  is asked again with the size its cursor was issued for;
- ``none``: no position; the whole answer is read (``positions`` stays None).
"""

from __future__ import annotations

import builtins
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters import request_memo
from adapters.mapping import log_dropped, now_instant, read_path, refuse_if_none_fit
from adapters.paging import MAX_GROWTH_STEPS, not_a_position
from adapters.rest_config import (
    CursorPagination,
    NoPagination,
    OffsetPagination,
    PagePagination,
    RangePagination,
    RestEntity,
)
from adapters.types import Page, Position, Record

if TYPE_CHECKING:
    from adapters.rest import RestAdapter

Params = builtins.list[tuple[str, str]]
Matches = Callable[[Record], bool]

_LIST_STATUSES = frozenset({200, 204, 206})  # 206/204: range pagination's partial and empty
_CONTENT_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)\s*/\s*(\d+)")


def aligned_page(offset: int, want: int, most: int) -> tuple[int, int]:
    """``(page size, page index)`` of the smallest page of at most ``most`` records that holds
    records ``offset .. offset + want - 1`` (or as many of them as ``most`` allows)."""
    want = max(1, min(want, most))
    for size in range(want, most + 1):
        if offset % size + want <= size:
            return size, offset // size
    return most, offset // most


_DROPPED = object()
"""A slot's record that the mapping refused (counted as rejected by every walk reading it)."""


@dataclass(slots=True)
class _Fetched:
    items: builtins.list[Any]
    total: int | None = None
    next_cursor: str | None = None


@dataclass(slots=True)
class _Result:
    records: builtins.list[Record] = field(default_factory=builtins.list)
    positions: builtins.list[Position] = field(default_factory=builtins.list)
    read: int = 0  # raw records examined
    mapped: int = 0
    rejected: int = 0
    total: int | None = None


class ListWalk:
    """The walk of one list call; see the module docstring."""

    def __init__(
        self,
        adapter: RestAdapter,
        entity: str,
        spec: RestEntity,
        params: Params,
        want: int,
        matches: Matches,
        resume: Position = None,
        fields: frozenset[str] | None = None,
        sparse: bool = False,
    ) -> None:
        assert spec.list is not None
        self.adapter = adapter
        self.entity = entity
        self.spec = spec
        self.endpoint = spec.list
        self.params = params
        self.want = want
        self.matches = matches
        self.resume = resume
        self.fields = fields
        self.sparse = sparse
        self.asks = 0
        self.cap = adapter.rest.max_items  # raw records examined in one call, kept or not
        self.mapper = adapter._mappers[entity]
        self.fetched_at = now_instant()
        self.result = _Result()
        style = spec.pagination
        self.items_steps = adapter._steps(spec.list.items)
        self.total_steps = (
            adapter._steps(style.total)
            if isinstance(style, PagePagination | OffsetPagination)
            else None
        )
        self.cursor_steps = (
            adapter._steps(style.next) if isinstance(style, CursorPagination) else None
        )

    @property
    def full(self) -> bool:
        return len(self.result.records) >= self.want or self.result.read >= self.cap

    # -- the three shapes of walk ----------------------------------------------------------------

    async def run(self) -> Page:
        style = self.spec.pagination
        if isinstance(style, NoPagination):
            return await self._read_whole()
        if isinstance(style, CursorPagination):
            return await self._follow_cursors(style)
        return await self._by_offset()

    async def _read_whole(self) -> Page:
        fetched = await self._fetch([])
        slots = self._slots(fetched.items)
        for j in range(len(fetched.items)):
            self._examine(fetched.items, slots, j, None)
        kept = self.result.records
        self._judge()
        return Page(
            kept[: self.want],
            total=len(fetched.items),
            truncated=len(kept) > self.want,
            exhausted=True,
        )

    async def _by_offset(self) -> Page:
        style = self.spec.pagination
        assert isinstance(style, RangePagination | PagePagination | OffsetPagination)
        start = self.resume if self.resume is not None else 0
        if type(start) is not int or start < 0:
            raise not_a_position(self.adapter.partner)
        offset = start
        exhausted = False
        fetches = 0  # a partner answering full pages of nothing cannot keep the walk going
        while not self.full and not exhausted and fetches <= self.cap:
            ask = self._ask()
            if isinstance(style, PagePagination):
                size, index = aligned_page(offset, ask, style.page_size)
            else:
                size, index = min(style.page_size, ask), 0
            # Pages still needed, fetched together once the total says they exist.
            count = 1
            total = self.result.total
            still = math.ceil(ask / size)
            if total is not None and still > 1:
                count = max(
                    1, min(still, self.adapter._fan_out, math.ceil((total - offset) / size))
                )
            starts = [self._page_start(style, size, index, offset, n) for n in range(count)]
            pages = await self.adapter._gather(
                [
                    functools.partial(self._fetch, self._offset_params(style, size, index + n, s))
                    for n, s in enumerate(starts)
                ]
            )
            for page_start, fetched in zip(starts, pages, strict=True):
                if fetched.total is not None:
                    self.result.total = fetched.total
                skip = max(0, offset - page_start)
                slots = self._slots(fetched.items)
                for j in range(skip, len(fetched.items)):
                    if self.full:
                        break
                    self._examine(fetched.items, slots, j, page_start + j + 1)
                    offset = page_start + j + 1
                self._judge_page()
                ends = page_start + len(fetched.items)
                total = self.result.total
                if len(fetched.items) < size or (total is not None and ends >= total):
                    exhausted = offset >= ends  # examined to the partner's last record
                    break
                if self.full:
                    break
            fetches += count
        self._judge()
        return Page(
            self.result.records,
            total=self.result.total,
            positions=self.result.positions,
            end=offset,
            exhausted=exhausted,
            truncated=not exhausted,
        )

    def _ask(self) -> int:
        """Raw records to read next: what is missing, or, when the adapter applies a filter
        the partner cannot (``sparse``), twice as many at each further read of the call, so a
        rare match costs a few round trips of growing pages, not one small page after another."""
        missing = max(1, self.want - len(self.result.records))
        if self.sparse:
            missing <<= min(self.asks, MAX_GROWTH_STEPS)
        self.asks += 1
        return max(1, min(missing, self.cap - self.result.read))

    async def _follow_cursors(self, style: CursorPagination) -> Page:
        cursor: str | None
        if self.resume is None:
            cursor, skip, size = None, 0, min(style.page_size, max(1, self.want))
        else:
            cursor, skip, size = _cursor_position(
                self.resume, style.page_size, self.adapter.partner
            )
        seen: set[str | None] = {cursor}
        end: Position = [cursor, skip, size]
        exhausted = False
        while not self.full:
            params = [(style.size_param, str(size))] if style.size_param else []
            if cursor is not None:
                params.append((style.cursor_param, cursor))
            fetched = await self._fetch(params)
            consumed = skip
            last = len(fetched.items)
            nxt = fetched.next_cursor
            # A fresh page of a sparse walk may be larger: a cursor marks where the next page
            # starts, whatever size the one it ended was.
            grown = min(style.page_size, self._ask()) if self.sparse else size
            slots = self._slots(fetched.items)
            for j in range(skip, last):
                if self.full:
                    break
                consumed += 1
                # After a page's last record, resume at the next page, not past this one's end.
                at_end = consumed == last and nxt is not None and nxt not in seen
                self._examine(
                    fetched.items, slots, j, [nxt, 0, grown] if at_end else [cursor, consumed, size]
                )
            self._judge_page()
            end = [cursor, consumed, size]
            if consumed < len(fetched.items):
                break  # the page is full: the rest of this partner page waits for the next call
            if nxt is None or nxt in seen or not fetched.items:  # the end, or going in circles
                exhausted = True
                break
            seen.add(nxt)
            cursor, skip, size = nxt, 0, grown
            end = [cursor, 0, size]
        self._judge()
        return Page(
            self.result.records,
            total=self.result.total,
            positions=self.result.positions,
            end=end,
            exhausted=exhausted,
            truncated=not exhausted,
        )

    # -- one raw record, one partner page --------------------------------------------------------

    def _slots(self, items: builtins.list[Any]) -> builtins.list[Any]:
        """Where the records of this partner answer are mapped, shared in the request by
        every walk reading the same answer for the same selection."""
        key = ("mapped", self.adapter.partner, self.entity, self.fields, id(items))
        return request_memo.slots(key, items)

    def _examine(
        self, items: builtins.list[Any], slots: builtins.list[Any], j: int, position: Position
    ) -> None:
        self.result.read += 1
        mapped = slots[j]
        if mapped is None:
            kept, _ = self.mapper.map_many([items[j]], self.fetched_at, self.fields)
            mapped = slots[j] = kept[0] if kept else _DROPPED
        if mapped is _DROPPED:
            self.result.rejected += 1
            return
        self.result.mapped += 1
        if self.matches(mapped):
            self.result.records.append(mapped)
            self.result.positions.append(position)

    def _judge_page(self) -> None:
        """A partner whose records read so far all fail is not read any further."""
        refuse_if_none_fit(
            self.adapter.partner, self.entity, self.result.rejected, self.result.mapped
        )

    def _judge(self) -> None:
        self._judge_page()
        log_dropped(self.adapter.partner, self.entity, self.result.rejected)

    @staticmethod
    def _page_start(style: Any, size: int, index: int, offset: int, n: int) -> int:
        if isinstance(style, PagePagination):
            return (index + n) * size
        return offset + n * size

    @staticmethod
    def _offset_params(style: Any, size: int, index: int, start: int) -> Params:
        if isinstance(style, RangePagination):
            return [(style.param, f"{start}-{start + size - 1}")]
        if isinstance(style, PagePagination):
            return [
                (style.page_param, str(style.first_page + index)),
                (style.size_param, str(size)),
            ]
        assert isinstance(style, OffsetPagination)
        return [(style.offset_param, str(start)), (style.limit_param, str(size))]

    async def _fetch(self, page_params: Params) -> _Fetched:
        adapter = self.adapter
        params = [*self.params, *page_params]
        if self.endpoint.method == "GET":
            answer = await adapter._get_json(
                self.endpoint.path, params, _LIST_STATUSES, self.spec.etag
            )
        else:
            answer = await adapter._post_json(self.endpoint.path, params, _LIST_STATUSES)
        if answer.status == 204:
            return _Fetched([], self._total(answer))
        items = adapter._items_of(answer.body, self.items_steps)
        return _Fetched(items, self._total(answer), self._next_cursor(answer))

    def _total(self, answer: Any) -> int | None:
        style = self.spec.pagination
        if isinstance(style, RangePagination):
            match = _CONTENT_RANGE.search(answer.headers.get(style.total_header, ""))
            return int(match.group(3)) if match else None
        if self.total_steps is not None and answer.body is not None:
            return _count(read_path(answer.body, self.total_steps))
        return None

    def _next_cursor(self, answer: Any) -> str | None:
        if self.cursor_steps is None or answer.body is None:
            return None
        value = read_path(answer.body, self.cursor_steps)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return None


def _cursor_position(position: Position, most: int, partner: str) -> tuple[str | None, int, int]:
    if (
        isinstance(position, builtins.list)
        and len(position) == 3
        and (position[0] is None or isinstance(position[0], str))
        and type(position[1]) is int
        and type(position[2]) is int
        and 0 <= position[1] <= most
        and 1 <= position[2] <= most
    ):
        return position[0], position[1], position[2]
    raise not_a_position(partner)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
