"""Counts pushed down to a GraphQL partner: its own aggregate query, declared in the partners file.

One query per count (:class:`~adapters.graphql_config.GraphqlAggregates`), every value in its
variables (the document is the operator's, never built from a request): the group names in
the group variable, each filter as the owner values mapped to its common values, the period
as two days of the entity's default date (:data:`~adapters.counting.PERIOD_FIELDS`: a count
dated otherwise, such as applications by their ``session``, is not answered here). The rows
are read at the declared paths in ``data``; each row's group values are read through the
entity's mapping of the dimension's field (the owner's ``DEPOSEE`` is ``SUBMITTED``), and
rows that fall on the same common key are added up; a dimension read from a related record is
the owner's to compute, its groups read as they are. A filter keeping no value the owner's
strict value map can give answers an empty count without a call. A row that is not a count
(a negative, a text, a key sum out of the key space) makes the answer ``SOURCE_BAD_RESPONSE``;
the partner's values never reach a message. The answer's GraphQL errors are classified by the
adapter's ``execute``, as its reads' are (:mod:`adapters.graphql`).
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from adapters.counted_rows import CountedRows
from adapters.counting import CountQuery, CountRow, DeclaredCounts, OwnerValues
from adapters.graphql_config import GraphqlAggregates, GraphqlEntity, GraphqlPartner
from adapters.mapping import compile_path, read_path

Execute = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]
"""The adapter's ``execute``: one operation POSTed, its ``data`` or a ``SourceError``."""


class _Counted:
    def __init__(self, partner: str, entity: str, spec: GraphqlEntity) -> None:
        assert spec.aggregates is not None
        self.partner = partner
        self.entity = entity
        self.aggregates: GraphqlAggregates = spec.aggregates
        self.values = OwnerValues(entity, spec)
        self.rows_at = compile_path(self.aggregates.rows)
        declared = self.aggregates.dimensions
        self.reader = CountedRows(
            partner,
            self.values,
            self.aggregates.count,
            self.aggregates.key_sum,
            {name: how.path for name, how in declared.items()},
            filtered=[name for name, how in declared.items() if how.variable is not None],
            dated=self.aggregates.period is not None,
            wrap_key_sums=False,  # declared as a Long, summed modulo 2^32 by the owner
            noun="aggregate",
        )

    def answers(self, query: CountQuery) -> bool:
        return self.reader.answers(query)

    def variables(self, query: CountQuery) -> dict[str, Any] | None:
        """The query's variables, or None when a filter keeps nothing this owner holds."""
        if self.values.excludes_everything(query):
            return None
        declared = self.aggregates.dimensions
        variables: dict[str, Any] = dict(self.aggregates.variables)
        variables[self.aggregates.group_variable] = [
            declared[name].group for name in query.dimensions if name in declared
        ]
        for name, allowed in query.filters.items():
            dimension = query.dimension(name)
            how = declared.get(name)
            if how is None or how.variable is None:  # a constant of this owner (answers())
                if self.values.constant(dimension) not in allowed:
                    return None
                continue
            sent = self.values.owner_values(dimension, allowed)
            if not sent:
                return None
            variables[how.variable] = sent
        period = self.aggregates.period
        if query.period is not None and period is not None:
            variables[period.from_variable] = query.period.start.strftime(period.format)
            variables[period.to_variable] = query.period.end.strftime(period.format)
        return variables

    def rows(self, query: CountQuery, data: Mapping[str, Any]) -> builtins.list[CountRow]:
        found = read_path(dict(data), self.rows_at)
        return self.reader.rows(query, found)


class GraphqlCounting(DeclaredCounts["_Counted"]):
    """The aggregate queries one GraphQL partner declares, entity by entity."""

    def __init__(self, partner: str, config: GraphqlPartner) -> None:
        super().__init__(config.entities, lambda entity, spec: _Counted(partner, entity, spec))

    async def count(self, query: CountQuery, execute: Execute) -> builtins.list[CountRow]:
        counted = self.of(query)
        variables = counted.variables(query)
        if variables is None:
            return []  # a filter no value of this owner passes: nothing to ask
        data = await execute(counted.aggregates.query, variables)
        return counted.rows(query, data)


__all__ = ["GraphqlCounting"]
