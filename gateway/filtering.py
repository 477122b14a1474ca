"""Filters the gateway applies itself, on common-syntax records from any partner.

Every filter is re-applied to every partner's answer: a partner's pushed-down filter is an
optimisation, never trusted, so a looser partner filter cannot leak records into a page.
Locations are completed from the reference communes first, so a partner that gives only an
INSEE code still matches ``near`` and ``departements``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.types import Fields, GeoFilter, Record
from reference.geo import distance_km
from reference.territory import commune


def complete_location(location: Fields | None) -> None:
    """Fill city, postal code and coordinates of an address from its commune, where missing."""
    if not location:
        return
    insee = location.get("inseeCode")
    if not insee:
        return
    known = commune(insee)
    if known is None:
        return
    if location.get("latitude") is None or location.get("longitude") is None:
        location["latitude"], location["longitude"] = known.latitude, known.longitude
    if not location.get("city"):
        location["city"] = known.name
    if not location.get("postalCode") and known.postal_codes:
        location["postalCode"] = known.postal_codes[0]


def departement_of(location: Fields | None) -> str | None:
    if not location:
        return None
    insee = location.get("inseeCode")
    if isinstance(insee, str) and len(insee) == 5:
        return insee[:3] if insee.startswith("97") else insee[:2]
    postal = location.get("postalCode")
    if isinstance(postal, str) and len(postal) == 5 and postal.isdigit():
        return postal[:3] if postal.startswith("97") else postal[:2]
    return None


def _get(fields: Fields, path: str) -> Any:
    value: Any = fields
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


Predicate = Callable[[Fields], bool]


def _any_in(path: str, wanted: set[Any]) -> Predicate:
    def check(fields: Fields) -> bool:
        value = _get(fields, path)
        if isinstance(value, list):
            return any(v in wanted for v in value)
        return value in wanted

    return check


def _near(path: str, geo: GeoFilter) -> Predicate:
    def check(fields: Fields) -> bool:
        location = _get(fields, path)
        if not isinstance(location, dict):
            return False
        lat, lon = location.get("latitude"), location.get("longitude")
        if lat is None or lon is None:
            return False
        return distance_km(geo.latitude, geo.longitude, lat, lon) <= geo.radius_km

    return check


def _departements(path: str, wanted: set[str]) -> Predicate:
    return lambda fields: departement_of(_get(fields, path)) in wanted


def _since(path: str, instant: str) -> Predicate:
    def check(fields: Fields) -> bool:
        value = _get(fields, path)
        return isinstance(value, str) and value >= instant

    return check


_BUILDERS: dict[str, dict[str, Callable[[Any], Predicate]]] = {
    "offer": {
        "romeCodes": lambda v: _any_in("romeCodes", set(v)),
        "departements": lambda v: _departements("location", set(v)),
        "communes": lambda v: _any_in("location.inseeCode", set(v)),
        "contractKinds": lambda v: _any_in("contractKinds", set(v)),
        "levels": lambda v: _any_in("targetLevel", set(v)),
        "near": lambda v: _near("location", v),
        "publishedSince": lambda v: _since("publishedAt", v),
        "employerSiret": lambda v: _any_in("employer.siret", set(v)),
    },
    "training_program": {
        "romeCodes": lambda v: _any_in("romeCodes", set(v)),
        "departements": lambda v: _departements("location", set(v)),
        "communes": lambda v: _any_in("location.inseeCode", set(v)),
        "levels": lambda v: _any_in("certification.level", set(v)),
        "near": lambda v: _near("location", v),
        "rncp": lambda v: _any_in("certification.rncp", set(v)),
        "responsibleUai": lambda v: _any_in("responsible.uai", set(v)),
        "responsibleSiret": lambda v: _any_in("responsible.siret", set(v)),
        "cfd": lambda v: _any_in("certification.cfd", set(v)),
    },
}

POST_MERGE_FILTERS = frozenset({"opco"})
"""Filters that need other entities (the employer's OPCO): applied by the registry."""


def predicates(entity: str, filters: Mapping[str, Any]) -> list[Predicate]:
    builders = _BUILDERS.get(entity, {})
    return [
        builders[name](value)
        for name, value in filters.items()
        if value not in (None, [], ()) and name in builders
    ]


def normalise(record: Record) -> None:
    for key in ("location", "address"):
        complete_location(record.fields.get(key))
    for key in ("employer", "responsible", "provider"):
        nested = record.fields.get(key)
        if isinstance(nested, dict):
            complete_location(nested.get("address"))


def keep(records: list[Record], checks: list[Predicate]) -> list[Record]:
    if not checks:
        return records
    return [r for r in records if all(check(r.fields) for check in checks)]
