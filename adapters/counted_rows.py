"""Reading the rows an owner counted itself: a statistics endpoint's, a GraphQL aggregate query's.

Both kinds answer a list of rows, each with its groups, a count and, when the owner stores
record keys, their sum. :class:`CountedRows` reads them the one way both need: every row an
object, its count a whole number, its key sum a whole number in the key space, each group's
value read through the entity's mapping (``OwnerValues.common``), rows that fall on the same
common key added up. Anything else is ``SOURCE_BAD_RESPONSE``, and the message names the
dimension, never the owner's value (it may be a person's).
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping
from typing import Any

from adapters.coercion import MappingError
from adapters.counting import PERIOD_FIELDS, CountQuery, CountRow, OwnerValues, Tally
from adapters.errors import SourceBadResponse
from adapters.mapping import MISSING, compile_path, read_path
from observatory.perturbation import KEY_SPACE


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class CountedRows:
    """What one owner's declared counting answers, and how its rows are read: where the count,
    the key sum and each group are.

    ``wrap_key_sums``: a key sum past the key space is taken modulo it (an owner summing plain
    integers) rather than refused (an owner that sums modulo 2^32 itself, or a GraphQL owner
    whose key sums are declared as such). ``noun`` names the rows in messages."""

    def __init__(
        self,
        partner: str,
        values: OwnerValues,
        count: str,
        key_sum: str | None,
        groups: Mapping[str, str],
        *,
        filtered: Collection[str],
        dated: bool,
        wrap_key_sums: bool,
        noun: str,
    ) -> None:
        """``count``, ``key_sum`` (None: the owner stores no record key) and each dimension's
        ``groups`` entry are paths in a row, as the aggregates block declares them;
        ``filtered``: the dimensions the owner filters on; ``dated``: whether it selects a
        period (by the entity's default date only)."""
        self.partner = partner
        self.filtered = frozenset(filtered)
        self.dated = dated
        self.values = values
        self.count_at = compile_path(count)
        self.key_sum_at = compile_path(key_sum) if key_sum is not None else None
        self.group_at = {name: compile_path(path) for name, path in groups.items()}
        self.wrap_key_sums = wrap_key_sums
        self.noun = noun

    def answers(self, query: CountQuery) -> bool:
        """Whether the owner's counting answers ``query``: it groups by each dimension and
        filters on each filter unless the mapping makes it a constant of this owner, it
        selects the period when there is one, and nothing is summed (neither kind declares
        sums yet). A filter keeping no value this owner holds is always answered: an empty
        count, without a call."""
        values = self.values
        if values.excludes_everything(query):
            return True
        for name in query.dimensions:
            if name not in self.group_at and values.constant(query.dimension(name)) is None:
                return False
        for name in query.filters:
            if name not in self.filtered and values.constant(query.dimension(name)) is None:
                return False
        if query.period is not None and (
            not self.dated or query.period_field != PERIOD_FIELDS[query.entity]
        ):
            return False
        return query.sum_field is None

    def rows(self, query: CountQuery, found: Any) -> builtins.list[CountRow]:
        """The rows read at the answer's rows path (None: no row; absent: a bad answer)."""
        if found is None:
            found = []
        if not isinstance(found, list):
            raise SourceBadResponse(self.partner, f"the {self.noun} are not in the expected shape")
        tally = Tally(False)
        for row in found:
            if not isinstance(row, dict):
                raise SourceBadResponse(self.partner, f"a {self.noun} row is not an object")
            count = read_path(row, self.count_at)
            if not _whole(count):
                raise SourceBadResponse(self.partner, f"a {self.noun} row has no count")
            if count:
                key = tuple(self._key(query, name, row) for name in query.dimensions)
                tally.add(key, count, None, self._key_sum(row))
        return tally.rows()

    def _key_sum(self, row: dict[str, Any]) -> int | None:
        if self.key_sum_at is None:
            return None
        key_sum = read_path(row, self.key_sum_at)
        if not _whole(key_sum) or (not self.wrap_key_sums and key_sum >= KEY_SPACE):
            raise SourceBadResponse(self.partner, f"a {self.noun} row has no key sum")
        return int(key_sum) % KEY_SPACE

    def _key(self, query: CountQuery, name: str, row: dict[str, Any]) -> str | None:
        dimension = query.dimension(name)
        at = self.group_at.get(name)
        if at is None:
            return self.values.constant(dimension)
        raw = read_path(row, at)
        if raw is MISSING or isinstance(raw, dict | list):
            raise SourceBadResponse(self.partner, f"a {self.noun} row has no `{name}` group")
        try:
            return self.values.common(dimension, raw)
        except MappingError:
            raise SourceBadResponse(self.partner, f"a counted `{name}` does not map") from None


__all__ = ["CountedRows"]
