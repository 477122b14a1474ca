"""Counts pushed down to an SQL partner: one ``GROUP BY`` statement, every value bound.

Built from the entity's ``aggregates`` block (:class:`~adapters.sql_config.SqlAggregates`) with
SQLAlchemy Core, never from text: the names come from the validated block, each filter value,
period bound and derivation argument is a bound parameter. The statement reads the main table
and the block's own ``joins`` (many-to-one, ``LEFT``: one row per record still)::

    SELECT d0, d1, count(*), sum(s), sum(k)
    FROM (SELECT <derived column> AS d0, ..., <sum column> AS s, <record key> AS k
          FROM <main table> LEFT JOIN <related table> ON ...
          WHERE <filters> AND <period>) AS counted
    GROUP BY d0, d1

(the subquery, so that ``GROUP BY`` names the derived columns rather than repeating their
expressions, whose bound parameters PostgreSQL would see as different from the select list's).
Derivations: ``prefix`` is ``substr(CAST(column AS VARCHAR), 1, n)``; ``month`` is
``strftime('%Y-%m', column)`` on SQLite and ``to_char(column, 'YYYY-MM')`` on PostgreSQL,
whose sessions the adapter opens in UTC (the month of an instant is its UTC month, as the
in-memory path reads it from mapped instants). ``days_to`` (``days_to_placement``) is the whole
days from the dimension's column to ``(SELECT min(at) FROM <steps> WHERE <correlated> AND
status IN <owner values of the status reached>)``, the steps being the entity's history join
(``aggregates.history``): ``floor(extract(epoch ...) / 86400)`` on PostgreSQL, julianday
milliseconds integer-divided on SQLite.

A group's value is read through the entity's mapping of the dimension's field (``soumise`` is
``SUBMITTED``), or, for a related record's dimension, through the dimension's own ``values``
(``Niveau 3`` is ``3``) or as it is; a filter's common values become every owner value mapped
to them.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    cast,
    extract,
    false,
    func,
    select,
    type_coerce,
)
from sqlalchemy.engine import Row
from sqlalchemy.types import TypeEngine

from adapters.coercion import MappingError
from adapters.counting import (
    HISTORY,
    CountQuery,
    CountRow,
    DeclaredCounts,
    Dimension,
    OwnerValues,
    Tally,
)
from adapters.errors import SourceBadResponse
from adapters.mapping import as_spec
from adapters.sql_config import (
    ColumnType,
    SqlAggregates,
    SqlEntity,
    SqlPartner,
    join_conditions,
)
from adapters.sql_values import convert, plain
from observatory.perturbation import KEY_SPACE

_BIND_TYPES: dict[str, TypeEngine[Any]] = {
    "str": String(),
    "int": Integer(),
    "float": Float(),
    "bool": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),  # the period's bounds are aware UTC instants
}
"""How a value compared with a column is bound, by the column's declared type."""


class _Counted:
    """The SQL side of one entity's aggregates, built once."""

    def __init__(self, partner: str, entity: str, spec: SqlEntity) -> None:
        assert spec.aggregates is not None
        self.partner = partner
        self.entity = entity
        self.spec = spec
        self.aggregates: SqlAggregates = spec.aggregates
        self.values = OwnerValues(entity, spec)
        history = self.aggregates.history
        refs = self.aggregates.column_refs()
        if history is not None:
            steps = next(join for join in spec.joins if join.alias == history.join)
            refs += [history.status, history.at, *(r for p in join_conditions(steps.on) for r in p)]
        tables = {spec.main_alias: spec.table}
        tables.update((join.alias, join.table) for join in self.aggregates.joins)
        if history is not None:
            tables[history.join] = steps.table
        self.tables = {alias: _table(name, alias, refs) for alias, name in tables.items()}
        joined: FromClause = self.tables[spec.main_alias]
        for join in self.aggregates.joins:  # LEFT: a record without its related row counts
            joined = joined.outerjoin(self.tables[join.alias], self._on(join.on))
        self.from_clause = joined

    def _on(self, on: str) -> ColumnElement[bool]:
        return and_(*(self.col(left) == self.col(right) for left, right in join_conditions(on)))

    def col(self, ref: str) -> ColumnElement[Any]:
        alias, name = ref.split(".")
        return self.tables[alias].c[name]

    def kind(self, ref: str) -> ColumnType:
        """The declared type of a column: the entity's, or the counting joins' own."""
        return self.spec.columns.get(ref) or self.aggregates.columns.get(ref, "str")

    def typed(self, ref: str) -> ColumnElement[Any]:
        return type_coerce(self.col(ref), _BIND_TYPES[self.kind(ref)])

    def answers(self, query: CountQuery) -> bool:
        if self.values.excludes_everything(query):
            return True  # nothing here passes a filter: the count is empty, whatever it asks
        for name in (*query.dimensions, *query.filters):
            dimension = query.dimension(name)
            if name not in self.aggregates.dimensions and self.values.constant(dimension) is None:
                return False
        if query.period is not None and self.period_column(query) is None:
            return False  # not dated by the query's field here (an application's session)
        return query.sum_field is None or query.sum_field in self.aggregates.sums

    def period_column(self, query: CountQuery) -> str | None:
        return self.aggregates.period_column(self.entity, query.period_field)

    def derived(self, name: str, dimension: Dimension, dialect: str) -> ColumnElement[Any]:
        column = self.col(self.aggregates.column(name))
        if dimension.prefix is not None:
            return func.substr(cast(column, String), 1, dimension.prefix)
        if dimension.month:
            if dialect == "sqlite":
                return func.strftime("%Y-%m", column)
            return func.to_char(column, "YYYY-MM")
        if dimension.days_to is not None:
            reached = self.reached(dimension.days_to)
            if dialect == "sqlite":  # milliseconds, exact where julianday's float is not
                elapsed = func.round((func.julianday(reached) - func.julianday(column)) * 86.4e6)
                return cast(cast(elapsed, BigInteger) // 86_400_000, Integer)
            return cast(func.floor(extract("epoch", reached - column) / 86_400), Integer)
        return column

    def reached(self, status: str) -> ColumnElement[Any]:
        """The instant of the record's first step reaching ``status`` (NULL: none did), one
        value per record: a correlated subquery on the steps, never a join of them."""
        history = self.aggregates.history
        assert history is not None  # check-config asks for it with a days_to dimension
        steps = next(join for join in self.spec.joins if join.alias == history.join)
        each = as_spec(self.spec.fields[HISTORY]).each
        assert each is not None
        status_spec = as_spec(each["status"])
        owned = [raw for raw, common in (status_spec.values or {}).items() if common == status]
        if not status_spec.strict_values:
            owned.append(status)  # passed through unmapped: the owner may write it so
        return (
            select(func.min(self.col(history.at)))
            .where(self._on(steps.on), self.col(history.status).in_(owned))
            .scalar_subquery()
        )

    def conditions(self, query: CountQuery, dialect: str) -> builtins.list[ColumnElement[bool]]:
        found: builtins.list[ColumnElement[bool]] = []
        for name, allowed in query.filters.items():
            dimension = query.dimension(name)
            constant = self.values.constant(dimension)
            if name not in self.aggregates.dimensions and constant is not None:
                if constant not in allowed:
                    found.append(false())
                continue
            if dimension.days_to is not None:  # whole days: compared as integers
                days = [int(v) for v in allowed if v.isdigit()]
                found.append(self.derived(name, dimension, dialect).in_(days) if days else false())
                continue
            if dimension.derived:
                found.append(self.derived(name, dimension, dialect).in_(list(allowed)))
                continue
            ref = self.aggregates.column(name)
            kind = self.kind(ref)
            bound = []
            own = self.aggregates.own_values(name)
            for value in self.values.owner_values(dimension, allowed, own):
                try:
                    bound.append(convert(value, kind))
                except ValueError:
                    continue  # a value this column cannot hold counts nothing here
            found.append(self.typed(ref).in_(bound) if bound else false())
        if query.period is not None:
            column = self.period_column(query)
            assert column is not None  # answers() checked it
            start = _bound(query.period.start, column, self.spec)
            end = _bound(query.period.end, column, self.spec)
            found.append(self.typed(column) >= start)
            found.append(self.typed(column) < end)
        return found

    def statement(self, query: CountQuery, dialect: str) -> Select[Any]:
        grouped = [name for name in query.dimensions if name in self.aggregates.dimensions]
        inner_columns: builtins.list[Any] = [
            self.derived(name, query.dimension(name), dialect).label(f"d{i}")
            for i, name in enumerate(grouped)
        ]
        if query.sum_field is not None:
            inner_columns.append(self.col(self.aggregates.sums[query.sum_field]).label("s"))
        if self.aggregates.record_key is not None:
            inner_columns.append(self.col(self.aggregates.record_key).label("k"))
        if not inner_columns:
            inner_columns.append(func.count().label("n"))  # a column to select: any will do
        counted = (
            select(*inner_columns)
            .select_from(self.from_clause)
            .where(*self.conditions(query, dialect))
            .subquery("counted")
        )
        keys = [counted.c[f"d{i}"] for i in range(len(grouped))]
        totals = [
            func.count().label("n"),
            (func.sum(counted.c.s) if query.sum_field is not None else None),
            (func.sum(counted.c.k) if self.aggregates.record_key is not None else None),
        ]
        outer = select(*keys, *(column for column in totals if column is not None))
        outer = outer.select_from(counted)
        return outer.group_by(*keys) if keys else outer

    def rows(self, query: CountQuery, found: Sequence[Row[Any]]) -> builtins.list[CountRow]:
        grouped = [name for name in query.dimensions if name in self.aggregates.dimensions]
        tally = Tally(query.sum_field is not None)
        for row in found:
            values = list(row)
            raw_keys, rest = values[: len(grouped)], values[len(grouped) :]
            count = int(rest.pop(0))
            if count == 0:
                continue  # no group: the one row of an ungrouped count of nothing
            total = _number(rest.pop(0)) if query.sum_field is not None else None
            key_sum = (
                int(_number(rest.pop(0)) or 0) % KEY_SPACE
                if self.aggregates.record_key is not None
                else None
            )
            by_name = dict(zip(grouped, raw_keys, strict=True))
            key = tuple(self._common(query, name, by_name) for name in query.dimensions)
            tally.add(key, count, total, key_sum)
        return tally.rows()

    def _common(self, query: CountQuery, name: str, raw: dict[str, Any]) -> str | None:
        dimension = query.dimension(name)
        if name not in raw:
            return self.values.constant(dimension)
        try:
            return self.values.common(dimension, plain(raw[name]), self.aggregates.own_values(name))
        except MappingError:
            # The value is the owner's, possibly a person's: named by its field only.
            raise SourceBadResponse(
                self.partner, f"a counted {dimension.field} does not map"
            ) from None


def _table(name: str, alias: str, refs: Sequence[str]) -> FromClause:
    """The table ``name`` under ``alias``, with the columns ``refs`` read of it."""
    columns = dict.fromkeys(ref.split(".")[1] for ref in refs if ref.split(".")[0] == alias)
    schema, _, table = name.rpartition(".")
    return Table(table, MetaData(), *(Column(c) for c in columns), schema=schema or None).alias(
        alias
    )


def _bound(day: date, ref: str, spec: SqlEntity) -> date | datetime:
    if spec.columns.get(ref) == "datetime":
        return datetime.combine(day, time(), tzinfo=UTC)
    return day


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value if isinstance(value, int | float) else float(value)


class SqlCounting(DeclaredCounts["_Counted"]):
    """The counts one SQL partner declares, entity by entity."""

    def __init__(self, partner: str, config: SqlPartner) -> None:
        super().__init__(config.entities, lambda entity, spec: _Counted(partner, entity, spec))

    def holds_none(self, query: CountQuery) -> bool:
        """Whether a filter keeps nothing this owner can hold (its count is empty)."""
        return self.of(query).values.excludes_everything(query)

    def statement(self, query: CountQuery, dialect: str) -> Select[Any]:
        return self.of(query).statement(query, dialect)

    def rows(self, query: CountQuery, found: Sequence[Row[Any]]) -> builtins.list[CountRow]:
        return self.of(query).rows(query, found)


__all__ = ["SqlCounting"]
