"""The hub's core vocabulary, named once and imported everywhere.

Record fields are JSON-native (str, int, float, bool, None, list, dict): dates are ISO strings
(``YYYY-MM-DD``), instants are UTC ISO strings (``YYYY-MM-DDTHH:MM:SSZ``), so records cross the
shared cache with one serializer and sort lexicographically by time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Fields = dict[str, Any]


class DataClass(enum.StrEnum):
    """How a piece of data may be cached (ARCHITECTURE, principle 4)."""

    REFERENCE = "REFERENCE"  # code lists, territories: long TTL, shared
    PUBLIC = "PUBLIC"  # offers, programmes, organisations: short TTL, shared, stale-if-error
    PERSONAL = "PERSONAL"  # never in a shared cache
    AGGREGATE = "AGGREGATE"  # observatory results after disclosure control: shared


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one record comes from: the partner, the partner's own id, and when."""

    partner: str
    partner_id: str
    fetched_at: str  # UTC ISO instant
    from_cache: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"p": self.partner, "i": self.partner_id, "t": self.fetched_at, "c": self.from_cache}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Provenance:
        return cls(str(data["p"]), str(data["i"]), str(data["t"]), bool(data["c"]))


@dataclass(slots=True)
class Record:
    """One entity in the common syntax, with the provenance of every source that gave it."""

    entity: str
    fields: Fields
    provenance: list[Provenance] = field(default_factory=list)

    @property
    def owner(self) -> Provenance:
        """The first source: the one a global id and a mutation route to."""
        return self.provenance[0]

    def to_json(self) -> dict[str, Any]:
        return {"e": self.entity, "f": self.fields, "p": [p.to_json() for p in self.provenance]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        return cls(str(data["e"]), dict(data["f"]), [Provenance.from_json(p) for p in data["p"]])


@dataclass(frozen=True, slots=True)
class GeoFilter:
    latitude: float
    longitude: float
    radius_km: float


Position = Any
"""Where a partner's list stopped: JSON-native, made and read only by the adapter that made it
(a raw offset, a partner cursor and a count to skip, a keyset value). The gateway keeps one per
partner in its connection cursors and hands it back to resume right there."""


@dataclass(frozen=True, slots=True)
class SortOrder:
    """A list order in the common syntax: one field and a direction.

    Written as a token: ``publishedAt`` ascending, ``-publishedAt`` descending (the partners
    file declares which tokens a partner can sort by).
    """

    field: str
    descending: bool = False

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.field

    @classmethod
    def parse(cls, token: str) -> SortOrder:
        descending = token.startswith("-")
        name = token[1:] if descending else token
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"not a sort order: {token!r} (a field, `-` before it: descending)")
        return cls(name, descending)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the gateway asks one partner for one entity: about one page, and where to resume.

    ``filters`` uses the common filter names (see :data:`adapters.syntax.FILTERS`). An adapter
    pushes down the ones its configuration declares and applies the others itself
    (:mod:`adapters.predicates`), so that ``limit`` counts records that match every filter;
    the gateway re-applies every filter anyway, so a partner's looser filter never leaks.

    - ``limit``: the most matching records wanted from this call;
    - ``order``: one of the adapter's :meth:`~adapters.base.Adapter.orders`, or None for the
      partner's natural order;
    - ``resume``: a position from an earlier :class:`Page` (``positions[i]`` or ``end``);
      None starts at the beginning;
    - ``fields``: the top-level common-syntax fields to map (what the client selected, plus
      what the gateway filters, sorts and de-duplicates on); None maps every field.

    An adapter reads at most its ``max_items`` raw records in one call, so filters it cannot
    push down cost a bounded scan (``Page.exhausted`` stays false where it stopped).
    """

    entity: str
    filters: Mapping[str, Any]
    limit: int
    order: SortOrder | None = None
    resume: Position = None
    fields: frozenset[str] | None = None  # top-level fields to map; None: every mapped field

    def cache_key_parts(self) -> tuple[Any, ...]:
        order = self.order.token if self.order is not None else ""
        fields = tuple(sorted(self.fields)) if self.fields is not None else None
        # A position is ordered data (a keyset, a cursor and a skip): kept as its JSON text.
        resume = json.dumps(self.resume, sort_keys=True, separators=(",", ":"))
        return (self.entity, freeze(self.filters), self.limit, order, resume, fields)


@dataclass(slots=True)
class Page:
    """What one partner returned for a :class:`ListQuery`.

    ``positions[i]`` resumes right after ``records[i]``; ``end`` resumes after the last raw
    record read (matching or not), and ``exhausted`` says nothing is left after it. An adapter
    that cannot resume (pagination ``none``) leaves ``positions`` None and reads everything.
    """

    records: list[Record]
    total: int | None = None  # the partner's own count when it gives one
    truncated: bool = False  # the partner had more than this answer holds
    positions: list[Position] | None = None
    end: Position = None
    exhausted: bool = True
    total_exact: bool = False  # ``total`` counts exactly what matches every filter of the query


LookupResult = dict[str, list[Record]]
"""Records found for each looked-up key value (missing values are absent)."""


def freeze(value: Any) -> Any:
    """A hashable, order-independent form of filter values (cache and memo keys)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(sorted(freeze(v) for v in value))
    if isinstance(value, GeoFilter):
        return (value.latitude, value.longitude, value.radius_km)
    return value


def field_at(fields: Fields, dotted: str) -> Any:
    """The value at a dotted common-syntax path (``location.inseeCode``), or None."""
    value: Any = fields
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
