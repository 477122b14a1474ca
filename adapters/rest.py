"""REST/JSON partners (kind ``rest``): filtered, paginated lists and batched look-ups.

One :class:`RestAdapter` per partner, built from its :class:`~adapters.rest_config.RestPartner`
block. The HTTP plumbing (streamed size limit, retries, error translation, auth) is
:class:`~adapters.http.PartnerHttp`; this module knows only the REST conventions:

- ``list`` pushes down the filters the entity declares and walks the partner's pages; once the
  first page tells the total, the remaining pages are fetched concurrently (bounded);
- ``lookup`` uses the partner's batch endpoint where it has one, else one call per value, the
  value escaped as exactly one path segment;
- a record that does not fit the common syntax is dropped; an answer of which no record fits
  is ``SOURCE_BAD_RESPONSE``;
- with ``etag = true`` a GET is revalidated with ``If-None-Match`` and a 304 reuses the body.

Usage::

    adapter = RestAdapter("francetravail", config, transport=None)
    page = await adapter.list(ListQuery("offer", {"romeCodes": ["M1805"]}, limit=50))
    found = await adapter.lookup("organisation", "siret", ["73282932000074"])
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from cachetools import LRUCache

from adapters import acting, request_memo
from adapters.base import DeclaredEndpoints
from adapters.config import PartnerBase
from adapters.counting import CountQuery, CountRow
from adapters.errors import SourceBadResponse, SourceRejected
from adapters.filtering import matcher
from adapters.http import PartnerHttp, make_client
from adapters.mapping import (
    Mapper,
    PathStep,
    compile_path,
    log_dropped,
    now_instant,
    read_path,
    refuse_if_none_fit,
)
from adapters.registry import Kind
from adapters.rest_config import (
    BatchLookup,
    FilterPushdown,
    Lookup,
    NoPagination,
    RestEntity,
    RestPartner,
)
from adapters.rest_counting import RestCounting
from adapters.rest_paging import ListWalk
from adapters.rest_writes import RestWriter
from adapters.syntax import DATA_CLASSES, lookup_key_path
from adapters.types import (
    DataClass,
    GeoFilter,
    ListQuery,
    LookupResult,
    Page,
    Record,
    SortOrder,
    field_at,
)
from adapters.writes import CLIENT_REFERENCE, Written

logger = logging.getLogger(__name__)

Params = builtins.list[tuple[str, str]]
T = TypeVar("T")

_ETAG_CACHE_BYTES = 16 * 1024 * 1024  # revalidated bodies kept per partner, bounded by size
_LOOKUP_STATUSES = frozenset({200, 204, 404})  # 404 on one look-up: not found, not a failure
_BATCH_STATUSES = frozenset({200, 204})
_ALIVE_STATUSES = frozenset(range(200, 500)) - {401, 403}
_DOT_SEGMENTS = frozenset({"", ".", ".."})  # would change the path once normalised


@dataclass(slots=True)
class _Json:
    """A parsed answer: its status, headers and JSON body (``None`` for 204/404)."""

    status: int
    headers: httpx.Headers
    body: Any


@dataclass(slots=True)
class _Revalidable:
    etag: str
    answer: _Json
    size: int


class RestAdapter(DeclaredEndpoints[RestEntity]):
    """The adapter of one REST/JSON partner; see the module docstring."""

    def __init__(
        self,
        partner: str,
        config: RestPartner,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        mappers = {name: Mapper(partner, name, entity) for name, entity in config.entities.items()}
        self.partner = partner
        self.config: PartnerBase = config
        self.rest: RestPartner = config
        self.specs = config.entities
        self.http = PartnerHttp(partner, config, make_client(config, transport))
        self._mappers = mappers
        self.counting = RestCounting(partner, config)
        self._fan_out = max(1, config.max_concurrency // 2)
        self._revalidable: LRUCache[tuple[Any, ...], _Revalidable] = LRUCache(
            maxsize=_ETAG_CACHE_BYTES, getsizeof=lambda entry: entry.size
        )

    # -- what this partner offers ---------------------------------------------------------------

    def pushed_filters(self, entity: str) -> frozenset[str]:
        """Filters the entity's block declares (``single`` ones are pushed for one value only)."""
        spec = self.rest.entities.get(entity)
        return frozenset(spec.filters) if spec is not None else frozenset()

    # -- list -----------------------------------------------------------------------------------

    def resumable(self, entity: str) -> bool:
        spec = self.rest.entities.get(entity)
        return (
            spec is not None
            and spec.list is not None
            and not isinstance(spec.pagination, NoPagination)
        )

    async def list(self, query: ListQuery) -> Page:
        spec = self._entity(query.entity)
        with acting.on_behalf(self.partner, self.rest.principal, query.entity):
            return await self._list(spec, query)

    async def _list(self, spec: RestEntity, query: ListQuery) -> Page:
        want = min(query.limit, self.rest.max_items)
        if spec.list is None or want <= 0:
            return Page(records=[])
        pushed, pushed_all = _pushed_params(spec.filters, query.filters)
        params = [*spec.list.params.items(), *pushed, *_order_params(spec, query.order)]
        walk = ListWalk(
            self,
            query.entity,
            spec,
            params,
            want,
            matcher(query.entity, query.filters),
            query.resume,
            query.fields,
            sparse=not pushed_all,
        )
        page = await walk.run()
        page.total_exact = pushed_all and page.total is not None
        return page

    # -- look-up --------------------------------------------------------------------------------

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        spec = self._entity(entity)
        if key not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} cannot look {entity} up by {key}")
        with acting.on_behalf(self.partner, self.rest.principal, entity):
            return await self._lookup(entity, spec, key, values)

    async def _lookup(
        self, entity: str, spec: RestEntity, key: str, values: Sequence[str]
    ) -> LookupResult:
        wanted = builtins.list(dict.fromkeys(str(v) for v in values if str(v)))
        if not wanted:
            return {}
        how = spec.lookups.get(key)
        if how is None:
            return await self._scan_for_ids(entity, spec, wanted)
        if how.batch is not None:
            answers = await self._batched(how.batch, wanted)
        else:
            answers = await self._one_by_one(spec, how, wanted)
        records = self._map_answers(entity, answers)
        return _keyed(records, key, wanted)

    async def _one_by_one(
        self, spec: RestEntity, how: Lookup, values: builtins.list[str]
    ) -> builtins.list[builtins.list[Any]]:
        items_steps = _steps(how.items)

        async def one(value: str) -> builtins.list[Any]:
            if how.param is not None:
                path, params = how.path, [(how.param, value)]
            elif value in _DOT_SEGMENTS:
                return []  # no record is reachable under a dot segment: refused, never sent
            else:
                path, params = how.path.replace("{value}", quote(value, safe="")), []
            try:
                answer = await self._get_json(path, params, _LOOKUP_STATUSES, spec.etag)
            except SourceRejected:
                return []  # this key refused (400, 422...): missing, the other keys still asked
            if answer.status != 200:
                return []
            return _items(self.partner, answer.body, items_steps, single_ok=True)

        return await _gather_bounded([_bind(one, v) for v in values], self._fan_out)

    async def _batched(
        self, batch: BatchLookup, values: builtins.list[str]
    ) -> builtins.list[builtins.list[Any]]:
        if batch.method == "GET":
            # A value holding the separator would reach the partner as two values.
            values = [v for v in values if batch.join not in v]
        chunks = [values[i : i + batch.max_size] for i in range(0, len(values), batch.max_size)]
        items_steps = _steps(batch.items)

        async def one(chunk: builtins.list[str]) -> builtins.list[Any]:
            if batch.method == "POST":
                body: Any = {batch.body_field: chunk} if batch.body_field else chunk
                raw = await self.http.request(
                    "POST", batch.path, json=body, ok_statuses=_BATCH_STATUSES
                )  # a search, not a mutation: retrying it is safe
            else:
                assert batch.param is not None  # checked when the adapter was built
                params = [(batch.param, batch.join.join(chunk))]
                raw = await self.http.request(
                    "GET", batch.path, params=params, ok_statuses=_BATCH_STATUSES
                )
            if raw.status == 204:
                return []
            return _items(self.partner, raw.json(self.partner), items_steps, single_ok=False)

        return await _gather_bounded([_bind(one, c) for c in chunks], self._fan_out)

    async def _scan_for_ids(
        self, entity: str, spec: RestEntity, wanted: builtins.list[str]
    ) -> LookupResult:
        """The partner has no id look-up: walk its list (bounded by ``max_items``)."""
        assert spec.list is not None  # lookup_keys offers `id` only then
        missing = set(wanted)

        def found_all(records: builtins.list[Record]) -> bool:
            missing.difference_update(r.owner.partner_id for r in records)
            return not missing

        params = builtins.list(spec.list.params.items())
        found: builtins.list[Record] = []
        position: Any = None
        read = 0
        step = getattr(spec.pagination, "page_size", self.rest.max_items)  # one partner page
        while missing and read < self.rest.max_items:
            walk = ListWalk(self, entity, spec, params, step, _any, position)
            page = await walk.run()
            found.extend(r for r in page.records if r.owner.partner_id in missing)
            found_all(page.records)
            read += walk.result.read
            if page.exhausted or page.positions is None or not walk.result.read:
                break
            position = page.end
        return _keyed(found, "id", wanted)

    # -- counts (adapters.counting, adapters.rest_counting) ---------------------------------------

    def counts(self, query: CountQuery) -> bool:
        return self.counting.counts(query)

    async def count(self, query: CountQuery) -> builtins.list[CountRow]:
        """The owner's statistics endpoint, on behalf of the acting principal (personal
        entities: the assertion says who asks, an OBSERVATORY principal seeing counts only)."""
        if not self.counts(query):
            raise ValueError(f"{self.partner} declares no statistics answering this count")
        with acting.on_behalf(self.partner, self.rest.principal, query.entity):
            return await self.counting.count(query, self.http)

    # -- writes (adapters.writes, adapters.rest_writes) -----------------------------------------

    @functools.cached_property
    def writer(self) -> RestWriter:
        return RestWriter(self.partner, self.rest, self.http)

    def writes(self, entity: str) -> frozenset[str]:
        return self.writer.writes(entity)

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        with acting.on_behalf(self.partner, self.rest.principal, entity):
            return await self.writer.write(entity, action, values, client_reference)

    async def find_by_reference(self, entity: str, client_reference: str) -> str | None:
        """The id of the record the hub created under ``client_reference``, looked up by the
        entity's ``lookups.clientReference`` (a 404 there: nothing was created)."""
        if CLIENT_REFERENCE not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} declares no {entity} lookups.clientReference")
        found = await self.lookup(entity, CLIENT_REFERENCE, [client_reference])
        records = found.get(client_reference, [])
        return records[0].owner.partner_id if records else None

    async def probe(self) -> None:
        if self.rest.health_path is not None:
            await self.http.request(
                "GET", self.rest.health_path, ok_statuses=frozenset(range(200, 300))
            )
            return
        for name, spec in self.rest.entities.items():
            # A personal list is read on behalf of someone only: a probe acts for no one.
            if spec.list is not None and DATA_CLASSES.get(name) is not DataClass.PERSONAL:
                await self.list(ListQuery(name, {}, 1))
                return
        # Look-ups only, no health path: any answer but an error or a refused credential will do.
        await self.http.request("GET", "/", ok_statuses=_ALIVE_STATUSES)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- shared plumbing ------------------------------------------------------------------------

    async def _get_json(
        self, path: str, params: Params, ok: frozenset[int], revalidate: bool
    ) -> _Json:
        """GET and parse, once per request for the same path and parameters; with
        ``revalidate``, reuse the last body on a 304."""
        key = (path, tuple(params))
        # Two calls of one request on behalf of other claims get answers of their own.
        return await request_memo.once(
            ("GET", self.partner, key, ok, acting.carrying(self.partner)),
            functools.partial(self._fetch_json, path, params, ok, revalidate),
        )

    async def _fetch_json(
        self, path: str, params: Params, ok: frozenset[int], revalidate: bool
    ) -> _Json:
        key = (path, tuple(params))
        known = self._revalidable.get(key) if revalidate else None
        headers = {"If-None-Match": known.etag} if known is not None else None
        raw = await self.http.request(
            "GET",
            path,
            params=params,
            headers=headers,
            ok_statuses=ok | {304} if known is not None else ok,
        )
        if raw.status == 304 and known is not None:
            return known.answer
        if raw.status in (204, 404):
            return _Json(raw.status, raw.headers, None)
        answer = _Json(raw.status, raw.headers, raw.json(self.partner))
        etag = raw.headers.get("etag")
        if revalidate and etag and raw.status == 200:
            with contextlib.suppress(ValueError):  # larger than the whole cache: not kept
                self._revalidable[key] = _Revalidable(etag, answer, len(raw.body))
        return answer

    async def _post_json(self, path: str, params: Params, ok: frozenset[int]) -> _Json:
        return await request_memo.once(
            ("POST", self.partner, path, tuple(params), ok, acting.carrying(self.partner)),
            functools.partial(self._post_for_json, path, params, ok),
        )

    async def _post_for_json(self, path: str, params: Params, ok: frozenset[int]) -> _Json:
        raw = await self.http.request(
            "POST", path, params=params, ok_statuses=ok
        )  # a search endpoint: as safe to retry as a GET
        body = None if raw.status == 204 else raw.json(self.partner)
        return _Json(raw.status, raw.headers, body)

    def _items_of(self, body: Any, steps: tuple[PathStep, ...] | None) -> builtins.list[Any]:
        return _items(self.partner, body, steps, single_ok=False)

    @staticmethod
    def _steps(path: str | None) -> tuple[PathStep, ...] | None:
        return _steps(path)

    async def _gather(self, calls: Sequence[Callable[[], Awaitable[T]]]) -> builtins.list[T]:
        """Runs ``calls`` with at most ``_fan_out`` in flight, results in order."""
        return await _gather_bounded(calls, self._fan_out)

    def _map_answers(self, entity: str, answers: Sequence[Sequence[Any]]) -> builtins.list[Record]:
        fetched_at = now_instant()
        records: builtins.list[Record] = []
        rejected = 0
        for items in answers:
            kept, dropped = self._mappers[entity].map_many(items, fetched_at)
            records.extend(kept)
            rejected += dropped
        refuse_if_none_fit(self.partner, entity, rejected, len(records))
        log_dropped(self.partner, entity, rejected)
        return records


# -- filter push-down ---------------------------------------------------------------------------


def _pushed_params(
    declared: Mapping[str, FilterPushdown], filters: Mapping[str, Any]
) -> tuple[Params, bool]:
    """Query parameters for the filters the partner applies itself (the others are left out),
    and whether every given filter was pushed (the partner's total is then exact)."""
    params: Params = []
    given = {name for name, value in filters.items() if value not in (None, [], (), "")}
    pushed: set[str] = set()
    for name, how in declared.items():
        value = filters.get(name)
        if value is None:
            continue
        if isinstance(value, GeoFilter):
            near = _near_params(how, value)
            params.extend(near)
            if near and how.radius_param is not None:
                pushed.add(name)
            continue
        if name == "near":
            continue  # only a GeoFilter says where: anything else is not pushed
        values = (
            builtins.list(value)
            if isinstance(value, builtins.list | tuple | set | frozenset)
            else [value]
        )
        if not values or (how.single and len(values) != 1):
            continue
        try:
            texts = [_param_text(v, how) for v in values]
        except ValueError:
            continue  # not a value the partner can be sent: the gateway filters it instead
        param = how.param or name
        if how.join is None:
            params.extend((param, text) for text in texts)
        else:
            params.append((param, how.join.join(texts)))
        pushed.add(name)
    return params, given <= pushed


def _order_params(spec: RestEntity, order: SortOrder | None) -> Params:
    """The partner's parameter for ``order``; nothing for its natural order."""
    if order is None or spec.sort is None or order.token == spec.sort.natural:
        return []
    value = spec.sort.values.get(order.token)
    if value is None or spec.sort.param is None:
        raise ValueError(f"cannot list in order {order.token}")  # the planner asks orders() first
    return [(spec.sort.param, value)]


def _any(record: Record) -> bool:
    return True


def _near_params(how: FilterPushdown, near: GeoFilter) -> Params:
    if how.latitude_param is None or how.longitude_param is None:
        return []
    params = [
        (how.latitude_param, _number(near.latitude)),
        (how.longitude_param, _number(near.longitude)),
    ]
    if how.radius_param is not None:
        params.append((how.radius_param, _number(near.radius_km)))
    return params


def _param_text(value: Any, how: FilterPushdown) -> str:
    if how.values is not None and str(value) in how.values:
        return how.values[str(value)]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime) or (how.format is not None and isinstance(value, str)):
        instant = (
            value
            if isinstance(value, datetime)
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        instant = instant.astimezone(UTC)
        return instant.strftime(how.format or "%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- answers ------------------------------------------------------------------------------------


def _steps(path: str | None) -> tuple[PathStep, ...] | None:
    return compile_path(path) if path else None


def _items(
    partner: str, body: Any, steps: tuple[PathStep, ...] | None, *, single_ok: bool
) -> builtins.list[Any]:
    """The raw records of an answer: the array at ``steps`` (or the body itself)."""
    if steps is None:
        found = body
    elif isinstance(body, dict):
        found = read_path(body, steps)
        if found is None:
            return []  # an explicit null: the partner's way of saying "none"
    else:
        found = None
    if isinstance(found, builtins.list):
        return found
    if single_ok and isinstance(found, dict):
        return [found]
    raise SourceBadResponse(partner, "the answer is not in the expected shape")


def _keyed(records: Sequence[Record], key: str, wanted: Sequence[str]) -> LookupResult:
    """Records by the value of ``key`` they carry, for the values asked only."""
    asked = set(wanted)
    path = lookup_key_path(key)
    found: LookupResult = {}
    for record in records:
        value = record.owner.partner_id if key == "id" else field_at(record.fields, path)
        if value is None or isinstance(value, dict | list):
            continue
        text = str(value)
        if text in asked:
            found.setdefault(text, []).append(record)
    return found


# -- concurrency --------------------------------------------------------------------------------


def _bind(function: Callable[..., Awaitable[T]], *args: Any) -> Callable[[], Awaitable[T]]:
    return lambda: function(*args)


async def _gather_bounded(
    calls: Sequence[Callable[[], Awaitable[T]]], limit: int
) -> builtins.list[T]:
    """Run ``calls`` concurrently, ``limit`` at a time; the first failure cancels the others."""
    if len(calls) == 1:
        return [await calls[0]()]
    gate = asyncio.Semaphore(limit)

    async def gated(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(gated(call)) for call in calls]
    except BaseExceptionGroup as failures:
        raise _first_leaf(failures) from None
    return [task.result() for task in tasks]


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


# -- registration -------------------------------------------------------------------------------


def factory(
    partner: str, config: PartnerBase, transport: httpx.AsyncBaseTransport | None
) -> RestAdapter:
    if not isinstance(config, RestPartner):
        raise TypeError(f"{partner}: a rest adapter needs a RestPartner block")
    return RestAdapter(partner, config, transport)


KIND = Kind("rest", RestPartner, factory)

__all__ = ["KIND", "RestAdapter", "factory"]
