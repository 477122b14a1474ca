"""Counting where the data lives: the question, its answer, and the in-memory fallback.

The observatory never lists people: it asks each owner of an entity for **counts**, grouped by
a few common dimensions, and sums them (:mod:`sources.counting`). An adapter that can count at
its owner implements :class:`Counter`: the SQL kind with one ``GROUP BY`` statement
(:mod:`adapters.sql_counting`), the REST kind through the owner's statistics endpoint
(:mod:`adapters.rest_counting`), each from the ``aggregates`` block of the entity in the
partners file. Any other owner is counted **in memory** by :func:`count_in_memory`: its normal
list, read page by page, each page counted and dropped before the next one is asked for.

The vocabulary (:data:`DIMENSIONS`) says what a dimension is on the common syntax: which field
it reads, and its one derivation, if any (the first N characters: a commune's département, a
ROME code's domain; the month of a date or an instant). Both paths use it: the in-memory path
reads it from mapped records; a pushed-down count reads the declared column or group, derived
the same way, and translates the owner's values into common ones with the entity's own mapping
(its ``values`` map), so that both paths give the same cells on the same data.

Usage::

    query = CountQuery("application", ("status", "month"), {"training_centre": ("0732727T",)},
                       Period(date(2025, 9, 1), date(2026, 1, 1)))
    if isinstance(adapter, Counter) and adapter.counts(query):
        rows = await adapter.count(query)                  # pushed down to the owner
    else:
        rows = await count_in_memory(adapter.partner, query, adapter.list, key_secret)

Keys: every :class:`CountRow` carries the sum of its records' ONS record keys (modulo
:data:`~observatory.perturbation.KEY_SPACE`) when the owner stores them (its ``record_key``
column or answer field); in memory, a record's key is
:func:`observatory.perturbation.record_key` of ``"<partner>:<entity>:<the owner's id>"``.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from adapters.config import EntityMapping, FieldSpec
from adapters.errors import SourceError
from adapters.mapping import FieldReader, as_spec
from adapters.syntax import ENTITIES
from adapters.types import ListQuery, Page, Record, field_at
from observatory.perturbation import KEY_SPACE, record_key

Key = tuple[str | None, ...]
"""A cell's position: one common value per dimension of the query (None: the record has none)."""

IN_MEMORY_PAGE = 200
"""Records asked for per list call of the in-memory path: what it holds at once, at most."""


@dataclass(frozen=True, slots=True)
class Dimension:
    """A dimension on the common syntax: the field it reads and its derivation.

    ``prefix``: the value's first N characters; ``month``: ``YYYY-MM`` of a date or an instant
    (UTC); neither: the value itself. A list field gives its first value.
    """

    field: str
    prefix: int | None = None
    month: bool = False

    @property
    def derived(self) -> bool:
        return self.prefix is not None or self.month

    def of(self, value: Any) -> str | None:
        """The dimension's value for a field's common value."""
        if isinstance(value, builtins.list):
            value = value[0] if value else None
        if value is None or value == "":
            return None
        text = str(value)
        if self.prefix is not None:
            return text[: self.prefix]
        if self.month:
            return text[:7]
        return text


_CENTRE = Dimension("trainingCentre.uai")

DIMENSIONS: dict[str, dict[str, Dimension]] = {
    "candidate": {
        "commune": Dimension("commune.inseeCode"),
        "departement": Dimension("commune.inseeCode", prefix=2),
        "training_centre": _CENTRE,
    },
    "application": {
        "status": Dimension("status"),
        "month": Dimension("createdAt", month=True),
        "channel": Dimension("channel"),
        "training_centre": _CENTRE,
    },
    "contract": {
        "status": Dimension("status"),
        "month": Dimension("startDate", month=True),
        "opco": Dimension("funding.opco"),
        "training_centre": _CENTRE,
    },
    "follow_up": {
        "kind": Dimension("kind"),
        "month": Dimension("date", month=True),
        "training_centre": _CENTRE,
    },
    "offer": {
        "commune": Dimension("location.inseeCode"),
        "departement": Dimension("location.inseeCode", prefix=2),
        "rome_domain": Dimension("romeCodes", prefix=3),
        "level": Dimension("targetLevel"),
        "status": Dimension("status"),
        "month": Dimension("publishedAt", month=True),
    },
}
"""Entity -> dimension name -> what it reads. ``departement`` is a commune code's first two
characters: right for metropolitan France (the pilot territory), not for overseas
départements (three characters)."""

PERIOD_FIELDS: dict[str, str] = {
    "application": "createdAt",
    "contract": "startDate",
    "follow_up": "date",
    "offer": "publishedAt",
}
"""The date or instant a count's period selects records by (candidates have none)."""

SUM_FIELDS: dict[str, frozenset[str]] = {"offer": frozenset({"positions"})}
"""Numeric fields a count may also sum (``CountQuery.sum_field``)."""


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` (included) to ``end`` (excluded) of the entity's period field."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    def holds(self, value: Any) -> bool:
        if not isinstance(value, str) or len(value) < 10:
            return False
        return self.start.isoformat() <= value[:10] < self.end.isoformat()


@dataclass(frozen=True, slots=True)
class CountQuery:
    """Count ``entity``'s records grouped by ``dimensions`` (names of :data:`DIMENSIONS`).

    ``filters``: dimension name -> the values kept (a record counts when its value is one of
    them); ``period``: on the entity's :data:`PERIOD_FIELDS`; ``sum_field``: a field of
    :data:`SUM_FIELDS` summed beside the count (``CountRow.total``).
    """

    entity: str
    dimensions: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    period: Period | None = None
    sum_field: str | None = None

    def __post_init__(self) -> None:
        known = DIMENSIONS.get(self.entity)
        if known is None:
            raise ValueError(f"{self.entity} is not counted")
        unknown = [d for d in (*self.dimensions, *self.filters) if d not in known]
        if unknown:
            raise ValueError(
                f"{self.entity} has no dimension {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError("a dimension is grouped by once")
        if self.period is not None and self.entity not in PERIOD_FIELDS:
            raise ValueError(f"{self.entity} has no date to select a period by")
        if self.sum_field is not None and self.sum_field not in SUM_FIELDS.get(
            self.entity, frozenset()
        ):
            raise ValueError(f"{self.sum_field} is not a field {self.entity} counts can sum")
        object.__setattr__(
            self, "filters", {name: tuple(values) for name, values in self.filters.items()}
        )

    def dimension(self, name: str) -> Dimension:
        return DIMENSIONS[self.entity][name]

    @property
    def read_fields(self) -> frozenset[str]:
        """The top-level common fields the in-memory path maps: nothing else of a person."""
        paths = [self.dimension(name).field for name in (*self.dimensions, *self.filters)]
        if self.period is not None:
            paths.append(PERIOD_FIELDS[self.entity])
        if self.sum_field is not None:
            paths.append(self.sum_field)
        return frozenset(path.split(".")[0] for path in paths)


@dataclass(frozen=True, slots=True)
class CountRow:
    """One cell of one owner: ``count`` records; ``total`` the sum of ``sum_field`` (None
    when none was asked); ``key_sum`` the sum of their record keys modulo the key space (None
    when the owner stores no record key)."""

    key: Key
    count: int
    total: float | None = None
    key_sum: int | None = None


@runtime_checkable
class Counter(Protocol):
    """An adapter that counts at its owner (the SQL and REST kinds)."""

    partner: str

    def counts(self, query: CountQuery) -> bool:
        """Whether the owner's declared aggregates answer ``query`` whole: every dimension,
        every filter, the period and the sum (else the caller counts in memory)."""
        ...

    async def count(self, query: CountQuery) -> builtins.list[CountRow]: ...


class CountBound(SourceError):
    """An owner whose list cannot be resumed was cut at its ``max_items``: its count would be
    short, so it is not given (not the owner's fault: its configuration's)."""

    code = "SOURCE_LIST_BOUND"
    partner_fault = False


# -- adding up -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cell:
    count: int = 0
    total: float = 0.0
    key_sum: int | None = 0


class Tally:
    """Cells being added up, by key; :meth:`rows` in key order (None first)."""

    def __init__(self, summing: bool) -> None:
        self.summing = summing
        self._cells: dict[Key, _Cell] = {}

    def add(self, key: Key, count: int, total: float | None, key_sum: int | None) -> None:
        cell = self._cells.setdefault(key, _Cell())
        cell.count += count
        cell.total += total or 0.0
        if cell.key_sum is not None:
            cell.key_sum = None if key_sum is None else (cell.key_sum + key_sum) % KEY_SPACE

    def rows(self) -> builtins.list[CountRow]:
        return [
            CountRow(key, cell.count, cell.total if self.summing else None, cell.key_sum)
            for key, cell in sorted(self._cells.items(), key=lambda item: _order(item[0]))
        ]


def _order(key: Key) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, value or "") for value in key)


# -- the in-memory path --------------------------------------------------------------------------


def record_matches(query: CountQuery, fields: Mapping[str, Any]) -> bool:
    """Whether a mapped record is in the query's period and passes its filters."""
    if query.period is not None and not query.period.holds(
        field_at(dict(fields), PERIOD_FIELDS[query.entity])
    ):
        return False
    for name, allowed in query.filters.items():
        dimension = query.dimension(name)
        if dimension.of(field_at(dict(fields), dimension.field)) not in allowed:
            return False
    return True


def record_cell(query: CountQuery, fields: Mapping[str, Any]) -> Key:
    plain = dict(fields)
    return tuple(
        query.dimension(name).of(field_at(plain, query.dimension(name).field))
        for name in query.dimensions
    )


def in_memory_key(secret: bytes, record: Record) -> int:
    """A record's key when its owner stores none: the HMAC of its pseudonymous reference."""
    owner = record.owner
    return record_key(secret, f"{owner.partner}:{record.entity}:{owner.partner_id}")


def tally_records(
    query: CountQuery, records: Iterable[Record], secret: bytes, tally: Tally
) -> None:
    for record in records:
        if not record_matches(query, record.fields):
            continue
        total = None
        if query.sum_field is not None:
            value = field_at(record.fields, query.sum_field)
            total = float(value) if isinstance(value, int | float) else 0.0
        tally.add(record_cell(query, record.fields), 1, total, in_memory_key(secret, record))


async def count_in_memory(
    partner: str,
    query: CountQuery,
    list_call: Callable[[ListQuery], Awaitable[Page]],
    secret: bytes,
    page_size: int = IN_MEMORY_PAGE,
) -> builtins.list[CountRow]:
    """Count from the partner's normal list, one page at a time: each page is counted and
    dropped before the next is asked for, so at most one page is held (no record is kept,
    written or logged). ``list_call`` is the adapter's ``list`` (the source layer wraps it in
    the partner's deadline and breaker). Only :attr:`CountQuery.read_fields` are mapped."""
    tally = Tally(query.sum_field is not None)
    position: Any = None
    while True:
        page = await list_call(
            ListQuery(query.entity, {}, page_size, resume=position, fields=query.read_fields)
        )
        tally_records(query, page.records, secret, tally)
        if page.positions is None:  # cannot resume: the one answer held everything it could
            if page.truncated:
                raise CountBound(partner, "cannot be counted whole: its list stops at max_items")
            break
        if page.exhausted or page.end == position:
            break
        position = page.end
        del page  # the next page replaces it; nothing of this one is kept
    return tally.rows()


# -- owners' values into common ones -------------------------------------------------------------


def raw_at(path: str, value: Any) -> dict[str, Any]:
    """A raw record holding ``value`` at the dotted ``path`` (what a field's reader reads)."""
    raw: dict[str, Any] = {}
    node = raw
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return raw


class OwnerValues:
    """How one partner's values of the query's dimensions are read, both ways, through the
    entity's own mapping: a group's key into common values, a filter's common values into the
    owner's."""

    def __init__(self, entity: str, mapping: EntityMapping) -> None:
        self.entity = entity
        self.mapping = mapping
        self._zone = ZoneInfo(mapping.timezone)

    def spec(self, dimension: Dimension) -> FieldSpec | None:
        written = self.mapping.fields.get(dimension.field)
        return None if written is None else as_spec(written)

    def constant(self, dimension: Dimension) -> str | None:
        """The value every record has, when the mapping gives the field as a constant."""
        spec = self.spec(dimension)
        if spec is None or spec.path is not None or spec.const is None:
            return None
        return dimension.of(spec.const)

    def common(self, dimension: Dimension, raw: Any) -> str | None:
        """A group's value as the common syntax has it (derived values are already so)."""
        if raw is None:
            return None
        spec = self.spec(dimension)
        if dimension.derived or spec is None or spec.path is None:
            return dimension.of(raw)
        reader = FieldReader(dimension.field, spec, self.entity, self.mapping, self._zone)
        return dimension.of(reader.read(raw_at(spec.path, raw)))

    def owner_values(self, dimension: Dimension, values: Sequence[str]) -> builtins.list[str]:
        """The owner's values whose common value is one of ``values`` (a value map may send
        several of them to one common value: all of them)."""
        spec = self.spec(dimension)
        if dimension.derived or spec is None or spec.values is None:
            return builtins.list(dict.fromkeys(values))
        found: builtins.list[str] = []
        for value in values:
            found.extend(raw for raw, common in spec.values.items() if str(common) == value)
            if not spec.strict_values and value not in spec.values:
                found.append(value)  # passed through unmapped: the owner writes it so
        return builtins.list(dict.fromkeys(found))


def dimension_problem(entity: str, name: str, mapping: EntityMapping) -> str | None:
    """Why an owner cannot declare ``name`` for ``entity`` (None when it can): the dimension
    must exist, and its field be mapped, so that a group's value reads as the field does."""
    known = DIMENSIONS.get(entity)
    if known is None:
        return f"{entity} is not counted"
    dimension = known.get(name)
    if dimension is None:
        return f"`{name}` is not a dimension of {entity} (known: {', '.join(sorted(known))})"
    written = mapping.fields.get(dimension.field)
    if written is None:
        return f"`{name}` reads {dimension.field}, which this entity's mapping does not map"
    spec = as_spec(written)
    if dimension.derived and spec.values is not None:
        return f"`{name}` is derived from {dimension.field}, whose values are mapped: not both"
    if ENTITIES[entity].get(dimension.field) is None:
        return f"{dimension.field} is not a field of {entity}"
    return None


__all__ = [
    "DIMENSIONS",
    "IN_MEMORY_PAGE",
    "PERIOD_FIELDS",
    "SUM_FIELDS",
    "CountBound",
    "CountQuery",
    "CountRow",
    "Counter",
    "Dimension",
    "Key",
    "OwnerValues",
    "Period",
    "Tally",
    "count_in_memory",
    "dimension_problem",
    "in_memory_key",
    "raw_at",
    "record_cell",
    "record_matches",
    "tally_records",
]
