"""Counts pushed down to a REST partner: its statistics endpoint, declared in the partners file.

One GET per count (:class:`~adapters.rest_config.RestAggregates`): the group names joined in
``group_param``, each filter as the owner values mapped to its common values, the period as
two days of the entity's default date (:data:`~adapters.counting.PERIOD_FIELDS`: a count
dated otherwise, such as applications by their ``session``, is not answered here). The
answer's rows are read at the declared paths; each row's group values are read through the
entity's mapping of the dimension's field (Hub3E's ``HIRED`` is ``EMPLOYER_AGREED``), and rows
that fall on the same common key are added up (AKTO's ``transmis``, ``déposé`` and ``en
cours`` are all ``ACTIVE``); a dimension read from a related record (an application's
programme's ROME domain) is the owner's to compute, its groups read as they are. A filter
keeping no value the owner's strict value map can give (``PLACED`` at Hub3E, whose steps stop
at ``HIRED``) answers an empty count without a call. A row that is not a count (a negative, a
text, a key sum out of the key space) makes the answer ``SOURCE_BAD_RESPONSE``; the partner's
values never reach a message.
"""

from __future__ import annotations

import builtins
from typing import Any

from adapters.counted_rows import CountedRows
from adapters.counting import CountQuery, CountRow, DeclaredCounts, OwnerValues
from adapters.http import PartnerHttp
from adapters.mapping import MISSING, compile_path, read_path
from adapters.rest_config import RestAggregates, RestEntity, RestPartner

Params = builtins.list[tuple[str, str]]


class _Counted:
    def __init__(self, partner: str, entity: str, spec: RestEntity) -> None:
        assert spec.aggregates is not None
        self.partner = partner
        self.entity = entity
        self.aggregates: RestAggregates = spec.aggregates
        self.values = OwnerValues(entity, spec)
        self.rows_at = compile_path(self.aggregates.rows)
        declared = self.aggregates.dimensions
        self.reader = CountedRows(
            partner,
            self.values,
            self.aggregates.count,
            self.aggregates.key_sum,
            {name: how.group for name, how in declared.items()},
            filtered=[name for name, how in declared.items() if how.param is not None],
            dated=self.aggregates.period is not None,
            wrap_key_sums=True,  # an endpoint may sum plain integers
            noun="statistics",
        )

    def answers(self, query: CountQuery) -> bool:
        return self.reader.answers(query)

    def params(self, query: CountQuery) -> Params | None:
        """The query parameters, or None when a filter keeps nothing this owner holds."""
        if self.values.excludes_everything(query):
            return None
        declared = self.aggregates.dimensions
        grouped = [declared[name].group for name in query.dimensions if name in declared]
        params: Params = list(self.aggregates.params.items())
        if grouped:
            params.append((self.aggregates.group_param, self.aggregates.group_join.join(grouped)))
        for name, allowed in query.filters.items():
            dimension = query.dimension(name)
            how = declared.get(name)
            if how is None or how.param is None:  # a constant of this owner (answers())
                if self.values.constant(dimension) not in allowed:
                    return None
                continue
            sent = [v for v in self.values.owner_values(dimension, allowed) if how.join not in v]
            if not sent:
                return None
            params.append((how.param, how.join.join(sent)))
        period = self.aggregates.period
        if query.period is not None and period is not None:
            params.append((period.from_param, query.period.start.strftime(period.format)))
            params.append((period.to_param, query.period.end.strftime(period.format)))
        return params

    def rows(self, query: CountQuery, body: Any) -> builtins.list[CountRow]:
        found = read_path(body, self.rows_at) if isinstance(body, dict) else MISSING
        return self.reader.rows(query, found)


class RestCounting(DeclaredCounts["_Counted"]):
    """The statistics endpoints one REST partner declares, entity by entity."""

    def __init__(self, partner: str, config: RestPartner) -> None:
        super().__init__(config.entities, lambda entity, spec: _Counted(partner, entity, spec))

    async def count(self, query: CountQuery, http: PartnerHttp) -> builtins.list[CountRow]:
        counted = self.of(query)
        params = counted.params(query)
        if params is None:
            return []  # a filter no value of this owner passes: nothing to ask
        answer = await http.request("GET", counted.aggregates.path, params=params)
        return counted.rows(query, answer.json(counted.partner))


__all__ = ["RestCounting"]
