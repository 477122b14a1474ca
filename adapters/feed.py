"""Feed partners: one whole document per entity, held in memory as the partner's snapshot.

The machinery shared by :mod:`adapters.xml_feed` and :mod:`adapters.csv_feed`, which only
bring a parser (the document's stream -> raw records) and their usual media types:

- **snapshot** — the document is parsed and mapped as it arrives, off the event loop (a
  worker thread reading the body's stream, :mod:`adapters.streams`: the body is never held
  whole, nor are its raw records), indexed once, then every ``list`` filters it in memory and
  every ``lookup`` reads a per-key index: a look-up of many keys makes at most one fetch.
  Only PUBLIC / REFERENCE entities may come from a feed (checked by the config), since the
  snapshot is a shared copy;
- **refresh** — a snapshot older than ``refresh_s`` is revalidated with a conditional GET
  (``If-None-Match`` / ``If-Modified-Since``); a 304 keeps it. Concurrent callers share one
  refresh (single flight), which survives the caller that started it being cancelled;
- **last good copy** — when a refresh fails, the previous snapshot keeps being served while it
  is younger than ``max_stale_s`` (its records then say ``from_cache = True`` and keep the
  instant they were last confirmed as ``fetched_at``); the partner is retried no sooner than
  ``retry_after_failure_s`` later, so a partner down does not cost every request its
  timeout. Past ``max_stale_s`` the partner's error propagates;
- **bad documents** — a document that does not parse, or of which no record fits the
  mapping, is ``SOURCE_BAD_RESPONSE`` (and the last good copy is served, as for any failure).

Filters: the feed cannot take filters, so it applies to its snapshot, before ``limit``, the
very predicates the gateway re-applies (:mod:`adapters.predicates`); ``pushed_filters``
declares them, and the gateway still re-applies every filter. Records are normalised once,
when the snapshot is built (what :func:`adapters.filtering.matcher` does before each test).

Pages: a list is read from a :class:`SortedIndex` of the snapshot, built once per order asked
(any scalar field, either way; the natural order is the partner's ids) and kept on the
snapshot. A position is a keyset, ``[value, id]``, found again by bisection in whatever
snapshot serves the next call, so a refresh between two pages repeats and loses nothing that
both documents hold past it. A call examines at most ``max_items`` records; ``total`` is the
exact count of matching records, made once per snapshot and filter set.

Provenance: ``fetched_at`` is the instant the partner last confirmed the document (a 200 or a
304). Records handed out are copies: callers may merge into them freely.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx

from adapters.config import EntityMapping, FieldMappingType, PartnerBase
from adapters.errors import SourceBadResponse, SourceError
from adapters.feed_config import FeedEntity, FeedPartnerBase
from adapters.filtering import normalise
from adapters.http import PartnerHttp, make_client
from adapters.mapping import Mapper, as_spec, now_instant
from adapters.memory import give_back
from adapters.paging import Scan, active_filters, not_a_position
from adapters.predicates import FILTER_PREDICATES, Predicate, predicates
from adapters.registry import Kind
from adapters.streams import LoopReader, buffered
from adapters.syntax import ENTITIES, FieldType, lookup_key_path
from adapters.types import (
    ListQuery,
    LookupResult,
    Page,
    Position,
    Provenance,
    Record,
    SortOrder,
    field_at,
    freeze,
)

logger = logging.getLogger(__name__)

RawRecords = builtins.list[dict[str, Any]]
Parser = Callable[[BinaryIO], Iterator[dict[str, Any]]]
"""A document's binary stream -> its raw records, one by one as they are read; raises
:class:`SourceBadResponse` on a malformed document (and lets the stream's own errors through)."""

Clock = Callable[[], float]

_FEED_STATUSES = frozenset({200, 304})


# -- mapping defaults -----------------------------------------------------------------------


def with_defaults(entity: str, spec: FeedEntity) -> EntityMapping:
    """The entity's mapping with its feed-wide ``date_format`` / ``decimal_comma`` applied to
    every date / number field that does not set its own."""
    if spec.date_format is None and not spec.decimal_comma:
        return spec
    known = ENTITIES.get(entity, {})

    def complete(name: str, mapping: FieldMappingType) -> FieldMappingType:
        field = as_spec(mapping)
        kind = known.get(name)
        if kind is None:
            return mapping  # the Mapper names unknown fields
        update: dict[str, Any] = {}
        explicit = field.model_fields_set
        if kind.scalar in ("date", "datetime") and spec.date_format and "format" not in explicit:
            update["format"] = spec.date_format
        if (
            kind.scalar in ("int", "float")
            and spec.decimal_comma
            and ("decimal_comma" not in explicit)
        ):
            update["decimal_comma"] = True
        if field.each:
            update["each"] = {sub: complete(f"{name}.{sub}", s) for sub, s in field.each.items()}
        return field.model_copy(update=update) if update else mapping

    return EntityMapping(id=spec.id, fields={n: complete(n, m) for n, m in spec.fields.items()})


# -- snapshot -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SortedIndex:
    """A snapshot's records in one list order, and the keyset of each: ``(value, id)``.

    Present values first (ascending, or descending), empty ones last in either direction, ties
    by the partner's id; the natural order (``field`` None) is the partner's ids alone. A
    position is a keyset, not an index, so it resumes in any later snapshot too: right after
    where that keyset falls in it (found by bisection).
    """

    field: str | None
    descending: bool
    records: tuple[Record, ...]
    values: tuple[Any, ...]
    ids: tuple[str, ...]

    @classmethod
    def build(cls, records: Sequence[Record], order: SortOrder | None) -> SortedIndex:
        by_id = sorted(records, key=lambda r: r.owner.partner_id)
        if order is None:
            ids = tuple(r.owner.partner_id for r in by_id)
            return cls(None, False, tuple(by_id), (None,) * len(by_id), ids)
        valued = [(field_at(r.fields, order.field), r) for r in by_id]
        present = [pair for pair in valued if pair[0] is not None]
        # sort() is stable, with reverse=True too: ties keep the ids' ascending order
        present.sort(key=lambda pair: pair[0], reverse=order.descending)
        ordered = present + [pair for pair in valued if pair[0] is None]
        return cls(
            order.field,
            order.descending,
            tuple(r for _, r in ordered),
            tuple(v for v, _ in ordered),
            tuple(r.owner.partner_id for _, r in ordered),
        )

    def position(self, i: int) -> Position:
        return [self.ids[i]] if self.field is None else [self.values[i], self.ids[i]]

    def first_after(self, partner: str, position: Position) -> int:
        """The index of the first record strictly past ``position`` in this order."""
        value, ident = self._decode(partner, position)
        lo, hi = 0, len(self.ids)
        try:
            while lo < hi:
                mid = (lo + hi) // 2
                if self._past(mid, value, ident):
                    hi = mid
                else:
                    lo = mid + 1
        except TypeError:  # a value of another type than this field's
            raise not_a_position(partner) from None
        return lo

    def _past(self, i: int, value: Any, ident: str) -> bool:
        mine = self.values[i]
        if self.field is None or mine == value:
            return self.ids[i] > ident
        if value is None:  # only empty values follow an empty one
            return False
        if mine is None:
            return True
        return bool(mine < value if self.descending else mine > value)

    def _decode(self, partner: str, position: Position) -> tuple[Any, str]:
        size = 1 if self.field is None else 2
        if not isinstance(position, builtins.list) or len(position) != size:
            raise not_a_position(partner)
        value, ident = (None, position[0]) if size == 1 else (position[0], position[1])
        scalar = value is None or isinstance(value, str | int | float | bool)
        if not isinstance(ident, str) or not scalar:
            raise not_a_position(partner)
        return value, ident


COUNT_MEMO = 64
"""Filter sets whose matching count one snapshot remembers (the total of a walk's pages)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One good copy of a feed: mapped records, their per-key indexes, the validators.

    ``orders`` and ``counts`` are filled as lists ask for them: each order is sorted once per
    snapshot, each filter set counted once, whatever the number of pages read from it.
    """

    records: tuple[Record, ...]
    indexes: Mapping[str, Mapping[str, tuple[int, ...]]]
    etag: str | None
    last_modified: str | None
    rejected: int  # raw records that did not fit the mapping
    orders: dict[str, SortedIndex] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    counts: dict[Any, int] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def sorted_by(self, order: SortOrder | None) -> SortedIndex:
        token = "" if order is None else order.token
        index = self.orders.get(token)
        if index is None:
            index = self.orders[token] = SortedIndex.build(self.records, order)
        return index

    def count(self, key: Any, checks: Sequence[Predicate]) -> int:
        """How many records pass every check (``key``: the frozen filters), memoised."""
        found = self.counts.get(key)
        if found is None:
            found = sum(1 for r in self.records if all(check(r.fields) for check in checks))
            if len(self.counts) >= COUNT_MEMO:
                del self.counts[next(iter(self.counts))]
            self.counts[key] = found
        return found


def _index(records: Sequence[Record], keys: Sequence[str]) -> dict[str, dict[str, tuple[int, ...]]]:
    indexes: dict[str, dict[str, tuple[int, ...]]] = {}
    for key in keys:
        field = lookup_key_path(key)
        positions: dict[str, builtins.list[int]] = {}
        for position, record in enumerate(records):
            value = field_at(record.fields, field)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                positions.setdefault(str(value), []).append(position)
        indexes[key] = {value: tuple(found) for value, found in positions.items()}
    return indexes


def _clone(value: Any) -> Any:
    """A deep copy of JSON-native data (much cheaper than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class View:
    """A snapshot as served to one call: when it was confirmed, and whether it is stale."""

    snapshot: Snapshot
    fetched_at: str
    stale: bool

    def copy(self, record: Record) -> Record:
        owner = record.provenance[0]
        return Record(
            record.entity,
            _clone(record.fields),
            [Provenance(owner.partner, owner.partner_id, self.fetched_at, self.stale)],
        )


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """What ``partners`` / ``/readyz`` may show about one feed (no partner data)."""

    entity: str
    has_copy: bool
    records: int
    rejected: int
    age_s: float | None  # since the partner last confirmed the copy
    stale: bool  # the last refresh failed and the copy is served past refresh_s
    last_error: str | None  # its code
    fetches: int  # documents downloaded (200)
    not_modified: int  # revalidations answered 304


# -- one feed -------------------------------------------------------------------------------


class Feed:
    """One entity's document: conditional refresh, single flight, last good copy."""

    def __init__(
        self,
        http: PartnerHttp,
        entity: str,
        spec: FeedEntity,
        partner_config: FeedPartnerBase,
        parser: Parser,
        *,
        accept: str,
        content_types: Sequence[str],
        clock: Clock,
    ) -> None:
        self.http = http
        self.partner = http.partner
        self.entity = entity
        self.spec = spec
        self.keys = tuple(spec.lookup_keys(entity))
        self.mapper = Mapper(http.partner, entity, with_defaults(entity, spec))
        self._parser = parser
        self._accept = accept
        self._content_types = tuple(t.lower() for t in (spec.content_types or content_types))
        self._clock = clock
        self._refresh_s = spec.refresh_s if spec.refresh_s is not None else partner_config.refresh_s
        self._max_stale_s = (
            spec.max_stale_s if spec.max_stale_s is not None else partner_config.max_stale_s
        )
        self._retry_s = partner_config.retry_after_failure_s
        self._snapshot: Snapshot | None = None
        self._confirmed_at = 0.0  # clock() of the last 200/304
        self._confirmed_instant = ""
        self._failed_at: float | None = None
        self._last_error: SourceError | None = None
        self._inflight: asyncio.Future[None] | None = None
        self.fetches = 0
        self.not_modified = 0

    # -- serving ------------------------------------------------------------------------

    async def current(self) -> View:
        """The snapshot to serve now, refreshing it first when it is due."""
        now = self._clock()
        if self._snapshot is not None:
            age = now - self._confirmed_at
            if age < self._refresh_s:
                return self._view(stale=False)
            failed_recently = self._failed_at is not None and now - self._failed_at < self._retry_s
            if failed_recently and self._serviceable(now):
                return self._view(stale=True)
        try:
            await self._refresh_once()
        except SourceError:
            if self._serviceable(self._clock()):
                return self._view(stale=True)
            raise
        return self._view(stale=False)

    def _serviceable(self, now: float) -> bool:
        """Whether the last good copy may still stand in for the partner."""
        return self._snapshot is not None and now - self._confirmed_at < self._max_stale_s

    def _view(self, stale: bool) -> View:
        assert self._snapshot is not None
        return View(self._snapshot, self._confirmed_instant, stale)

    @property
    def last_error(self) -> SourceError | None:
        return self._last_error

    def status(self) -> FeedStatus:
        snapshot = self._snapshot
        age = None if snapshot is None else max(0.0, self._clock() - self._confirmed_at)
        return FeedStatus(
            entity=self.entity,
            has_copy=snapshot is not None,
            records=0 if snapshot is None else len(snapshot.records),
            rejected=0 if snapshot is None else snapshot.rejected,
            age_s=age,
            stale=age is not None and age >= self._refresh_s and self._last_error is not None,
            last_error=None if self._last_error is None else self._last_error.code,
            fetches=self.fetches,
            not_modified=self.not_modified,
        )

    # -- refreshing ---------------------------------------------------------------------

    async def _refresh_once(self) -> None:
        task = self._inflight
        if task is None:
            task = asyncio.ensure_future(self._refresh())
            self._inflight = task
            task.add_done_callback(self._settled)
        # shield: a caller hitting its deadline must not cancel the refresh the others await
        await asyncio.shield(task)

    def _settled(self, task: asyncio.Future[None]) -> None:
        if self._inflight is task:
            self._inflight = None
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not reported as lost

    async def _refresh(self) -> None:
        try:
            await self._fetch()
        except SourceError as error:
            self._failed_at, self._last_error = self._clock(), error
            logger.warning(
                "feed refresh failed",
                extra={"partner": self.partner, "entity": self.entity, "code": error.code},
            )
            raise
        self._failed_at, self._last_error = None, None

    def _validators(self) -> dict[str, str]:
        headers = {"Accept": self._accept}
        if self._snapshot is not None:
            if self._snapshot.etag:
                headers["If-None-Match"] = self._snapshot.etag
            if self._snapshot.last_modified:
                headers["If-Modified-Since"] = self._snapshot.last_modified
        return headers

    async def _fetch(self) -> None:
        async with self.http.stream(
            "GET", self.spec.path, headers=self._validators(), ok_statuses=_FEED_STATUSES
        ) as answer:
            if answer.status == 304:
                self._keep(answer.headers.get("etag"))
                return
            self._check_content_type(answer.headers.get("content-type"))
            # Parsed and mapped as it arrives, in a worker thread: the body is never held whole.
            reader = LoopReader(answer.chunks, asyncio.get_running_loop())
            try:
                snapshot = await asyncio.to_thread(
                    self._build,
                    buffered(reader),
                    answer.headers.get("etag"),
                    answer.headers.get("last-modified"),
                )
            finally:
                await asyncio.to_thread(give_back)
        self._snapshot = snapshot
        self.fetches += 1
        self._confirm()
        if snapshot.rejected:
            logger.info(
                "feed records rejected by the mapping",
                extra={"partner": self.partner, "entity": self.entity, "count": snapshot.rejected},
            )

    def _keep(self, etag: str | None) -> None:
        """A 304: the copy still stands (with the partner's new validator, if any)."""
        if self._snapshot is None:
            raise SourceBadResponse(self.partner, "304 Not Modified without a copy to keep")
        if etag and etag != self._snapshot.etag:
            self._snapshot = _replace_validators(self._snapshot, etag)
        self.not_modified += 1
        self._confirm()

    def _confirm(self) -> None:
        self._confirmed_at = self._clock()
        self._confirmed_instant = now_instant()

    def _check_content_type(self, declared: str | None) -> None:
        if declared is None:
            return  # the parser decides
        media = declared.split(";", 1)[0].strip().lower()
        for accepted in self._content_types:
            if media == accepted or (accepted.startswith("+") and media.endswith(accepted)):
                return
        raise SourceBadResponse(self.partner, "unexpected content type for this feed")

    def _build(self, body: BinaryIO, etag: str | None, last_modified: str | None) -> Snapshot:
        """Parse, map and index one document as it is read (runs in a worker thread)."""
        records, rejected = self.mapper.map_many(self._parser(body), now_instant())
        if rejected and not records:
            raise SourceBadResponse(self.partner, "no record of the feed fits its mapping")
        for record in records:
            # what adapters.filtering.matcher does before testing a record, done once here
            normalise(record)
        frozen = tuple(records)
        return Snapshot(frozen, _index(frozen, self.keys), etag, last_modified, rejected)

    async def aclose(self) -> None:
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, SourceError):
                await task


def _replace_validators(snapshot: Snapshot, etag: str) -> Snapshot:
    return Snapshot(
        snapshot.records,
        snapshot.indexes,
        etag,
        snapshot.last_modified,
        snapshot.rejected,
        snapshot.orders,  # the same records: their sorted indexes and counts still hold
        snapshot.counts,
    )


def _sortable(kind: FieldType) -> bool:
    return not kind.is_list and kind.scalar != "object"


# -- the adapter ----------------------------------------------------------------------------


class FeedAdapter:
    """The adapter of one feed partner: one :class:`Feed` per entity.

    Usage::

        adapter = FeedAdapter("carif", config, parsers, accept="application/xml",
                              content_types=["application/xml", "text/xml"])
        page = await adapter.list(ListQuery("training_program", {"departements": ["73"]}, 50))
        found = await adapter.lookup("training_program", "rncp", ["RNCP36629"])
    """

    def __init__(
        self,
        partner: str,
        config: FeedPartnerBase,
        parsers: Mapping[str, Parser],
        *,
        accept: str,
        content_types: Sequence[str],
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.partner = partner
        self.config: PartnerBase = config
        self.feed_config = config
        self.http = PartnerHttp(partner, config, make_client(config, transport))
        self.feeds = {
            entity: Feed(
                self.http,
                entity,
                spec,
                config,
                parsers[entity],
                accept=accept,
                content_types=content_types,
                clock=clock,
            )
            for entity, spec in config.feed_entities().items()
        }

    def _feed(self, entity: str) -> Feed:
        feed = self.feeds.get(entity)
        if feed is None:
            raise ValueError(f"{self.partner} has no feed for {entity}")
        return feed

    # -- what this partner offers -------------------------------------------------------

    def entities(self) -> frozenset[str]:
        return frozenset(self.feeds)

    def listable(self, entity: str) -> bool:
        """False for an entity that only completes others by look-up (``listed = false``)."""
        feed = self.feeds.get(entity)
        return feed is not None and feed.spec.listed

    def lookup_keys(self, entity: str) -> frozenset[str]:
        feed = self.feeds.get(entity)
        return frozenset(feed.keys) if feed is not None else frozenset()

    def orders(self, entity: str) -> frozenset[str]:
        """Any scalar field, either way: the snapshot is sorted in memory, once per order."""
        if entity not in self.feeds:
            return frozenset()
        scalars = [n for n, kind in ENTITIES.get(entity, {}).items() if _sortable(kind)]
        return frozenset(token for name in scalars for token in (name, f"-{name}"))

    def resumable(self, entity: str) -> bool:
        return self.listable(entity)

    def pushed_filters(self, entity: str) -> frozenset[str]:
        return frozenset(FILTER_PREDICATES.get(entity, {})) if entity in self.feeds else frozenset()

    # -- reading ------------------------------------------------------------------------

    async def list(self, query: ListQuery) -> Page:
        feed = self._feed(query.entity)
        if query.order is not None and query.order.token not in self.orders(query.entity):
            raise ValueError(f"{self.partner} cannot list {query.entity} in {query.order.token}")
        if not feed.spec.listed:
            return Page([], total=0, positions=[], end=query.resume, total_exact=True)
        view = await feed.current()
        index = view.snapshot.sorted_by(query.order)
        start = 0 if query.resume is None else index.first_after(self.partner, query.resume)
        # Snapshot records are normalised when built, so the checks run as matcher()'s would.
        active = active_filters(query.filters)
        checks = predicates(query.entity, {k: query.filters[k] for k in active})
        scan = Scan(min(query.limit, self.feed_config.max_items), self.feed_config.max_items, True)
        records: builtins.list[Record] = []
        positions: builtins.list[Position] = []
        end: Position = query.resume
        at = start
        while at < len(index.records) and not scan.done:
            record = index.records[at]
            end = index.position(at)
            scan.examined += 1
            at += 1
            if all(check(record.fields) for check in checks):
                scan.matched += 1
                records.append(view.copy(record))
                positions.append(end)
        exhausted = at >= len(index.records)
        key = freeze({k: query.filters[k] for k in active})
        return Page(
            records,
            total=view.snapshot.count(key, checks),
            truncated=not exhausted,
            positions=positions,
            end=end,
            exhausted=exhausted,
            total_exact=active <= frozenset(FILTER_PREDICATES.get(query.entity, {})),
        )

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        feed = self._feed(entity)
        if key not in feed.keys:
            raise ValueError(f"{self.partner} cannot look {entity} up by {key}")
        wanted = builtins.list(dict.fromkeys(str(v) for v in values if str(v)))
        if not wanted:
            return {}
        view = await feed.current()  # one snapshot answers every value: at most one fetch
        index = view.snapshot.indexes[key]
        records = view.snapshot.records
        return {
            value: [view.copy(records[i]) for i in index[value]]
            for value in wanted
            if value in index
        }

    async def probe(self) -> None:
        """Ready when every feed is fresh; a copy served stale means the partner is failing."""
        for feed in self.feeds.values():
            view = await feed.current()
            if view.stale and feed.last_error is not None:
                raise feed.last_error

    def status(self) -> builtins.list[FeedStatus]:
        return [feed.status() for feed in self.feeds.values()]

    async def aclose(self) -> None:
        for feed in self.feeds.values():
            await feed.aclose()
        await self.http.aclose()


__all__ = [
    "Feed",
    "FeedAdapter",
    "FeedStatus",
    "Parser",
    "RawRecords",
    "Snapshot",
    "View",
    "with_defaults",
]


class FeedKind:
    """One kind of feed (xml_feed, csv_feed): its config model, its parser, its media types.

    The kinds differ only in how a document becomes raw records; building the adapter and
    registering the kind is the same for both.
    """

    def __init__(
        self,
        name: str,
        config_type: type[FeedPartnerBase],
        make_parser: Callable[[str, Any], Parser],
        accept: str,
        content_types: tuple[str, ...],
    ) -> None:
        self.name = name
        self.config_type = config_type
        self.make_parser = make_parser
        self.accept = accept
        self.content_types = content_types

    def create(
        self,
        partner: str,
        config: FeedPartnerBase,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> FeedAdapter:
        """The adapter of one partner of this kind (``clock``: tests drive the refresh)."""
        parsers = {
            entity: self.make_parser(partner, spec)
            for entity, spec in config.feed_entities().items()
        }
        return FeedAdapter(
            partner,
            config,
            parsers,
            accept=self.accept,
            content_types=self.content_types,
            transport=transport,
            clock=clock,
        )

    def factory(
        self, partner: str, config: PartnerBase, transport: httpx.AsyncBaseTransport | None
    ) -> FeedAdapter:
        if not isinstance(config, self.config_type):
            raise TypeError(f"{partner}: a {self.name} adapter needs a {self.config_type.__name__}")
        return self.create(partner, config, transport)

    @property
    def kind(self) -> Kind:
        return Kind(self.name, self.config_type, self.factory)
