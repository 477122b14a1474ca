"""SQL partners (kind ``sql``): a partner's own database read live with SQLAlchemy Core.

One :class:`SqlAdapter` per partner, built from its :class:`~adapters.sql_config.SqlPartner`
block (see that module for the configuration and a worked example). The engine is async
(``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``), created on first use, disposed by
:meth:`SqlAdapter.aclose`.

- Statements are built from SQLAlchemy constructs, never from text: names come from the
  validated block and are quoted by SQLAlchemy, values are always bound parameters.
- Only the columns the mapping reads are selected (plus the id and the keyset columns).
- ``list`` reads about one page: the declared filters go into ``WHERE``, every filter is
  applied to each mapped record (:func:`adapters.filtering.matcher`), and rows are asked for
  in keyset pages (``ORDER BY [column [DESC] NULLS LAST,] key``, ``WHERE (column, key) >
  last``, ``LIMIT`` what is missing plus one, doubling while filters it cannot push thin
  them, capped by ``page_size``) until ``limit`` records match or ``max_items`` rows were
  examined. The position after a record is its keyset as JSON (dates tagged, so they bind
  back as the driver gave them). ``orders`` are the common fields read as they are from one
  column (see :func:`_order_columns`); PostgreSQL orders their text ``COLLATE "C"``, the
  code-point order the gateway compares in.
- ``total``: when a call did not read the list from its start to its end, one ``COUNT(*)``
  with the same bound ``WHERE`` (no row moved; exact when every filter was pushed down). It
  costs the database a scan of the matching rows, which is what ``totalCount`` asks for; a
  call that read everything counts its own records instead.
- ``lookup`` runs one ``WHERE column IN (...)`` per chunk of :data:`LOOKUP_CHUNK` values.
- The raw record handed to the mapper is nested by alias: ``{"f": {"intitule": ...}}``; with
  ``group_by_id`` the rows of one id are folded into one record (``rows_into`` list).
- Failures: no connection (refused, bad DSN, pool exhausted) is ``SOURCE_UNAVAILABLE``; a
  statement the database refuses (missing table or column) is ``SOURCE_BAD_RESPONSE``. Messages
  name the driver's error class only: the database's own text may quote values.

Usage::

    adapter = SqlAdapter("cfa-btp", config)
    query = ListQuery("training_program", {"rncp": ["RNCP36629"]}, 50, order=SortOrder("title"))
    page = await adapter.list(query)
    if not page.exhausted:  # the next page, resumed where this one stopped
        more = await adapter.list(dataclasses.replace(query, resume=page.end))
    found = await adapter.lookup("training_program", "id", ["12", "13"])
    await adapter.aclose()
"""

from __future__ import annotations

import builtins
import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from typing import Any

import httpx
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    Label,
    MetaData,
    Select,
    String,
    Table,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import Row, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeEngine

from adapters.config import PartnerBase
from adapters.counting import CountQuery, CountRow
from adapters.errors import SourceBadResponse, SourceUnavailable
from adapters.filtering import matcher
from adapters.mapping import Mapper, MappingError, log_dropped, now_instant, refuse_if_none_fit
from adapters.paging import Scan, active_filters, not_a_position
from adapters.registry import Kind
from adapters.sql_config import ColumnType, SqlEntity, SqlFilter, SqlPartner, join_conditions
from adapters.sql_counting import SqlCounting
from adapters.sql_values import convert as _convert
from adapters.sql_values import plain
from adapters.sql_writes import SqlWriter
from adapters.syntax import ENTITIES, FILTERS
from adapters.types import (
    GeoFilter,
    ListQuery,
    LookupResult,
    Page,
    Position,
    Record,
    SortOrder,
)
from adapters.writes import CLIENT_REFERENCE, Written

logger = logging.getLogger(__name__)

LOOKUP_CHUNK = 500
"""Most values in one ``IN (...)``: far below every driver's parameter limit."""

_KM_PER_DEGREE = 111.32
_SQL_TYPES: dict[ColumnType, type[TypeEngine[Any]]] = {
    "str": String,
    "int": Integer,
    "float": Float,
    "bool": Boolean,
    "date": Date,
    "datetime": DateTime,
}
_COMMON_TYPES: dict[str, ColumnType] = {kind: kind for kind in _SQL_TYPES}

Raw = dict[str, Any]


class _Plan:
    """The SQL side of one entity: its tables, joins and selected columns, built once."""

    def __init__(self, entity: str, spec: SqlEntity) -> None:
        self.entity = entity
        self.spec = spec
        used = _columns_by_alias(spec)
        self.tables = {spec.main_alias: _table(spec.table, used[spec.main_alias], spec.main_alias)}
        joined: FromClause = self.tables[spec.main_alias]
        for join in spec.joins:
            self.tables[join.alias] = _table(join.table, used[join.alias], join.alias)
            on = and_(*(self.col(a) == self.col(b) for a, b in join_conditions(join.on)))
            joined = joined.join(self.tables[join.alias], on, isouter=join.kind == "left")
        self.from_clause = joined
        self.key = [self.col(ref) for ref in spec.key_columns]
        self.key_refs = spec.key_columns
        self.row_refs = spec.row_columns()
        self.selected: builtins.list[str] = builtins.list(
            dict.fromkeys([spec.id, *spec.key_columns, *spec.field_columns()])
        )

    def col(self, ref: str) -> ColumnElement[Any]:
        alias, name = ref.split(".")
        return self.tables[alias].c[name]

    def typed(self, ref: str, kind: ColumnType) -> ColumnElement[Any]:
        """The column as SQLAlchemy should bind values against it (no CAST in the SQL)."""
        return type_coerce(self.col(ref), _SQL_TYPES[kind])

    def columns(self, refs: Sequence[str]) -> builtins.list[Label[Any]]:
        return [self.col(ref).label(f"c{i}") for i, ref in enumerate(refs)]


def _columns_by_alias(spec: SqlEntity) -> dict[str, builtins.list[str]]:
    refs = [*spec.field_columns(), spec.id, *spec.key_columns, *spec.columns]
    refs.extend(spec.lookups.values())
    for pushdown in spec.filters.values():
        refs.extend(pushdown.column_refs())
    if spec.aggregates is not None:
        refs.extend(spec.aggregates.column_refs())
    for join in spec.joins:
        for left, right in join_conditions(join.on):
            refs.extend((left, right))
    used: dict[str, builtins.list[str]] = {alias: [] for alias in spec.aliases()}
    for ref in refs:
        alias, name = ref.split(".")
        if alias not in used:
            continue  # a table joined for counting only (aggregates.joins): not listed
        if name not in used[alias]:
            used[alias].append(name)
    return used


def _table(qualified: str, names: Sequence[str], alias: str) -> FromClause:
    schema, _, name = qualified.rpartition(".")
    # Untyped columns: results come back as the driver gives them; binds are typed per use.
    table = Table(name, MetaData(), *(Column(n) for n in names), schema=schema or None)
    return table.alias(alias)


class SqlAdapter:
    """The adapter of one SQL partner; see the module docstring."""

    def __init__(self, partner: str, config: SqlPartner) -> None:
        self.partner = partner
        self.config: PartnerBase = config
        self.sql: SqlPartner = config
        self._plans = {name: _Plan(name, spec) for name, spec in config.entities.items()}
        self._mappers = {
            name: Mapper(partner, name, spec) for name, spec in config.entities.items()
        }
        self._orders = {name: _order_columns(name, spec) for name, spec in config.entities.items()}
        self._engine: AsyncEngine | None = None
        self.calls = 0  # statements sent (benchmark and tests count them)
        self.writer = SqlWriter(partner, config, self.engine)
        self.counting = SqlCounting(partner, config)

    # -- what this partner offers ---------------------------------------------------------------

    def entities(self) -> frozenset[str]:
        return frozenset(self.sql.entities)

    def listable(self, entity: str) -> bool:
        return entity in self.sql.entities

    def lookup_keys(self, entity: str) -> frozenset[str]:
        spec = self.sql.entities.get(entity)
        return frozenset() if spec is None else frozenset({"id", *spec.lookups})

    def orders(self, entity: str) -> frozenset[str]:
        fields = self._orders.get(entity, {})
        return frozenset(token for name in fields for token in (name, f"-{name}"))

    def resumable(self, entity: str) -> bool:
        return entity in self.sql.entities  # keyset on (order column, id): always

    def pushed_filters(self, entity: str) -> frozenset[str]:
        spec = self.sql.entities.get(entity)
        return frozenset() if spec is None else frozenset(spec.filters)

    # -- list -----------------------------------------------------------------------------------

    async def list(self, query: ListQuery) -> Page:
        plan = self._plan(query.entity)
        order = self._keyset(plan, query.order)
        after = None if query.resume is None else order.decode(self.partner, query.resume)
        conditions, exact = _where(plan, query.filters)
        active = active_filters(query.filters)
        scan = Scan(min(query.limit, self.sql.max_items), self.sql.max_items, active <= exact)
        matches = matcher(query.entity, query.filters)
        mapper = self._mappers[query.entity]
        records: builtins.list[Record] = []
        positions: builtins.list[Position] = []
        end: Position = query.resume
        exhausted = False
        rejected = 0
        fetched_at = now_instant()
        async with self._connection() as connection:
            while not scan.done:
                size = scan.ask(plan.spec.page_size)
                rows = await self._execute(
                    connection, _page_statement(plan, order, conditions, after, size)
                )
                raws = _raw_records(plan, rows)
                for raw in raws:
                    if scan.done:
                        break  # asked for but not examined: the next page starts with it
                    scan.examined += 1
                    after = order.key_of(raw)
                    end = order.encode(after)
                    try:
                        record = mapper.map(raw, fetched_at, query.fields)
                    except MappingError:
                        rejected += 1
                        continue
                    if matches(record):
                        scan.matched += 1
                        records.append(record)
                        positions.append(end)
                else:
                    exhausted = len(raws) < size
                    if exhausted:
                        break
            total, total_exact = len(records), True
            if not (query.resume is None and exhausted):
                # Not walked from the start to the end here: the database counts what the
                # pushed filters keep (one more statement, no row transferred).
                total = await self._count(connection, plan, conditions)
                total_exact = active <= exact
        refuse_if_none_fit(self.partner, query.entity, rejected, scan.examined - rejected)
        log_dropped(self.partner, query.entity, rejected)
        return Page(
            records,
            total=total,
            truncated=not exhausted,
            positions=positions,
            end=end,
            exhausted=exhausted,
            total_exact=total_exact,
        )

    async def _count(
        self, connection: AsyncConnection, plan: _Plan, conditions: Sequence[ColumnElement[bool]]
    ) -> int:
        rows = await self._execute(connection, _count_statement(plan, conditions))
        return int(rows[0][0])

    def _keyset(self, plan: _Plan, order: SortOrder | None) -> _Keyset:
        if order is None:
            return _Keyset(plan, None, None, False, collate=None)
        ref = self._orders[plan.entity].get(order.field)
        if ref is None:
            raise ValueError(f"{self.partner} cannot list {plan.entity} in order {order.token}")
        textual = ENTITIES[plan.entity][order.field].scalar == "str"
        # PostgreSQL orders text by the database's collation; "C" is code-point order, the
        # order Python (and so the gateway's merge) compares strings in. SQLite's default
        # BINARY collation already is.
        collate = "C" if textual and self.engine().dialect.name == "postgresql" else None
        return _Keyset(plan, order.field, ref, order.descending, collate=collate)

    # -- look-up --------------------------------------------------------------------------------

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        plan = self._plan(entity)
        if key not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} cannot look {entity} up by {key}")
        ref = plan.spec.id if key == "id" else plan.spec.lookups[key]
        kind = plan.spec.columns.get(ref, "str")
        asked: dict[Any, builtins.list[str]] = {}
        for text in dict.fromkeys(str(v) for v in values):
            try:
                asked.setdefault(_convert(text, kind), []).append(text)
            except ValueError:
                continue  # cannot equal any value of this column: never sent
        if not asked:
            return {}
        bound = builtins.list(asked)
        found: LookupResult = {}
        fetched_at = now_instant()
        async with self._connection() as connection:
            for start in range(0, len(bound), LOOKUP_CHUNK):
                chunk = bound[start : start + LOOKUP_CHUNK]
                statement = (
                    select(*plan.columns([*plan.selected, ref]))
                    .select_from(plan.from_clause)
                    .where(plan.typed(ref, kind).in_(chunk))
                    .order_by(*plan.key, *(plan.col(r) for r in plan.row_refs))
                )
                rows = await self._execute(connection, statement)
                raws = _raw_records(plan, rows, extra=ref)
                self._keyed(entity, raws, ref, kind, asked, found, fetched_at)
        return found

    def _keyed(
        self,
        entity: str,
        raws: Sequence[Raw],
        ref: str,
        kind: ColumnType,
        asked: Mapping[Any, Sequence[str]],
        found: LookupResult,
        fetched_at: str,
    ) -> None:
        alias, name = ref.split(".")
        mapper = self._mappers[entity]
        rejected = kept = 0
        for raw in raws:
            column_value = raw[alias][name]
            if column_value is None:
                continue
            try:
                value = _convert(column_value, kind)
            except ValueError:
                continue
            try:
                record = mapper.map(raw, fetched_at)
            except ValueError:
                rejected += 1
                continue
            kept += 1
            for text in asked.get(value, ()):
                found.setdefault(text, []).append(record)
        refuse_if_none_fit(self.partner, entity, rejected, kept)
        log_dropped(self.partner, entity, rejected)

    # -- writes (adapters.writes, adapters.sql_writes) ------------------------------------------

    def writes(self, entity: str) -> frozenset[str]:
        return self.writer.writes(entity)

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        return await self.writer.write(entity, action, values, client_reference)

    async def find_by_reference(self, entity: str, client_reference: str) -> str | None:
        """The id of the record the hub created under ``client_reference``: looked up by the
        entity's ``lookups.clientReference`` column."""
        if CLIENT_REFERENCE not in self.lookup_keys(entity):
            raise ValueError(f"{self.partner} declares no {entity} lookups.clientReference")
        found = await self.lookup(entity, CLIENT_REFERENCE, [client_reference])
        records = found.get(client_reference, [])
        return records[0].owner.partner_id if records else None

    # -- counts (adapters.counting, adapters.sql_counting) ----------------------------------------

    def counts(self, query: CountQuery) -> bool:
        return self.counting.counts(query)

    async def count(self, query: CountQuery) -> builtins.list[CountRow]:
        """One ``GROUP BY`` statement at the database: no row of a record leaves it."""
        if not self.counts(query):
            raise ValueError(f"{self.partner} declares no aggregates answering this count")
        if self.counting.holds_none(query):
            return []  # a filter keeps no value this owner can hold: nothing to ask
        statement = self.counting.statement(query, self.engine().dialect.name)
        async with self._connection() as connection:
            return self.counting.rows(query, await self._execute(connection, statement))

    # -- health and lifecycle -------------------------------------------------------------------

    async def probe(self) -> None:
        async with self._connection() as connection:
            await self._execute(connection, select(literal(1)))

    async def aclose(self) -> None:
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.dispose()

    def engine(self) -> AsyncEngine:
        """The partner's engine, created on first use (tests listen to its events)."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    # -- shared plumbing ------------------------------------------------------------------------

    def _plan(self, entity: str) -> _Plan:
        plan = self._plans.get(entity)
        if plan is None:
            raise ValueError(f"{self.partner} does not provide {entity}")
        return plan

    def _create_engine(self) -> AsyncEngine:
        try:
            url = make_url(self.sql.dsn.resolve())
        except LookupError:
            raise SourceUnavailable(self.partner, f"{self.sql.dsn.env} is not set") from None
        except SQLAlchemyError:
            raise SourceUnavailable(self.partner, "the DSN is not a database URL") from None
        sqlite = url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if self.sql.db_schema is not None and not sqlite:
            options["schema_translate_map"] = {None: self.sql.db_schema}
        pool: dict[str, Any] = {}
        if not (sqlite and url.database in (None, "", ":memory:")):  # memory: one static conn
            pool = {
                "pool_size": self.sql.pool_size,
                "max_overflow": 0,
                "pool_timeout": self.sql.deadline_s,
            }
        # Both drivers take `timeout`: asyncpg's connect timeout, SQLite's busy timeout.
        connect_args: dict[str, Any] = {"timeout": self.sql.deadline_s}
        if url.get_backend_name() == "postgresql":
            # Sessions in UTC: a counted month of an instant is its UTC month, as everywhere
            # else in the hub (the rows themselves come back as aware instants either way).
            connect_args["server_settings"] = {"timezone": "UTC"}
        try:
            return create_async_engine(
                url, execution_options=options, connect_args=connect_args, **pool
            )
        except (SQLAlchemyError, ImportError):
            raise SourceUnavailable(self.partner, "no async driver for this DSN") from None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        try:
            connection = await self.engine().connect()
        except (SQLAlchemyError, OSError) as error:
            raise SourceUnavailable(self.partner, _failure("connection failed", error)) from None
        try:
            yield connection
        finally:
            await connection.close()

    async def _execute(
        self, connection: AsyncConnection, statement: Select[Any]
    ) -> Sequence[Row[Any]]:
        self.calls += 1
        try:
            result = await connection.execute(statement)
            rows: Sequence[Row[Any]] = result.all()
            return rows
        except DBAPIError as error:
            if error.connection_invalidated:
                raise SourceUnavailable(self.partner, _failure("connection lost", error)) from None
            raise SourceBadResponse(self.partner, _failure("query refused", error)) from None
        except OSError as error:
            raise SourceUnavailable(self.partner, _failure("connection lost", error)) from None
        except SQLAlchemyError as error:
            raise SourceBadResponse(self.partner, _failure("query failed", error)) from None


def _failure(what: str, error: BaseException) -> str:
    """``what`` and the driver's error class: its message may quote values, so it stays out."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return f"{what} ({type(cause).__name__})"


# -- statements ---------------------------------------------------------------------------------


class _Keyset:
    """The order of one list in SQL: an optional order column, then the keyset columns.

    Rows come in ``ORDER BY column [DESC] NULLS LAST, key...`` (ties by the keyset, ascending,
    whatever the direction); a position is the keyset of a row, ``[column value, *key]``,
    and ``after`` selects the rows strictly past it in that order.
    """

    def __init__(
        self,
        plan: _Plan,
        field: str | None,
        ref: str | None,
        descending: bool,
        *,
        collate: str | None,
    ) -> None:
        self.plan = plan
        self.field = field
        self.descending = descending
        self.ref = ref
        self.column: ColumnElement[Any] | None = None
        if ref is not None:
            column = plan.col(ref)
            self.column = column.collate(collate) if collate is not None else column
        self.refs = [*([ref] if ref is not None else []), *plan.key_refs]

    def order_by(self, key: Sequence[ColumnElement[Any]]) -> builtins.list[ColumnElement[Any]]:
        if self.column is None:
            return builtins.list(key)
        first = self.column.desc() if self.descending else self.column.asc()
        return [first.nulls_last(), *key]

    def after(self, last: tuple[Any, ...]) -> ColumnElement[bool]:
        past_key = _after(self.plan.key, last[1:] if self.column is not None else last)
        if self.column is None:
            return past_key
        value, column = last[0], self.column
        if value is None:  # only NULLs follow a NULL (they come last in either direction)
            return and_(column.is_(None), past_key)
        bound = literal(value)
        beyond = column < bound if self.descending else column > bound
        return or_(beyond, and_(column == bound, past_key), column.is_(None))

    def key_of(self, raw: Raw) -> tuple[Any, ...]:
        return tuple(raw[alias][name] for alias, name in (ref.split(".") for ref in self.refs))

    def encode(self, key: tuple[Any, ...]) -> Position:
        return [_json_value(value) for value in key]

    def decode(self, partner: str, position: Position) -> tuple[Any, ...]:
        if not isinstance(position, builtins.list) or len(position) != len(self.refs):
            raise not_a_position(partner)
        try:
            return tuple(_from_json_value(value) for value in position)
        except (TypeError, ValueError):
            raise not_a_position(partner) from None


def _json_value(value: Any) -> Any:
    """A keyset value as JSON: date and time values tagged, so they bind back as they came."""
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time):
        return {"t": value.isoformat()}
    return value


def _from_json_value(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        if tag == "dt":
            return datetime.fromisoformat(text)
        if tag == "d":
            return date.fromisoformat(text)
        if tag == "t":
            return time.fromisoformat(text)
        raise ValueError("unknown tag")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError("not a keyset value")


def _order_columns(entity: str, spec: SqlEntity) -> dict[str, str]:
    """Common fields the database can order by: each read from one column as it is.

    A field read through a value map, a format, a default or a split does not sort like its
    column; neither does a list field, nor a column ``columns`` types otherwise than the field
    (an ``int`` id read as the common ``str`` id). With grouping, only the main table's
    columns: a joined column may take several values per record.
    """
    known = ENTITIES.get(entity, {})
    direct: dict[str, str] = {"id": spec.id, **_plain_fields(spec)}
    out: dict[str, str] = {}
    for name, ref in direct.items():
        kind = known.get(name)
        if kind is None or kind.is_list or kind.scalar == "object":
            continue
        declared = spec.columns.get(ref)
        if declared is not None and _COMMON_TYPES.get(kind.scalar, "str") != declared:
            continue
        if spec.group_by_id and ref.split(".")[0] != spec.main_alias:
            continue
        out[name] = ref
    return out


def _plain_fields(spec: SqlEntity) -> dict[str, str]:
    paths: dict[str, str] = {}
    for name, mapping in spec.fields.items():
        if isinstance(mapping, str):
            paths[name] = mapping
        elif mapping.path is not None and mapping.model_fields_set <= {"path"}:
            paths[name] = mapping.path
    return paths


def _page_statement(
    plan: _Plan,
    order: _Keyset,
    conditions: Sequence[ColumnElement[bool]],
    last: tuple[Any, ...] | None,
    size: int,
) -> Select[Any]:
    after = [] if last is None else [order.after(last)]
    if not plan.spec.group_by_id:
        return (
            select(*plan.columns(plan.selected))
            .select_from(plan.from_clause)
            .where(*conditions, *after)
            .order_by(*order.order_by(plan.key))
            .limit(size)
        )
    # One page of ids first, then every row of those ids: a record never spans two pages.
    keys = [column.label(f"k{i}") for i, column in enumerate(plan.key)]
    sort = [] if order.column is None else [order.column.label("o0")]
    page = (
        select(*sort, *keys)
        .distinct()
        .select_from(plan.from_clause)
        .where(*conditions, *after)
        .order_by(*order.order_by(keys))
        .limit(size)
        .subquery("page")
    )
    on = and_(*(column == page.c[f"k{i}"] for i, column in enumerate(plan.key)))
    return (
        select(*plan.columns(plan.selected))
        .select_from(plan.from_clause.join(page, on))
        .order_by(*order.order_by(plan.key), *(plan.col(ref) for ref in plan.row_refs))
    )


def _count_statement(plan: _Plan, conditions: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """How many records the pushed conditions keep (ids, with grouping)."""
    if not plan.spec.group_by_id:
        return select(func.count()).select_from(plan.from_clause).where(*conditions)
    ids = select(*plan.key).distinct().select_from(plan.from_clause).where(*conditions)
    return select(func.count()).select_from(ids.subquery("ids"))


def _after(key: Sequence[ColumnElement[Any]], last: Sequence[Any]) -> ColumnElement[bool]:
    if len(key) == 1:
        return key[0] > literal(last[0])
    return tuple_(*key) > tuple_(*(literal(value) for value in last))


def _where(
    plan: _Plan, filters: Mapping[str, Any]
) -> tuple[builtins.list[ColumnElement[bool]], frozenset[str]]:
    """The conditions of the filters this entity pushes down (the others are left out), and
    the names of the filters those conditions apply exactly (``near``'s box is looser)."""
    conditions = []
    exact: set[str] = set()
    for name, how in plan.spec.filters.items():
        value = filters.get(name)
        if value is None:
            continue
        condition = _condition(plan, name, how, value)
        if condition is not None:
            conditions.append(condition)
            if how.op != "near":
                exact.add(name)
    return conditions, frozenset(exact)


def _condition(plan: _Plan, name: str, how: SqlFilter, value: Any) -> ColumnElement[bool] | None:
    if how.op == "near":
        return _near(plan, how, value)
    assert how.column is not None  # checked by the config model
    kind = _bound_type(plan, name, how)
    values = _as_list(value)
    if not values:
        return None  # an empty list is no filter (as the REST kind reads it)
    if how.values is not None:
        values = [how.values.get(str(v), str(v)) for v in values]
    if how.op in ("gte", "lte"):
        if len(values) != 1:
            return None  # no single bound: the gateway filters alone
        try:
            bound = _convert(values[0], kind)
        except ValueError:
            return None
        column = plan.typed(how.column, kind)
        bounded: ColumnElement[bool] = column >= bound if how.op == "gte" else column <= bound
        return bounded
    if how.op in ("ilike", "prefix"):
        column = plan.typed(how.column, "str")
        texts = [str(v) for v in values if str(v)]
        if not texts:
            return None
        if how.op == "ilike":
            return or_(*(column.icontains(text, autoescape=True) for text in texts))
        return or_(*(column.startswith(text, autoescape=True) for text in texts))
    converted = []
    for v in values:
        try:
            converted.append(_convert(v, kind))
        except ValueError:
            continue  # a value this column cannot hold matches nothing here
    if not converted:
        return false()
    column = plan.typed(how.column, kind)
    return column == converted[0] if len(converted) == 1 else column.in_(converted)


def _near(plan: _Plan, how: SqlFilter, value: Any) -> ColumnElement[bool] | None:
    """The bounding box of the circle: looser than the circle, which the gateway applies."""
    point = _geo(value)
    if point is None or how.latitude is None or how.longitude is None:
        return None
    dlat = point.radius_km / _KM_PER_DEGREE
    cos = math.cos(math.radians(point.latitude))
    dlon = 180.0 if cos < 1e-6 else min(180.0, point.radius_km / (_KM_PER_DEGREE * cos))
    lat = plan.typed(how.latitude, "float")
    lon = plan.typed(how.longitude, "float")
    return and_(
        lat.between(point.latitude - dlat, point.latitude + dlat),
        lon.between(point.longitude - dlon, point.longitude + dlon),
    )


def _geo(value: Any) -> GeoFilter | None:
    if isinstance(value, GeoFilter):
        return value
    if isinstance(value, Mapping):
        try:
            radius = value.get("radius_km", value.get("radiusKm"))
            return GeoFilter(float(value["latitude"]), float(value["longitude"]), float(radius))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _bound_type(plan: _Plan, name: str, how: SqlFilter) -> ColumnType:
    assert how.column is not None
    declared = plan.spec.columns.get(how.column)
    if declared is not None:
        return declared
    if how.values is not None:
        return "str"
    common = FILTERS.get(plan.entity, {}).get(name)
    return _COMMON_TYPES.get(common.scalar, "str") if common is not None else "str"


def _as_list(value: Any) -> builtins.list[Any]:
    if isinstance(value, builtins.list | tuple | set | frozenset):
        return builtins.list(value)
    return [value]


# -- rows into raw records ----------------------------------------------------------------------


def _raw_records(
    plan: _Plan, rows: Sequence[Row[Any]], extra: str | None = None
) -> builtins.list[Raw]:
    """Rows as raw records nested by alias; with grouping, one record per id."""
    refs = [*plan.selected, extra] if extra is not None else plan.selected
    split = [ref.split(".") for ref in refs]
    nested: builtins.list[Raw] = []
    for row in rows:
        raw: Raw = {}
        for (alias, name), value in zip(split, row, strict=True):
            raw.setdefault(alias, {})[name] = plain(value)
        nested.append(raw)
    if not plan.spec.group_by_id:
        return nested
    return _fold(plan, nested)


def _fold(plan: _Plan, rows: Sequence[Raw]) -> builtins.list[Raw]:
    into = plan.spec.rows_into
    assert into is not None  # with group_by_id, checked by the config model
    per_row = [ref.split(".") for ref in plan.row_refs]
    id_alias, id_name = plan.spec.id.split(".")
    folded: dict[Any, Raw] = {}
    for row in rows:
        record = folded.get(row[id_alias][id_name])
        if record is None:
            record = {**row, into: []}
            folded[row[id_alias][id_name]] = record
        if any(row[alias].get(name) is not None for alias, name in per_row):
            record[into].append(row)
    return builtins.list(folded.values())


# -- logs ----------------------------------------------------------------------------


# -- registration -------------------------------------------------------------------------------


def factory(
    partner: str, config: PartnerBase, transport: httpx.AsyncBaseTransport | None
) -> SqlAdapter:
    """The registry's factory; ``transport`` is for HTTP kinds and is ignored here."""
    if not isinstance(config, SqlPartner):
        raise TypeError(f"{partner}: an sql adapter needs an SqlPartner block")
    return SqlAdapter(partner, config)


KIND = Kind("sql", SqlPartner, factory)

__all__ = ["KIND", "LOOKUP_CHUNK", "SqlAdapter", "factory"]
