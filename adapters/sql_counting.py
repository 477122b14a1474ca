"""Counts pushed down to an SQL partner: one ``GROUP BY`` statement, every value bound.

Built from the entity's ``aggregates`` block (:class:`~adapters.sql_config.SqlAggregates`) with
SQLAlchemy Core, never from text: the names come from the validated block, each filter value,
period bound and derivation argument is a bound parameter. The statement reads the main table
only::

    SELECT d0, d1, count(*), sum(s), sum(k)
    FROM (SELECT <derived column> AS d0, ..., <sum column> AS s, <record key> AS k
          FROM <main table> WHERE <filters> AND <period>) AS counted
    GROUP BY d0, d1

(the subquery, so that ``GROUP BY`` names the derived columns rather than repeating their
expressions, whose bound parameters PostgreSQL would see as different from the select list's).
Derivations: ``prefix`` is ``substr(CAST(column AS VARCHAR), 1, n)``; ``month`` is
``strftime('%Y-%m', column)`` on SQLite and ``to_char(column, 'YYYY-MM')`` on PostgreSQL,
whose sessions the adapter opens in UTC (the month of an instant is its UTC month, as the
in-memory path reads it from mapped instants).

A group's value is read through the entity's mapping of the dimension's field (``soumise`` is
``SUBMITTED``); a filter's common values become every owner value mapped to them.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
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
    cast,
    false,
    func,
    select,
    type_coerce,
)
from sqlalchemy.engine import Row
from sqlalchemy.types import TypeEngine

from adapters.coercion import MappingError
from adapters.counting import CountQuery, CountRow, Dimension, OwnerValues, Tally
from adapters.errors import SourceBadResponse
from adapters.sql_config import SqlAggregates, SqlEntity, SqlPartner
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
        names = list(dict.fromkeys(ref.split(".")[1] for ref in self.aggregates.column_refs()))
        schema, _, table = spec.table.rpartition(".")
        self.table: FromClause = Table(
            table, MetaData(), *(Column(name) for name in names), schema=schema or None
        ).alias(spec.main_alias)

    def col(self, ref: str) -> ColumnElement[Any]:
        return self.table.c[ref.split(".")[1]]

    def typed(self, ref: str) -> ColumnElement[Any]:
        return type_coerce(self.col(ref), _BIND_TYPES[self.spec.columns.get(ref, "str")])

    def answers(self, query: CountQuery) -> bool:
        for name in (*query.dimensions, *query.filters):
            dimension = query.dimension(name)
            if name not in self.aggregates.dimensions and self.values.constant(dimension) is None:
                return False
        if query.period is not None and self.aggregates.period is None:
            return False
        return query.sum_field is None or query.sum_field in self.aggregates.sums

    def derived(self, name: str, dimension: Dimension, dialect: str) -> ColumnElement[Any]:
        column = self.col(self.aggregates.dimensions[name])
        if dimension.prefix is not None:
            return func.substr(cast(column, String), 1, dimension.prefix)
        if dimension.month:
            if dialect == "sqlite":
                return func.strftime("%Y-%m", column)
            return func.to_char(column, "YYYY-MM")
        return column

    def conditions(self, query: CountQuery, dialect: str) -> builtins.list[ColumnElement[bool]]:
        found: builtins.list[ColumnElement[bool]] = []
        for name, allowed in query.filters.items():
            dimension = query.dimension(name)
            constant = self.values.constant(dimension)
            if name not in self.aggregates.dimensions and constant is not None:
                if constant not in allowed:
                    found.append(false())
                continue
            if dimension.derived:
                found.append(self.derived(name, dimension, dialect).in_(list(allowed)))
                continue
            ref = self.aggregates.dimensions[name]
            kind = self.spec.columns.get(ref, "str")
            bound = []
            for value in self.values.owner_values(dimension, allowed):
                try:
                    bound.append(convert(value, kind))
                except ValueError:
                    continue  # a value this column cannot hold counts nothing here
            found.append(self.typed(ref).in_(bound) if bound else false())
        if query.period is not None:
            column = self.aggregates.period
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
            .select_from(self.table)
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
            return self.values.common(dimension, plain(raw[name]))
        except MappingError:
            # The value is the owner's, possibly a person's: named by its field only.
            raise SourceBadResponse(
                self.partner, f"a counted {dimension.field} does not map"
            ) from None


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


class SqlCounting:
    """The counts one SQL partner declares, entity by entity."""

    def __init__(self, partner: str, config: SqlPartner) -> None:
        self._counted = {
            entity: _Counted(partner, entity, spec)
            for entity, spec in config.entities.items()
            if spec.aggregates is not None
        }

    def counts(self, query: CountQuery) -> bool:
        counted = self._counted.get(query.entity)
        return counted is not None and counted.answers(query)

    def statement(self, query: CountQuery, dialect: str) -> Select[Any]:
        return self._counted[query.entity].statement(query, dialect)

    def rows(self, query: CountQuery, found: Sequence[Row[Any]]) -> builtins.list[CountRow]:
        return self._counted[query.entity].rows(query, found)


__all__ = ["SqlCounting"]
