"""A remote GraphQL service (kind ``graphql``).

The partner's queries are written in the partners file, with the variables the gateway fills:
the common filters a list pushes down, the pagination variables, and for a look-up the LIST of
key values, so that many keys cost one request. Worked example (the education authority's UAI
register)::

    [partners.academie]
    kind = "graphql"
    base_url = "http://127.0.0.1:8107"
    endpoint = "/graphql"
    auth = { type = "bearer", token = { env = "HUB_ACADEMIE_TOKEN" } }

    [partners.academie.entities.organisation]
    id = "uai"
    fields.name = "appellationOfficielle"

    [partners.academie.entities.organisation.lookups.uai]
    query = '''
    query ByUai($uais: [String!]!) {
      etablissements(uais: $uais, first: 100) { nodes { uai appellationOfficielle } }
    }
    '''
    variable = "uais"
    items = "etablissements.nodes"

A list is read about one page per call, resumed at a position: ``[cursor, skip]`` with cursor
pagination (the cursor the partner page was asked after, and how many of its records were
consumed), the offset with offset pagination; a list without pagination is read whole each
time and does not resume. Filters not mapped to variables are applied to each mapped record,
within ``max_items`` raw records a call. The ``sort`` block names the list query's order
variable and the common orders it takes::

    [partners.academie.entities.organisation.sort]
    param = "tri"                       # a variable of the list query
    values = { name = "NOM" }           # common order token -> the partner's value
    natural = "id"                      # the order of its answer when asked nothing

Paths (``items``, ``total``, cursor paths) are read inside the answer's ``data``. Every query is
parsed when the file is loaded, and each variable the gateway fills must be declared by it: a
broken query is a ``check-config`` error, not a failure at the first request.

A GraphQL answer carrying ``errors`` is a ``SOURCE_BAD_RESPONSE`` whose message only counts
them: a partner's error text may quote the values of the request. Two kinds of errors are the
question's fault rather than the partner's (:class:`~adapters.errors.SourceRejected`: a look-up
answers its values as missing, and the breaker does not count them): a *request error* (HTTP
400, or an answer without ``data``: the variables do not fit the partner's schema, as GraphQL
over HTTP says), and errors that all carry a client code (:data:`CLIENT_ERROR_CODES`, such as
``BAD_USER_INPUT`` or ``NOT_FOUND``). Errors that all refuse the caller (``FORBIDDEN``,
``UNAUTHENTICATED``) are HTTP 401/403 said in band (:mod:`adapters.graphql_errors`). Any other
error (a resolver of the partner failing on a question the hub checked) is the partner's.

An owner of applications or follow-up events declares ``writes.<action>`` blocks: its own
mutations, sent once by :class:`~adapters.graphql_writes.GraphqlWriter` (which says how their
answers are classified); what it created is found again by ``lookups.clientReference``. The
configuration models are in :mod:`adapters.graphql_config`.

An owner that counts for the observatory declares ``aggregates``: its own aggregate query,
sent by :class:`~adapters.graphql_counting.GraphqlCounting` (the adapter is then a
:class:`~adapters.counting.Counter`), its errors classified as the reads' are.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from adapters import acting
from adapters.base import DeclaredEndpoints
from adapters.config import PartnerBase
from adapters.counting import CountQuery, CountRow
from adapters.errors import SourceBadResponse, SourceRejected
from adapters.filtering import matcher
from adapters.graphql_config import (
    ACCEPT,
    GraphqlCursorPagination,
    GraphqlEntity,
    GraphqlList,
    GraphqlNoPagination,
    GraphqlOffsetPagination,
    GraphqlPartner,
    declared_variables,
    error_code,
    is_list_type,
)
from adapters.graphql_counting import GraphqlCounting
from adapters.graphql_errors import credential_refusal
from adapters.graphql_writes import GraphqlWriter
from adapters.http import PartnerHttp, make_client
from adapters.mapping import (
    MISSING,
    Mapper,
    MappingError,
    PathStep,
    compile_path,
    log_dropped,
    now_instant,
    read_path,
    refuse_if_none_fit,
)
from adapters.paging import Scan, active_filters, not_a_position
from adapters.registry import Kind
from adapters.syntax import lookup_key_path
from adapters.types import GeoFilter, ListQuery, LookupResult, Page, Position, Record
from adapters.writes import CLIENT_REFERENCE, Written

logger = logging.getLogger(__name__)

CLIENT_ERROR_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "BAD_REQUEST",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "NOT_FOUND",
        "ARGUMENT_VALIDATION_ERROR",
    }
)
"""``extensions.code`` values (Apollo's and common servers') that blame the question."""


def _blames_the_question(status: int, body: Mapping[str, Any], errors: Any) -> bool:
    if status == 400 or "data" not in body:
        return True  # a request error: nothing was executed
    return isinstance(errors, list) and all(error_code(e) in CLIENT_ERROR_CODES for e in errors)


# --- adapter ----------------------------------------------------------------------------------


def _read(data: Any, path: str | None) -> Any:
    if path is None:
        return None
    value = read_path(data, compile_path(path))
    return None if value is MISSING else value


def _variable_value(value: Any) -> Any:
    if isinstance(value, GeoFilter):
        return {
            "latitude": value.latitude,
            "longitude": value.longitude,
            "radiusKm": value.radius_km,
        }
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return value


class GraphqlAdapter(DeclaredEndpoints[GraphqlEntity]):
    def __init__(
        self,
        partner: str,
        config: GraphqlPartner,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.partner = partner
        self.config: PartnerBase = config
        self.graphql: GraphqlPartner = config
        self.specs = config.entities
        self.http = PartnerHttp(partner, config, make_client(config, transport))
        self.rejected = 0  # partner records that did not fit the common syntax
        self.counting = GraphqlCounting(partner, config)
        self._mappers = {
            entity: Mapper(partner, entity, spec) for entity, spec in config.entities.items()
        }
        self._declared = {
            entity: declared_variables(spec.list.query)
            for entity, spec in config.entities.items()
            if spec.list is not None
        }
        # where the looked-up value is read: in the raw record, or in the mapped fields
        self._keys: dict[tuple[str, str], tuple[bool, tuple[PathStep, ...]]] = {
            (entity, key): (True, compile_path(lookup.key))
            if lookup.key
            else (False, compile_path(lookup_key_path(key)))
            for entity, spec in config.entities.items()
            for key, lookup in spec.lookups.items()
        }

    # -- what this partner offers

    def pushed_filters(self, entity: str) -> frozenset[str]:
        spec = self.graphql.entities.get(entity)
        if spec is None or spec.list is None:
            return frozenset()
        return frozenset(spec.list.filters)

    # -- calls

    async def execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """POST one operation; the answer's ``data``, or a ``SourceError``."""
        answer = await self.http.request(
            "POST",
            self.graphql.endpoint,
            json={"query": query, "variables": dict(variables)},
            headers={"Accept": ACCEPT},
            # GraphQL over HTTP answers a refused operation with 400 and a JSON `errors` list
            ok_statuses=frozenset({200, 400}),
        )
        body = answer.json(self.partner)
        if not isinstance(body, dict):
            raise SourceBadResponse(self.partner, "GraphQL answer is not an object")
        errors = body.get("errors")
        if errors:
            count = len(errors) if isinstance(errors, list) else 1
            refused = credential_refusal(self.partner, errors)
            if refused is not None:
                raise refused
            if _blames_the_question(answer.status, body, errors):
                raise SourceRejected(
                    self.partner, f"GraphQL answer refusing the question ({count})"
                )
            raise SourceBadResponse(self.partner, f"GraphQL answer with {count} error(s)")
        data = body.get("data")
        if answer.status != 200 or not isinstance(data, dict):
            raise SourceBadResponse(self.partner, "GraphQL answer without data")
        return data

    def _items(self, data: Mapping[str, Any], path: str) -> builtins.list[Any]:
        items = _read(data, path)
        if items is None:
            return []
        if not isinstance(items, list):
            raise SourceBadResponse(self.partner, "records are not a list at the configured path")
        return items

    def resumable(self, entity: str) -> bool:
        spec = self.graphql.entities.get(entity)
        if spec is None or spec.list is None:
            return False
        return not isinstance(spec.list.pagination, GraphqlNoPagination)

    def _filter_variables(
        self, entity: str, spec: GraphqlList, query: ListQuery
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """The variables of the filters the query pushes down, and the names of those."""
        declared = self._declared[entity]
        out: dict[str, Any] = {}
        for common, variable in spec.filters.items():
            value = query.filters.get(common)
            if value is None:
                continue
            value = _variable_value(value)
            if isinstance(value, list) and not is_list_type(declared[variable].type):
                if len(value) != 1:
                    continue  # the partner takes one value: the adapter filters the rest
                value = value[0]
            out[variable] = value
        return out, frozenset(name for name in spec.filters if spec.filters[name] in out)

    def _order_variables(self, spec: GraphqlEntity, query: ListQuery) -> dict[str, Any]:
        """The order variable for ``query.order`` (none for the partner's natural order)."""
        order = query.order
        if order is None:
            return {}
        sort = spec.sort
        if sort is None or order.token not in sort.orders():
            raise ValueError(f"{self.partner} cannot list {query.entity} in {order.token}")
        value = sort.values.get(order.token)
        if value is None or sort.param is None:
            return {}  # the natural order: asked nothing
        return {sort.param: value}

    async def list(self, query: ListQuery) -> Page:
        entity = self._entity(query.entity)
        with acting.on_behalf(self.partner, self.graphql.principal, query.entity):
            return await self._list(entity, query)

    async def _list(self, entity: GraphqlEntity, query: ListQuery) -> Page:
        if entity.list is None:
            return Page([], total=0, positions=[], end=query.resume, total_exact=True)
        spec = entity.list
        filtered, pushed = self._filter_variables(query.entity, spec, query)
        variables = {**spec.variables, **filtered, **self._order_variables(entity, query)}
        active = active_filters(query.filters)
        reader = _PageReader(
            self,
            query,
            Scan(
                min(query.limit, self.graphql.max_items), self.graphql.max_items, active <= pushed
            ),
        )
        pagination = spec.pagination
        if isinstance(pagination, GraphqlCursorPagination):
            await reader.by_cursor(spec, pagination, variables)
        elif isinstance(pagination, GraphqlOffsetPagination):
            await reader.by_offset(spec, pagination, variables)
        else:
            await reader.whole(spec, variables)
        reader.judge()
        total, exact = reader.total, active <= pushed
        if query.resume is None and reader.exhausted:
            total, exact = len(reader.records), True  # walked it all: counted here
        resumable = not isinstance(pagination, GraphqlNoPagination)
        return Page(
            reader.records,
            total=total,
            truncated=not reader.exhausted,
            positions=reader.positions if resumable else None,
            end=reader.end if resumable else None,
            exhausted=reader.exhausted,
            total_exact=exact and total is not None,
        )

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        spec = self._entity(entity)
        if key not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} cannot look {entity} up by {key}")
        with acting.on_behalf(self.partner, self.graphql.principal, entity):
            return await self._lookup(entity, spec, key, values)

    async def _lookup(
        self, entity: str, spec: GraphqlEntity, key: str, values: Sequence[str]
    ) -> LookupResult:
        wanted = list(dict.fromkeys(v for v in values if v))
        if not wanted:
            return {}
        lookup = spec.lookups.get(key)
        if lookup is None:  # `id` without an id look-up: walk the list
            page = await self.list(ListQuery(entity, {}, self.graphql.max_items))
            return _keyed(((r, r.owner.partner_id) for r in page.records), set(wanted))
        chunks = [wanted[i : i + lookup.max_size] for i in range(0, len(wanted), lookup.max_size)]
        answers = await asyncio.gather(
            *(
                self.execute(lookup.query, {**lookup.variables, lookup.variable: chunk})
                for chunk in chunks
            )
        )
        mapper = self._mappers[entity]
        in_raw, key_steps = self._keys[(entity, key)]
        fetched_at = now_instant()
        pairs: builtins.list[tuple[Record, Any]] = []
        rejected = 0
        for data in answers:
            for raw in self._items(data, lookup.items):
                try:
                    record = mapper.map(raw, fetched_at)
                except MappingError:
                    rejected += 1
                    continue
                value = read_path(raw if in_raw else record.fields, key_steps)
                pairs.append((record, value))
        self._judge(entity, rejected, len(pairs))
        return _keyed(pairs, set(wanted))

    def _judge(self, entity: str, rejected: int, kept: int) -> None:
        """Drop what does not fit; an answer of which nothing fits is a bad answer."""
        if not rejected:
            return
        self.rejected += rejected
        refuse_if_none_fit(self.partner, entity, rejected, kept)
        log_dropped(self.partner, entity, rejected)

    # -- counts (adapters.counting, adapters.graphql_counting) ---------------------------------

    def counts(self, query: CountQuery) -> bool:
        return self.counting.counts(query)

    async def count(self, query: CountQuery) -> builtins.list[CountRow]:
        """The owner's aggregate query, on behalf of the acting principal (personal entities:
        the assertion says who asks, an OBSERVATORY principal seeing counts only)."""
        if not self.counts(query):
            raise ValueError(f"{self.partner} declares no aggregate query answering this count")
        with acting.on_behalf(self.partner, self.graphql.principal, query.entity):
            return await self.counting.count(query, self.execute)

    # -- writes (adapters.writes, adapters.graphql_writes) -------------------------------------

    @functools.cached_property
    def writer(self) -> GraphqlWriter:
        return GraphqlWriter(self.partner, self.graphql, self.http)

    def writes(self, entity: str) -> frozenset[str]:
        return self.writer.writes(entity)

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        with acting.on_behalf(self.partner, self.graphql.principal, entity):
            return await self.writer.write(entity, action, values, client_reference)

    async def find_by_reference(self, entity: str, client_reference: str) -> str | None:
        """The id of the record the hub created under ``client_reference``, looked up by the
        entity's ``lookups.clientReference`` (none there: nothing was created)."""
        if CLIENT_REFERENCE not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} declares no {entity} lookups.clientReference")
        found = await self.lookup(entity, CLIENT_REFERENCE, [client_reference])
        records = found.get(client_reference, [])
        return records[0].owner.partner_id if records else None

    async def probe(self) -> None:
        await self.execute(self.graphql.health_query, {})

    async def aclose(self) -> None:
        await self.http.aclose()


class _PageReader:
    """One call of :meth:`GraphqlAdapter.list`: partner pages read until the scan is done.

    Positions: with cursor pagination ``[cursor, skip]``, the partner cursor the page was
    asked after (None: the start) and how many of its records were consumed (``[endCursor,
    0]`` once a page is consumed whole); with offset pagination, the offset itself.
    """

    def __init__(self, adapter: GraphqlAdapter, query: ListQuery, scan: Scan) -> None:
        self.adapter = adapter
        self.partner = adapter.partner
        self.query = query
        self.scan = scan
        self.matches = matcher(query.entity, query.filters)
        self.mapper = adapter._mappers[query.entity]
        self.fetched_at = now_instant()
        self.records: builtins.list[Record] = []
        self.positions: builtins.list[Position] = []
        self.end: Position = query.resume
        self.exhausted = False
        self.total: int | None = None
        self.rejected = 0

    async def fetch(self, spec: GraphqlList, variables: Mapping[str, Any]) -> dict[str, Any]:
        data = await self.adapter.execute(spec.query, variables)
        found_total = _read(data, spec.total)
        if isinstance(found_total, int) and not isinstance(found_total, bool):
            self.total = found_total
        return data

    def examine(self, raw: Any, position: Position) -> None:
        self.scan.examined += 1
        self.end = position
        try:
            record = self.mapper.map(raw, self.fetched_at, self.query.fields)
        except MappingError:
            self.rejected += 1
            return
        if self.matches(record):
            self.scan.matched += 1
            self.records.append(record)
            self.positions.append(position)

    async def by_cursor(
        self, spec: GraphqlList, pagination: GraphqlCursorPagination, variables: dict[str, Any]
    ) -> None:
        cursor, skip = self._cursor_position()
        while not self.scan.done:
            # the cursor sets where the page starts, whatever its size: ask what is missing
            # (hasNextPage says whether more follow) past the records consumed already
            first = min(pagination.page_size, skip + self.scan.ask(pagination.page_size, 0))
            variables[pagination.first_variable] = first
            variables[pagination.after_variable] = cursor
            data = await self.fetch(spec, variables)
            items = self.adapter._items(data, spec.items)
            more = _read(data, pagination.has_next_page) is True
            after = _read(data, pagination.end_cursor)
            if more and (after is None or after == cursor):
                raise SourceBadResponse(self.partner, "pagination cursor does not advance")
            for at in range(skip, len(items)):
                if self.scan.done:
                    return  # the rest of this partner page starts the next one
                whole = at == len(items) - 1 and after is not None
                self.examine(items[at], [after, 0] if whole else [cursor, at + 1])
            if not more or not items:
                self.exhausted = not more
                return
            cursor, skip = after, max(0, skip - len(items))

    async def by_offset(
        self, spec: GraphqlList, pagination: GraphqlOffsetPagination, variables: dict[str, Any]
    ) -> None:
        offset = self._offset_position()
        while not self.scan.done:
            size = self.scan.ask(pagination.page_size)  # one more: are there more?
            variables[pagination.offset_variable] = offset
            variables[pagination.limit_variable] = size
            items = self.adapter._items(await self.fetch(spec, variables), spec.items)
            for raw in items:
                if self.scan.done:
                    return
                offset += 1
                self.examine(raw, offset)
            ended = self.total is not None and offset >= self.total
            if len(items) < size or ended:
                self.exhausted = True
                return

    async def whole(self, spec: GraphqlList, variables: dict[str, Any]) -> None:
        """No pagination: the one answer is everything; the scan bounds what is examined."""
        items = self.adapter._items(await self.fetch(spec, variables), spec.items)
        for at, raw in enumerate(items):
            if self.scan.done:
                return
            self.examine(raw, at + 1)
        self.exhausted = True

    def judge(self) -> None:
        self.adapter._judge(self.query.entity, self.rejected, self.scan.examined - self.rejected)

    def _cursor_position(self) -> tuple[Any, int]:
        resume = self.query.resume
        if resume is None:
            return None, 0
        if (
            isinstance(resume, builtins.list)
            and len(resume) == 2
            and (resume[0] is None or isinstance(resume[0], str | int))
            and isinstance(resume[1], int)
            and not isinstance(resume[1], bool)
            and resume[1] >= 0
        ):
            return resume[0], resume[1]
        raise not_a_position(self.partner)

    def _offset_position(self) -> int:
        resume = self.query.resume
        if resume is None:
            return 0
        if isinstance(resume, int) and not isinstance(resume, bool) and resume >= 0:
            return resume
        raise not_a_position(self.partner)


def _keyed(pairs: Iterable[tuple[Record, Any]], asked: set[str]) -> LookupResult:
    """Records by the looked-up value they carry, for the values asked only."""
    found: LookupResult = {}
    for record, value in pairs:
        if value is not None and not isinstance(value, dict | list) and str(value) in asked:
            found.setdefault(str(value), []).append(record)
    return found


def _build(
    partner: str, config: PartnerBase, transport: httpx.AsyncBaseTransport | None
) -> GraphqlAdapter:
    if not isinstance(config, GraphqlPartner):
        raise TypeError(f"{partner}: not a graphql partner block")
    return GraphqlAdapter(partner, config, transport)


KIND = Kind("graphql", GraphqlPartner, _build)

__all__ = ["CLIENT_ERROR_CODES", "KIND", "GraphqlAdapter", "GraphqlPartner"]
