"""Counts pushed down to a REST partner: its statistics endpoint, declared in the partners file.

One GET per count (:class:`~adapters.rest_config.RestAggregates`): the group names joined in
``group_param``, each filter as the owner values mapped to its common values, the period as
two days. The answer's rows are read at the declared paths; each row's group values are read
through the entity's mapping of the dimension's field (Hub3E's ``HIRED`` is
``EMPLOYER_AGREED``), and rows that fall on the same common key are added up (AKTO's
``transmis``, ``déposé`` and ``en cours`` are all ``ACTIVE``). A row that is not a count (a
negative, a text, a key sum out of the key space) makes the answer ``SOURCE_BAD_RESPONSE``;
the partner's values never reach a message.
"""

from __future__ import annotations

import builtins
from typing import Any

from adapters.coercion import MappingError
from adapters.counting import CountQuery, CountRow, OwnerValues, Tally
from adapters.errors import SourceBadResponse
from adapters.http import PartnerHttp
from adapters.mapping import MISSING, compile_path, read_path
from adapters.rest_config import RestAggregates, RestEntity, RestPartner
from observatory.perturbation import KEY_SPACE

Params = builtins.list[tuple[str, str]]


class _Counted:
    def __init__(self, partner: str, entity: str, spec: RestEntity) -> None:
        assert spec.aggregates is not None
        self.partner = partner
        self.entity = entity
        self.aggregates: RestAggregates = spec.aggregates
        self.values = OwnerValues(entity, spec)
        self.rows_at = compile_path(self.aggregates.rows)
        self.count_at = compile_path(self.aggregates.count)
        self.key_sum_at = (
            compile_path(self.aggregates.key_sum) if self.aggregates.key_sum is not None else None
        )
        self.group_at = {
            name: compile_path(how.group) for name, how in self.aggregates.dimensions.items()
        }

    def answers(self, query: CountQuery) -> bool:
        declared = self.aggregates.dimensions
        for name in query.dimensions:
            if name not in declared and self.values.constant(query.dimension(name)) is None:
                return False
        for name in query.filters:
            if (name not in declared or declared[name].param is None) and self.values.constant(
                query.dimension(name)
            ) is None:
                return False
        if query.period is not None and self.aggregates.period is None:
            return False
        return query.sum_field is None  # no statistics endpoint declares sums yet

    def params(self, query: CountQuery) -> Params | None:
        """The query parameters, or None when a filter keeps nothing this owner holds."""
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
        if found is None:
            found = []
        if not isinstance(found, list):
            raise SourceBadResponse(self.partner, "the statistics are not in the expected shape")
        tally = Tally(False)
        for row in found:
            if not isinstance(row, dict):
                raise SourceBadResponse(self.partner, "a statistics row is not an object")
            count = read_path(row, self.count_at)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise SourceBadResponse(self.partner, "a statistics row has no count")
            key_sum = None
            if self.key_sum_at is not None:
                key_sum = read_path(row, self.key_sum_at)
                if not isinstance(key_sum, int) or isinstance(key_sum, bool) or key_sum < 0:
                    raise SourceBadResponse(self.partner, "a statistics row has no key sum")
                key_sum %= KEY_SPACE
            if count:
                tally.add(
                    tuple(self._key(query, name, row) for name in query.dimensions),
                    count,
                    None,
                    key_sum,
                )
        return tally.rows()

    def _key(self, query: CountQuery, name: str, row: dict[str, Any]) -> str | None:
        dimension = query.dimension(name)
        at = self.group_at.get(name)
        if at is None:
            return self.values.constant(dimension)
        raw = read_path(row, at)
        if raw is MISSING or isinstance(raw, dict | list):
            raise SourceBadResponse(self.partner, f"a statistics row has no `{name}` group")
        try:
            return self.values.common(dimension, raw)
        except MappingError:
            raise SourceBadResponse(
                self.partner, f"a counted {dimension.field} does not map"
            ) from None


class RestCounting:
    """The statistics endpoints one REST partner declares, entity by entity."""

    def __init__(self, partner: str, config: RestPartner) -> None:
        self._counted = {
            entity: _Counted(partner, entity, spec)
            for entity, spec in config.entities.items()
            if spec.aggregates is not None
        }

    def counts(self, query: CountQuery) -> bool:
        counted = self._counted.get(query.entity)
        return counted is not None and counted.answers(query)

    async def count(self, query: CountQuery, http: PartnerHttp) -> builtins.list[CountRow]:
        counted = self._counted[query.entity]
        params = counted.params(query)
        if params is None:
            return []  # a filter no value of this owner passes: nothing to ask
        answer = await http.request("GET", counted.aggregates.path, params=params)
        return counted.rows(query, answer.json(counted.partner))


__all__ = ["RestCounting"]
