"""Counting where the data lives: the question, its answer, and the in-memory fallback.

The observatory never lists people: it asks each owner of an entity for **counts**, grouped by
a few common dimensions, and sums them (:mod:`sources.counting`). An adapter that can count at
its owner implements :class:`Counter`: the SQL kind with one ``GROUP BY`` statement
(:mod:`adapters.sql_counting`), the REST kind through the owner's statistics endpoint
(:mod:`adapters.rest_counting`), the GraphQL kind through its own aggregate query
(:mod:`adapters.graphql_counting`), each from the ``aggregates`` block of the entity in the
partners file. Any other owner is counted **in memory** by :func:`count_in_memory`: its normal
list, read page by page, each page counted and dropped before the next one is asked for.

The vocabulary (:data:`DIMENSIONS`) says what a dimension is on the common syntax: which field
it reads, and its one derivation, if any (the first N characters: a commune's département, a
ROME code's domain; the month of a date or an instant). Both paths use it: the in-memory path
reads it from mapped records; a pushed-down count reads the declared column or group, derived
the same way, and translates the owner's values into common ones with the entity's own mapping
(its ``values`` map), so that both paths give the same cells on the same data.

Some entities count an item of a list field rather than the record (:data:`COUNTED_ITEMS`): a
training programme counts once per session, in the session's start month, adding up that
session's ``capacity`` (``CountQuery("training_program", ("departement", "month"),
period=..., sum_field="sessions.capacity")``). Those several owners publish are counted once
per real record over every owner (:data:`COUNTED_ONCE`, merged in :mod:`sources.counting_once`).

A period selects records by one date of the entity (:data:`PERIOD_FIELDS`), or by another the
entity may be dated by (:data:`DATED_BY`, ``CountQuery.period_field``): an application by the
start of the session it is for (``period_field="session"``), as a fill rate counts them. An
owner counts itself only a period whose field it declares (SQL ``aggregates.periods``; a
statistics endpoint's ``period`` is the default date's); counted in memory, an owner whose
mapping does not map the field cannot be counted (:func:`unavailable_in_memory`).

Some dimensions are not fields of the counted record but of a **related** one (an
application's candidate's home commune, its programme's ROME codes and level; a contract's
employer's establishment and certification): :class:`Related` says which record and field.
They are **pushed down only**: an owner declares where it reads them (an SQL owner joins the
related table, many-to-one, in ``aggregates.joins``; a statistics endpoint computes them), and
the in-memory path refuses a query naming one (:class:`CountUnavailable`, code
``COUNT_UNAVAILABLE``, before any call), so that an owner that cannot answer is a partial
answer, never a column of None. ``days_to_placement`` is read in memory from the record's own
``history`` (the first step reaching ``PLACED``), and at an SQL owner from its steps' table.

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
from datetime import UTC, date, datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable
from zoneinfo import ZoneInfo

from adapters.coercion import MappingError
from adapters.config import EntityMapping, FieldSpec
from adapters.errors import SourceError
from adapters.mapping import FieldReader, as_spec
from adapters.syntax import ENTITIES
from adapters.types import Fields, ListQuery, Page, Record, field_at
from observatory.perturbation import KEY_SPACE, record_key

Key = tuple[str | None, ...]
"""A cell's position: one common value per dimension of the query (None: the record has none)."""

IN_MEMORY_PAGE = 200
"""Records asked for per list call of the in-memory path: what it holds at once, at most."""


@dataclass(frozen=True, slots=True)
class Related:
    """What a dimension reads in a record *related* to the counted one: the ``entity`` named by
    the counted record's ``link`` field, and the field it ``reads`` there (an application's
    candidate's home commune: ``Related("candidate", "candidate.id", "commune.inseeCode")``).

    The counted record does not hold it, so the in-memory path cannot read it: such a
    dimension is **pushed down only**, read by an owner that joins the related table (SQL
    ``aggregates.joins``) or computes it (a statistics endpoint). An owner that cannot is that
    owner's ``COUNT_UNAVAILABLE`` failure, never a column of None."""

    entity: str
    link: str
    reads: str


@dataclass(frozen=True, slots=True)
class Dimension:
    """A dimension on the common syntax: the field it reads and its derivation.

    ``prefix``: the value's first N characters; ``month``: ``YYYY-MM`` of a date or an instant
    (UTC); ``days_to``: the whole days (floored, as text) from the instant ``field`` to the
    first ``history`` step reaching that status, None when no step reached it; none of them:
    the value itself. A list field gives its first value. ``related``: read from another
    record than the counted one (``field`` is then None; the derivation applies to what it
    reads), pushed down only.
    """

    field: str | None = None
    prefix: int | None = None
    month: bool = False
    days_to: str | None = None
    related: Related | None = None

    def __post_init__(self) -> None:
        if (self.field is None) == (self.related is None):
            raise ValueError("a dimension reads a field of the record or a related record's")

    @property
    def derived(self) -> bool:
        return self.prefix is not None or self.month or self.days_to is not None

    @property
    def pushed_only(self) -> bool:
        """Read from a related record: only an owner that joins it can count it."""
        return self.related is not None

    @property
    def reads(self) -> tuple[str, ...]:
        """The common fields the in-memory path maps for it (none when pushed down only)."""
        if self.field is None:
            return ()
        return (self.field, HISTORY) if self.days_to is not None else (self.field,)

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

    def read(self, fields: Fields) -> str | None:
        """The dimension's value in a mapped record (the in-memory path)."""
        if self.field is None:
            raise ValueError("a related record's dimension is pushed down only")
        if self.days_to is None:
            return self.of(field_at(fields, self.field))
        return _days_to(field_at(fields, self.field), fields.get(HISTORY), self.days_to)


HISTORY = "history"
"""The list of an application's steps (``status``, ``at``), which ``days_to`` reads."""


def _days_to(start: Any, history: Any, status: str) -> str | None:
    if not isinstance(start, str) or not isinstance(history, builtins.list):
        return None
    reached = [
        _instant(step["at"])
        for step in history
        if isinstance(step, dict)
        and step.get("status") == status
        and isinstance(step.get("at"), str)
    ]
    if not reached:
        return None
    return str((min(reached) - _instant(start)).days)  # timedelta.days floors: whole days


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_CENTRE = Dimension("trainingCentre.uai")
_PROGRAMME = Related("training_program", "trainingProgram.id", "romeCodes")
_PROGRAMME_LEVEL = Related("training_program", "trainingProgram.id", "certification.level")
_CERTIFICATION = Related("training_program", "certification.rncp", "certification.romeCodes")
_CERTIFICATION_LEVEL = Related("training_program", "certification.rncp", "certification.level")

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
        "departement": Dimension(
            related=Related("candidate", "candidate.id", "commune.inseeCode"), prefix=2
        ),
        "rome_domain": Dimension(related=_PROGRAMME, prefix=3),
        "level": Dimension(related=_PROGRAMME_LEVEL),
        "days_to_placement": Dimension("createdAt", days_to="PLACED"),
    },
    "contract": {
        "status": Dimension("status"),
        "month": Dimension("startDate", month=True),
        "opco": Dimension("funding.opco"),
        "training_centre": _CENTRE,
        "departement": Dimension(
            related=Related("organisation", "employer.siret", "address.inseeCode"), prefix=2
        ),
        "rome_domain": Dimension(related=_CERTIFICATION, prefix=3),
        "level": Dimension(related=_CERTIFICATION_LEVEL),
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
    # Counted per session (COUNTED_ITEMS): ``month`` is the session's start. The ROME codes
    # are the certification's, which every catalogue maps (the programme's own ``romeCodes``
    # repeat them at each demo partner); the level is the certification's, as text ("4").
    "training_program": {
        "commune": Dimension("location.inseeCode"),
        "departement": Dimension("location.inseeCode", prefix=2),
        "rome_domain": Dimension("certification.romeCodes", prefix=3),
        "level": Dimension("certification.level"),
        "training_centre": Dimension("responsible.uai"),
        "month": Dimension("sessions.start", month=True),
    },
}
"""Entity -> dimension name -> what it reads. ``departement`` is a commune code's first two
characters: right for metropolitan France (the pilot territory), not for overseas
départements (three characters). ``rome_domain`` is the first three characters (letter and
two digits) of the first ROME code; ``level`` the certification level, ``"3"``..``"7"`` as
text, as ``offer.level`` is.

Of an application: ``departement`` is that of the candidate's home commune (where the young
person lives); ``rome_domain`` and ``level`` are those of the programme applied to (for a
Hub3E placement, which has no programme, its mission's ROME code and target level);
``days_to_placement`` the whole days from ``createdAt`` to the step that reached ``PLACED``
(None for an application never placed: filter ``status = PLACED`` for the histogram). Of a
contract: ``departement`` is that of the employer's establishment, where the contract is
executed (not the apprentice's home, which the contract owner need not hold); ``rome_domain``
and ``level`` those of the certification prepared. These six read a related record (see
:class:`Related`) and are pushed down only."""

COUNTED_ITEMS: dict[str, str] = {"training_program": "sessions"}
"""Entities whose counted unit is an item of one of their list fields, not the record: a
programme counts once per session. The item's fields (``sessions.start``) are read from that
item, the others from its record, so the period selects sessions, ``month`` is a session's
and a sum adds up the sessions' values; a record without items counts nothing."""

COUNTED_ONCE: frozenset[str] = frozenset({"training_program", "offer"})
"""Entities several owners publish, whose twins are counted once: the source layer reads every
owner's records and merges twins by the list's identity rules before counting
(:mod:`sources.counting_once`). No owner counts them itself: its statistics could not tell
which of its records another owner also publishes."""

PERIOD_FIELDS: dict[str, str] = {
    "application": "createdAt",
    "contract": "startDate",
    "follow_up": "date",
    "offer": "publishedAt",
    "training_program": "sessions.start",
}
"""The date or instant a count's period selects records (or items) by, unless the query names
another of :data:`DATED_BY` (candidates have none)."""

DATED_BY: dict[str, tuple[str, ...]] = {
    **{entity: (default,) for entity, default in PERIOD_FIELDS.items()},
    "application": ("createdAt", "session"),
}
"""The fields a count's period may select an entity's records by (``CountQuery.period_field``),
its :data:`PERIOD_FIELDS` entry first. An application is dated by its creation, or by the
start of the session it is for (``session``): a fill rate counts the apprentices of the
sessions starting in the period, whenever they applied."""

SUM_FIELDS: dict[str, frozenset[str]] = {
    "offer": frozenset({"positions"}),
    "training_program": frozenset({"sessions.capacity"}),
}
"""Numeric fields a count may also sum (``CountQuery.sum_field``); a missing value adds 0."""


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
    them); ``period``: on ``period_field``, one of the entity's :data:`DATED_BY` (default:
    its :data:`PERIOD_FIELDS` entry; None for an entity without a date); ``sum_field``: a
    field of :data:`SUM_FIELDS` summed beside the count (``CountRow.total``).
    """

    entity: str
    dimensions: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    period: Period | None = None
    sum_field: str | None = None
    period_field: str | None = None

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
        dated_by = DATED_BY.get(self.entity, ())
        if self.period_field is None:
            # The default named, so that a query is equal to the same one naming it.
            object.__setattr__(self, "period_field", PERIOD_FIELDS.get(self.entity))
        elif self.period_field not in dated_by:
            raise ValueError(
                f"{self.entity} is not dated by {self.period_field} "
                f"(dated by: {', '.join(dated_by) or 'nothing'})"
            )
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
    def pushed_only(self) -> tuple[str, ...]:
        """The dimensions (grouped or filtered) read from a related record: an owner that
        cannot count them itself cannot be counted for this query (:class:`CountUnavailable`)."""
        names = dict.fromkeys((*self.dimensions, *self.filters))
        return tuple(name for name in names if self.dimension(name).pushed_only)

    @property
    def read_paths(self) -> frozenset[str]:
        """The dotted common fields the count reads of a record: its dimensions' and filters'
        (a ``days_to`` one's history too), its period's date and the field it sums."""
        paths = {
            path
            for name in (*self.dimensions, *self.filters)
            for path in self.dimension(name).reads
        }
        if self.period is not None and self.period_field is not None:
            paths.add(self.period_field)
        if self.sum_field is not None:
            paths.add(self.sum_field)
        return frozenset(paths)

    @property
    def read_fields(self) -> frozenset[str]:
        """The top-level common fields the in-memory path maps: nothing else of a person."""
        return frozenset(path.split(".")[0] for path in self.read_paths)


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
    """An adapter that counts at its owner (the SQL, REST and GraphQL kinds)."""

    partner: str

    def counts(self, query: CountQuery) -> bool:
        """Whether the owner's declared aggregates answer ``query`` whole: every dimension,
        every filter, the period and the sum (else the caller counts in memory)."""
        ...

    async def count(self, query: CountQuery) -> builtins.list[CountRow]: ...


COUNT_UNAVAILABLE = "COUNT_UNAVAILABLE"
"""The failure of an owner that cannot be counted for a query: it declares no statistics
answering it, and its list cannot be counted either (it checks the principal, or the query
breaks down by a dimension read from a related record)."""


class CountUnavailable(SourceError):
    """This owner cannot answer this count: a partial answer, never a silent zero or None."""

    code = COUNT_UNAVAILABLE
    partner_fault = False


def unavailable_in_memory(
    partner: str, query: CountQuery, mapping: EntityMapping | None = None
) -> CountUnavailable | None:
    """Why ``query`` cannot be counted from ``partner``'s list (None when it can): a dimension
    read from a related record is not in the records listed, nor, when ``mapping`` (the
    partner's mapping of the entity) is given, a period field it does not map (Hub3E's
    placements hold no ``session``); counting them as None would be wrong, not partial."""
    plural = query.entity.replace("_", " ") + "s"
    names = query.pushed_only
    if names:
        return CountUnavailable(
            partner,
            f"cannot break {plural} down by {', '.join(names)}: read from a related record, "
            "which its records do not hold and its declared statistics do not count by",
        )
    dated_by = query.period_field
    if query.period is None or dated_by is None or mapping is None or _maps(mapping, dated_by):
        return None
    return CountUnavailable(
        partner,
        f"cannot select {plural} by their {dated_by}: its records do not hold it and its "
        "declared statistics do not count by it",
    )


def _maps(mapping: EntityMapping, path: str) -> bool:
    """Whether the mapping writes the common field ``path``, itself, within or around it."""
    return any(
        name == path or path.startswith(f"{name}.") or name.startswith(f"{path}.")
        for name in mapping.fields
    )


class _Declared(Protocol):
    def answers(self, query: CountQuery) -> bool: ...


DeclaredT = TypeVar("DeclaredT", bound=_Declared)


class DeclaredCounts(Generic[DeclaredT]):
    """The entities one partner counts itself, each by its declared ``aggregates`` (the SQL,
    REST and GraphQL kinds' counting hold one each)."""

    def __init__(self, entities: Mapping[str, Any], build: Callable[[str, Any], DeclaredT]) -> None:
        """``entities``: the partner's entity blocks; each one declaring ``aggregates`` is
        built into its counting with ``build(entity, block)``."""
        self._counted = {
            entity: build(entity, spec)
            for entity, spec in entities.items()
            if spec.aggregates is not None
        }

    def counts(self, query: CountQuery) -> bool:
        counted = self._counted.get(query.entity)
        return counted is not None and counted.answers(query)

    def of(self, query: CountQuery) -> DeclaredT:
        return self._counted[query.entity]


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


def counted_units(entity: str, fields: Fields) -> builtins.list[Fields]:
    """What one mapped record counts as: itself, or, for an entity of :data:`COUNTED_ITEMS`,
    one view per item of its list field (the record's fields with that one item in place of
    the list, so ``sessions.start`` reads the item's start)."""
    items_field = COUNTED_ITEMS.get(entity)
    if items_field is None:
        return [fields]
    items = fields.get(items_field)
    if not isinstance(items, builtins.list):
        return []
    return [{**fields, items_field: item} for item in items if isinstance(item, dict)]


def record_matches(query: CountQuery, fields: Fields) -> bool:
    """Whether a mapped record (or one of its counted items) is in the query's period and
    passes its filters."""
    if query.period is not None:
        assert query.period_field is not None  # CountQuery: a period needs a date to select by
        if not query.period.holds(field_at(fields, query.period_field)):
            return False
    for name, allowed in query.filters.items():
        if query.dimension(name).read(fields) not in allowed:
            return False
    return True


def record_cell(query: CountQuery, fields: Fields) -> Key:
    return tuple(query.dimension(name).read(fields) for name in query.dimensions)


def in_memory_key(secret: bytes, record: Record, item: int | None = None) -> int:
    """A record's key when its owner stores none: the HMAC of its pseudonymous reference
    (``item``: the position of the counted item in its record's list, for an entity of
    :data:`COUNTED_ITEMS`)."""
    owner = record.owner
    reference = f"{owner.partner}:{record.entity}:{owner.partner_id}"
    return record_key(secret, reference if item is None else f"{reference}#{item}")


def tally_records(
    query: CountQuery, records: Iterable[Record], secret: bytes, tally: Tally
) -> None:
    itemised = query.entity in COUNTED_ITEMS
    for record in records:
        for position, unit in enumerate(counted_units(query.entity, record.fields)):
            if not record_matches(query, unit):
                continue
            total = None
            if query.sum_field is not None:
                value = field_at(unit, query.sum_field)
                total = float(value) if isinstance(value, int | float) else 0.0
            key = in_memory_key(secret, record, position if itemised else None)
            tally.add(record_cell(query, unit), 1, total, key)


async def walk_in_memory(
    partner: str,
    query: CountQuery,
    list_call: Callable[[ListQuery], Awaitable[Page]],
    visit: Callable[[builtins.list[Record]], None],
    *,
    fields: frozenset[str] | None = None,
    page_size: int = IN_MEMORY_PAGE,
) -> None:
    """Read the partner's whole list of ``query.entity`` page by page, handing each page to
    ``visit`` and dropping it before the next is asked for. ``fields``: the top-level fields
    mapped (default :attr:`CountQuery.read_fields`). Raises :class:`CountBound` when the list
    cannot be read whole."""
    position: Any = None
    mapped = query.read_fields if fields is None else fields
    while True:
        page = await list_call(
            ListQuery(query.entity, {}, page_size, resume=position, fields=mapped)
        )
        visit(page.records)
        if page.positions is None:  # cannot resume: the one answer held everything it could
            if page.truncated:
                raise CountBound(partner, "cannot be counted whole: its list stops at max_items")
            break
        if page.exhausted or page.end == position:
            break
        position = page.end
        del page  # the next page replaces it; nothing of this one is kept


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
    the partner's deadline and breaker). Only :attr:`CountQuery.read_fields` are mapped.
    Raises :class:`CountUnavailable` before any call when the query reads a related record."""
    refused = unavailable_in_memory(partner, query)
    if refused is not None:
        raise refused
    tally = Tally(query.sum_field is not None)

    def count_page(records: builtins.list[Record]) -> None:
        tally_records(query, records, secret, tally)

    await walk_in_memory(partner, query, list_call, count_page, page_size=page_size)
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
        if dimension.field is None:
            return None  # a related record's: the owner's declaration says how to read it
        written = self.mapping.fields.get(dimension.field)
        return None if written is None else as_spec(written)

    def constant(self, dimension: Dimension) -> str | None:
        """The value every record has, when the mapping gives the field as a constant."""
        spec = self.spec(dimension)
        if spec is None or spec.path is not None or spec.const is None:
            return None
        return dimension.of(spec.const)

    def common(
        self, dimension: Dimension, raw: Any, own: Mapping[str, str] | None = None
    ) -> str | None:
        """A group's value as the common syntax has it (derived values are already so).

        ``own``: the owner's value map declared on the aggregates dimension itself (owner
        value -> common value), for a related record's value the entity's mapping cannot
        read (``"Niveau 3"`` -> ``"3"``); a value it does not list is the owner's error."""
        if raw is None:
            return None
        if own is not None:
            text = dimension.of(raw)
            if text is None:
                return None
            if text not in own:
                raise MappingError(f"a counted {dimension_name(dimension)} is not in its values")
            return own[text]
        spec = self.spec(dimension)
        if dimension.derived or dimension.field is None or spec is None or spec.path is None:
            return dimension.of(raw)
        reader = FieldReader(dimension.field, spec, self.entity, self.mapping, self._zone)
        return dimension.of(reader.read(raw_at(spec.path, raw)))

    def owner_values(
        self, dimension: Dimension, values: Sequence[str], own: Mapping[str, str] | None = None
    ) -> builtins.list[str]:
        """The owner's values whose common value is one of ``values`` (a value map may send
        several of them to one common value: all of them). ``own``: as in :meth:`common`."""
        if own is not None:
            return [raw for raw, common in own.items() if common in values]
        spec = self.spec(dimension)
        if dimension.derived or spec is None or spec.values is None:
            return builtins.list(dict.fromkeys(values))
        found: builtins.list[str] = []
        for value in values:
            found.extend(raw for raw, common in spec.values.items() if str(common) == value)
            if not spec.strict_values and value not in spec.values:
                found.append(value)  # passed through unmapped: the owner writes it so
        return builtins.list(dict.fromkeys(found))

    def excludes_everything(self, query: CountQuery) -> bool:
        """Whether a filter keeps no value this owner can hold: its field's value map is
        strict and sends none of its values to the common values kept (Hub3E has no status
        that reads ``PLACED``). The owner's count is then empty, whatever else it is asked."""
        for name, allowed in query.filters.items():
            dimension = query.dimension(name)
            spec = self.spec(dimension)
            if dimension.derived or spec is None or spec.path is None or spec.values is None:
                continue
            if spec.strict_values and not self.owner_values(dimension, allowed):
                return True
        return False


def dimension_name(dimension: Dimension) -> str:
    """How a message names what a dimension reads (a field, never a value)."""
    if dimension.related is not None:
        related = dimension.related
        return f"{related.entity.replace('_', ' ')} {related.reads}"
    return str(dimension.field)


def dimension_problem(entity: str, name: str, mapping: EntityMapping) -> str | None:
    """Why an owner cannot declare ``name`` for ``entity`` (None when it can): the dimension
    must exist, and its field be mapped, so that a group's value reads as the field does. A
    dimension read from a related record has no field here: the owner's block says where it
    reads it (a joined column, a statistics group)."""
    known = DIMENSIONS.get(entity)
    if known is None:
        return f"{entity} is not counted"
    if entity in COUNTED_ONCE:
        return f"{entity} is counted once over every owner's records (twins merged), not by owners"
    dimension = known.get(name)
    if dimension is None:
        return f"`{name}` is not a dimension of {entity} (known: {', '.join(sorted(known))})"
    if dimension.field is None:
        return None
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
    "COUNTED_ITEMS",
    "COUNTED_ONCE",
    "COUNT_UNAVAILABLE",
    "DATED_BY",
    "DIMENSIONS",
    "HISTORY",
    "IN_MEMORY_PAGE",
    "PERIOD_FIELDS",
    "SUM_FIELDS",
    "CountBound",
    "CountQuery",
    "CountRow",
    "CountUnavailable",
    "Counter",
    "DeclaredCounts",
    "Dimension",
    "Key",
    "OwnerValues",
    "Period",
    "Related",
    "Tally",
    "count_in_memory",
    "counted_units",
    "dimension_name",
    "dimension_problem",
    "in_memory_key",
    "raw_at",
    "record_cell",
    "record_matches",
    "tally_records",
    "unavailable_in_memory",
    "walk_in_memory",
]
