"""The list path: which partners to ask for which page, and the k-way merge of their streams.

A list query costs about one page of each partner, resumed where the last page stopped:

- **one partner** answers (the only provider, or the client chose it with ``sources``) and can
  resume: its own order is the list's order and its page is forwarded as it is, as a
  federation router does;
- **several partners**: the list is in the gateway's order (:data:`adapters.syntax.LIST_ORDERS`).
  Partners that can give that order are read page by page (``paged`` streams); the others are
  read in full, bounded by their ``max_items``, and sorted here (``full`` streams). The streams
  are merged k-way: each step gives the first head in the order, ties to the partner listed
  first. A stream that stopped before its end without a record left (its scan bound) stops the
  page, since its next record could come first: the page is short and says so.

Duplicates are looked for across partners only (a partner's records keep their own identity),
among the records the streams hold for this page; a twin found ahead of its partner's position
is remembered in the cursor so the walk never gives it twice. The record given first in the
order owns the merge (its id, its values); its twins complete it in partner order.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from adapters import deadline
from adapters.constants import rules_out
from adapters.errors import SourceError
from adapters.predicates import FILTER_FIELDS
from adapters.syntax import LIST_ORDERS
from adapters.types import ListQuery, Page, Position, Record, SortOrder, field_at
from sources import list_cursor
from sources.list_cursor import MAX_SKIPPED, BadCursor, StreamState, skip_hash
from sources.merge import Identity, merge_group

if TYPE_CHECKING:
    from sources.registry import PartnerFailure, Source, SourceRegistry

Mode = Literal["paged", "full"]
SortKey = tuple[bool, Any]
MAX_ROUNDS = 4  # partner windows asked again for one page (twins, post-filters), at most

BOUND_CODE = "SOURCE_LIST_BOUND"


@dataclass(slots=True)
class ListPage:
    """One page of a merged list: each record with the cursor right after it."""

    items: list[tuple[str, Record]]
    has_next: bool
    has_previous: bool
    total: int | None
    total_is_estimate: bool
    failures: list[PartnerFailure]

    @property
    def start_cursor(self) -> str | None:
        return self.items[0][0] if self.items else None


class Order:
    """The gateway's order on records: a field, a direction, empty values last.

    Text compares by code point, as the SQL kind orders it (``COLLATE "C"``) and as the feeds
    sort: a merge of partners' orders needs one rule everywhere.
    """

    def __init__(self, order: SortOrder) -> None:
        self.order = order

    def key(self, record: Record) -> SortKey:
        value = field_at(record.fields, self.order.field)
        empty = value is None or value == ""
        return (empty, "" if empty else value)

    def precedes(self, a: SortKey, b: SortKey) -> bool:
        if a[0] != b[0]:
            return not a[0]
        if a[0]:
            return False
        try:
            return bool(a[1] > b[1]) if self.order.descending else bool(a[1] < b[1])
        except TypeError:  # mixed types from a loose partner: compare as text
            x, y = str(a[1]), str(b[1])
            return x > y if self.order.descending else x < y

    def compare(self, a: tuple[SortKey, str], b: tuple[SortKey, str]) -> int:
        """Total order for a partner read in full: the order, then the partner's id."""
        if self.precedes(a[0], b[0]):
            return -1
        if self.precedes(b[0], a[0]):
            return 1
        return (a[1] > b[1]) - (a[1] < b[1])


@dataclass(slots=True)
class _Stream:
    source: Source
    mode: Mode
    state: StreamState
    rank: int
    buffer: deque[tuple[Record, Position]] = field(default_factory=deque)
    exhausted: bool = False
    failed: bool = False
    bounded: bool = False  # stopped by its scan or read bound, not by its end
    total: int | None = None
    total_exact: bool = False
    given_ahead: set[int] = field(default_factory=set)  # held records already given as twins

    def cursor_state(self) -> StreamState:
        """Its state for a cursor: twins given ahead of its position are remembered there."""
        ahead = [skip_hash(r.owner.partner_id) for r, _ in self.buffer if id(r) in self.given_ahead]
        if not ahead:
            return self.state
        skipped = (self.state.skipped + ahead)[:MAX_SKIPPED]
        return StreamState(self.state.position, self.state.done, skipped)

    def drop_given_heads(self) -> None:
        """Pass over held records already given merged into another partner's record."""
        while self.buffer and id(self.buffer[0][0]) in self.given_ahead:
            record, position = self.buffer.popleft()
            self.given_ahead.discard(id(record))
            self.state.position = position

    @property
    def partner(self) -> str:
        return self.source.partner

    @property
    def blocked(self) -> bool:
        """Nothing held, yet more to come: its next record may be the next of the list."""
        return not self.buffer and not self.exhausted and not self.failed and not self.state.done


@dataclass(slots=True)
class _Plan:
    entity: str
    order: Order | None  # None: one partner, in its own order
    streams: list[_Stream]
    bound: str
    fields: frozenset[str] | None  # the record fields to map; None: every field


def needed_fields(
    entity: str,
    selected: frozenset[str] | None,
    filters: Mapping[str, Any],
    order: SortOrder | None,
    sources: Sequence[Source],
    extra: frozenset[str],
) -> frozenset[str] | None:
    """What the client selected, plus what the hub filters, sorts and finds twins on."""
    if selected is None:
        return None
    reads = FILTER_FIELDS.get(entity, {})
    needed = set(selected) | extra
    needed |= {reads[name] for name in filters if name in reads}
    if order is not None:
        needed.add(order.field.split(".")[0])
    if len(sources) > 1:
        for source in sources:
            needed |= source.identity_fields.get(entity, frozenset())
    return frozenset(needed)


def plan(
    registry: SourceRegistry,
    entity: str,
    filters: Mapping[str, Any],
    partners: Sequence[str] | None,
    after: str | None,
    selected: frozenset[str] | None = None,
    extra: frozenset[str] = frozenset(),
) -> _Plan:
    """Which partners, in which mode, from which state; the cursor is checked here, before
    any partner is called (raises :class:`BadCursor`)."""
    sources = [
        s
        for s in registry.listing_providers(entity, partners)
        if not ((mapping := s.mapping(entity)) and rules_out(entity, mapping, filters))
    ]
    single = len(sources) == 1 and sources[0].adapter.resumable(entity)
    order = None if single else Order(LIST_ORDERS[entity])
    modes: list[tuple[Source, Mode]] = []
    for source in sources:
        paged = source.adapter.resumable(entity) and (
            order is None or order.order.token in source.adapter.orders(entity)
        )
        modes.append((source, "paged" if paged else "full"))
    shape = (
        order.order.token if order is not None else "",
        *(f"{s.partner}:{m}" for s, m in modes),
    )
    bound = list_cursor.binding(entity, filters, shape)
    states = (
        list_cursor.decode(after, bound, frozenset(s.partner for s in sources))
        if after is not None
        else {}
    )
    streams = [
        _Stream(source, mode, states.get(source.partner, StreamState()), rank)
        for rank, (source, mode) in enumerate(modes)
    ]
    fields = needed_fields(
        entity, selected, filters, order.order if order else None, sources, extra
    )
    return _Plan(entity, order, streams, bound, fields)


async def list_page(
    registry: SourceRegistry,
    chosen: _Plan,
    filters: Mapping[str, Any],
    first: int,
    post_filter: Callable[[list[Record]], Any] | None = None,
) -> ListPage:
    """One page of ``first`` records of the planned list.

    ``post_filter`` (async: records -> (kept records, failures)) applies a filter that needs
    another entity (an offer's OPCO is its employer's); the merge then goes on until the page
    is full or the partners have nothing more, at most :data:`MAX_ROUNDS` windows each.
    """
    failures: list[PartnerFailure] = []
    merger = _Merger(chosen)
    had_cursor = any(s.state.position is not None or s.state.done for s in chosen.streams)
    items: list[tuple[str, Record]] = []
    for round_ in range(MAX_ROUNDS):
        await _fill(registry, chosen, filters, first, failures, first_round=round_ == 0)
        given = merger.take(first - len(items))
        if post_filter is not None and given:
            kept_records, more_failures = await post_filter([r for _, r in given])
            failures.extend(more_failures)
            kept_ids = {id(r) for r in kept_records}
            given = [(c, r) for c, r in given if id(r) in kept_ids]
        items.extend(given)
        live = [s for s in chosen.streams if not s.failed]
        if len(items) >= first or not any(s.buffer or s.blocked for s in live):
            break
    for stream in chosen.streams:
        if stream.bounded and stream.blocked:
            failures.append(_bound_failure(stream))
    total, estimate = _total(chosen, merger.twins, post_filter is not None)
    has_next = any(
        not s.failed and (s.buffer or not (s.exhausted or s.state.done)) for s in chosen.streams
    )
    return ListPage(items, has_next, had_cursor, total, estimate, failures)


def _bound_failure(stream: _Stream) -> PartnerFailure:
    from sources.registry import PartnerFailure

    bound = stream.source.config.max_items
    what = (
        f"read in full, at most {bound} records: later ones are not in this list"
        if stream.mode == "full"
        else f"read {bound} records without filling the page (a filter it cannot apply); "
        "the next page resumes there"
    )
    return PartnerFailure(stream.partner, BOUND_CODE, what)


def _total(chosen: _Plan, twins: int, post_filtered: bool) -> tuple[int | None, bool]:
    """The partners' own totals, minus the twins seen; an estimate unless exactly known."""
    live = [s for s in chosen.streams if not s.failed]
    if (
        post_filtered  # the partners' totals know nothing of a filter on another entity
        or not live
        or any(s.total is None for s in live)
        or len(live) < len(chosen.streams)
    ):
        return None, False
    total = sum(s.total or 0 for s in live) - twins
    exact = all(s.total_exact for s in live) and sum(1 for s in live if s.total) <= 1
    return max(total, 0), not exact


async def _fill(
    registry: SourceRegistry,
    chosen: _Plan,
    filters: Mapping[str, Any],
    first: int,
    failures: list[PartnerFailure],
    first_round: bool,
) -> None:
    """Ask every stream that holds nothing and has more for its next window, in parallel."""
    wanted = [
        s
        for s in chosen.streams
        if not (s.failed or s.state.done or s.buffer) and (first_round or s.blocked)
    ]
    if not wanted:
        return
    answers = await asyncio.gather(
        *(_window(registry, chosen, s, filters, first) for s in wanted), return_exceptions=True
    )
    from sources.registry import failure_of

    for stream, answer in zip(wanted, answers, strict=True):
        if isinstance(answer, SourceError):
            stream.failed = True
            failures.append(failure_of(answer))
        elif isinstance(answer, BaseException):
            raise answer


async def _window(
    registry: SourceRegistry,
    chosen: _Plan,
    stream: _Stream,
    filters: Mapping[str, Any],
    first: int,
) -> None:
    source = stream.source
    if stream.mode == "paged":
        order = chosen.order.order if chosen.order is not None else None
        query = ListQuery(
            chosen.entity, filters, first, order, stream.state.position, chosen.fields
        )
        try:
            page = await registry.list_call(source, query)
        except ValueError as error:  # a position the adapter never made
            raise BadCursor(str(error)) from None
        positions: Sequence[Position] = page.positions or [None] * len(page.records)
        stream.buffer.extend(zip(page.records, positions, strict=True))
        stream.exhausted = page.exhausted
        stream.bounded = not page.exhausted and len(page.records) < first
        if stream.state.position is None and page.exhausted and not stream.state.skipped:
            # read from its start to its end in one window: its count is what it gave
            stream.total, stream.total_exact = len(page.records), True
        elif stream.state.position is None or page.total is not None:
            stream.total, stream.total_exact = page.total, page.total_exact
        return
    assert chosen.order is not None
    query = ListQuery(chosen.entity, filters, source.config.max_items, fields=chosen.fields)
    page = await registry.list_call(source, query)
    _full_window(chosen.order, stream, page)


def _full_window(order: Order, stream: _Stream, page: Page) -> None:
    def compare(a: tuple[SortKey, str, Record], b: tuple[SortKey, str, Record]) -> int:
        return order.compare((a[0], a[1]), (b[0], b[1]))

    keyed = sorted(
        ((order.key(r), r.owner.partner_id, r) for r in page.records),
        key=functools.cmp_to_key(compare),
    )
    start = 0
    position = stream.state.position
    if position is not None:
        if not (isinstance(position, list) and len(position) == 3 and isinstance(position[2], str)):
            raise BadCursor("not a cursor of this list")
        last = ((bool(position[0]), position[1]), position[2])
        while start < len(keyed) and order.compare((keyed[start][0], keyed[start][1]), last) <= 0:
            start += 1
    for sort_key, partner_id, record in keyed[start:]:
        stream.buffer.append((record, [sort_key[0], sort_key[1], partner_id]))
    stream.exhausted = True
    stream.bounded = page.truncated
    stream.total, stream.total_exact = len(page.records), not page.truncated


class _Merger:
    """Takes records from the streams' heads in order, merging twins across partners."""

    def __init__(self, chosen: _Plan) -> None:
        self.chosen = chosen
        self.twins = 0
        self.identities: dict[str, Identity | None] = {
            s.partner: s.source.identity(chosen.entity) for s in chosen.streams
        }
        self.merging = len(chosen.streams) > 1

    def take(self, count: int) -> list[tuple[str, Record]]:
        out: list[tuple[str, Record]] = []
        streams = self.chosen.streams
        index = self._index() if len(streams) > 1 else {}
        while len(out) < count:
            deadline.check()  # no await in this loop: the request's deadline cannot cut it
            best = self._best()
            if best is None:
                break
            record, position = best.buffer.popleft()
            best.state.position = position
            if self._skipped(best, record):
                continue
            group = [(best, record)]
            for key in self.keys(best, record):
                for other, twin in index.get(key, ()):
                    if other is best or any(o is other for o, _ in group):
                        continue
                    if id(twin) in other.given_ahead or not _holds(other, twin):
                        continue
                    group.append((other, twin))
                    self._give_ahead(other, twin)
            self.twins += len(group) - 1
            for stream in streams:
                if not stream.buffer and stream.exhausted:
                    stream.state.done = True
            # The record that came first in the order owns the merge, so the list stays in order
            # by its own values; its twins complete it in partner order.
            group[1:] = sorted(group[1:], key=lambda member: member[0].rank)
            merged = merge_group([r for _, r in group]) if len(group) > 1 else record
            cursor = list_cursor.encode(
                self.chosen.bound, {s.partner: s.cursor_state() for s in streams}
            )
            out.append((cursor, merged))
        return out

    def _best(self) -> _Stream | None:
        order = self.chosen.order
        best: _Stream | None = None
        best_key: SortKey | None = None
        for stream in self.chosen.streams:
            if stream.failed or stream.state.done:
                continue
            stream.drop_given_heads()
            if not stream.buffer:
                if stream.exhausted:
                    stream.state.done = True
                    continue
                return None  # its next record is unknown and may come first: stop here
            if order is None:
                return stream
            key = order.key(stream.buffer[0][0])
            if best is None or (best_key is not None and order.precedes(key, best_key)):
                best, best_key = stream, key
        return best

    def keys(self, stream: _Stream, record: Record) -> list[tuple[Any, ...]]:
        identity = self.identities.get(stream.partner)
        return identity(record.fields) if identity is not None and self.merging else []

    def _index(self) -> dict[tuple[Any, ...], list[tuple[_Stream, Record]]]:
        index: dict[tuple[Any, ...], list[tuple[_Stream, Record]]] = {}
        for stream in self.chosen.streams:
            for record, _ in stream.buffer:
                for key in self.keys(stream, record):
                    index.setdefault(key, []).append((stream, record))
        return index

    @staticmethod
    def _skipped(stream: _Stream, record: Record) -> bool:
        """A twin already given with another partner's record: passed over, once."""
        if not stream.state.skipped:
            return False
        mark = skip_hash(record.owner.partner_id)
        if mark in stream.state.skipped:
            stream.state.skipped.remove(mark)
            return True
        return False

    @staticmethod
    def _give_ahead(stream: _Stream, twin: Record) -> None:
        """``twin`` goes out now, merged: its stream passes over it when it gets there (and a
        cursor made before then remembers it)."""
        stream.given_ahead.add(id(twin))
        stream.drop_given_heads()


def _holds(stream: _Stream, record: Record) -> bool:
    return any(held is record for held, _ in stream.buffer)
