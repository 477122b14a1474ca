"""The hub's core vocabulary, named once and imported everywhere.

Record fields are JSON-native (str, int, float, bool, None, list, dict): dates are ISO strings
(``YYYY-MM-DD``), instants are UTC ISO strings (``YYYY-MM-DDTHH:MM:SSZ``), so records cross the
shared cache with one serializer and sort lexicographically by time.
"""

from __future__ import annotations

import enum
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


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the gateway asks one partner for one entity.

    ``filters`` uses the common filter names (see :data:`adapters.syntax.FILTERS`); an adapter
    pushes down the ones its configuration declares and ignores the others, and the gateway
    re-applies every filter to what comes back, so a partner's looser filter never leaks.
    ``limit`` is the most records the gateway wants from this partner.
    """

    entity: str
    filters: Mapping[str, Any]
    limit: int

    def cache_key_parts(self) -> tuple[Any, ...]:
        return (self.entity, freeze(self.filters), self.limit)


@dataclass(slots=True)
class Page:
    """What one partner returned for a :class:`ListQuery`."""

    records: list[Record]
    total: int | None = None  # the partner's own count when it gives one
    truncated: bool = False  # the partner had more than ``limit``


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
