"""What each common filter means, as a predicate on common-syntax fields: defined once.

The gateway re-applies every filter to every partner's answer with these predicates, and an
adapter that filters in memory (a feed's snapshot) uses the same ones, so a filter means the
same thing wherever it runs. A location without coordinates is placed at its commune's centre.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from adapters.mapping import to_instant
from adapters.types import Fields, GeoFilter, field_at
from reference.geo import distance_km
from reference.territory import commune

Predicate = Callable[[Fields], bool]


def _any_in(path: str, wanted: set[Any]) -> Predicate:
    def check(fields: Fields) -> bool:
        value = field_at(fields, path)
        if isinstance(value, list):
            return any(v in wanted for v in value)
        return value in wanted

    return check


def _departement(location: Any) -> str | None:
    if not isinstance(location, dict):
        return None
    for code in (location.get("inseeCode"), location.get("postalCode")):
        if isinstance(code, str) and len(code) == 5:
            return code[:3] if code.startswith("97") else code[:2]
    return None


def _departements(path: str, wanted: set[str]) -> Predicate:
    return lambda fields: _departement(field_at(fields, path)) in wanted


def _point(location: Any) -> tuple[float, float] | None:
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    insee = location.get("inseeCode")
    known = commune(insee) if isinstance(insee, str) else None
    return None if known is None else (known.latitude, known.longitude)


def _geo(value: Any) -> GeoFilter:
    if isinstance(value, GeoFilter):
        return value
    radius = value.get("radius_km", value.get("radiusKm"))
    return GeoFilter(float(value["latitude"]), float(value["longitude"]), float(radius))


def _near(path: str, value: Any) -> Predicate:
    geo = _geo(value)

    def check(fields: Fields) -> bool:
        point = _point(field_at(fields, path))
        if point is None:
            return False
        try:
            return distance_km(geo.latitude, geo.longitude, *point) <= geo.radius_km
        except ValueError:  # a partner's coordinates off the globe match nothing
            return False

    return check


def _centre(wanted: set[str]) -> Predicate:
    """The record's training centre is one of ``wanted`` (each a UAI or a SIRET)."""

    def check(fields: Fields) -> bool:
        return any(field_at(fields, f"trainingCentre.{key}") in wanted for key in ("uai", "siret"))

    return check


def _since(path: str, value: Any) -> Predicate:
    instant = to_instant(value) if isinstance(value, datetime) else str(value)

    def check(fields: Fields) -> bool:
        found = field_at(fields, path)
        return isinstance(found, str) and found >= instant

    return check


FILTER_PREDICATES: dict[str, dict[str, Callable[[Any], Predicate]]] = {
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
    "organisation": {},
    "candidate": {
        "trainingCentre": lambda v: _centre(set(v)),
        "ids": lambda v: _any_in("id", set(v)),
    },
    "application": {
        "trainingCentre": lambda v: _centre(set(v)),
        "candidateId": lambda v: _any_in("candidate.id", set(v)),
        "employerSiret": lambda v: _any_in("employer.siret", set(v)),
        "status": lambda v: _any_in("status", set(v)),
    },
    "contract": {
        "trainingCentre": lambda v: _centre(set(v)),
        "employerSiret": lambda v: _any_in("employer.siret", set(v)),
        "opco": lambda v: _any_in("funding.opco", {v}),
        "apprenticeIne": lambda v: _any_in("apprentice.ine", set(v)),
        "status": lambda v: _any_in("status", set(v)),
    },
    "follow_up": {
        "trainingCentre": lambda v: _centre(set(v)),
        "candidateId": lambda v: _any_in("candidate.id", set(v)),
        "visibility": lambda v: _any_in("visibility", set(v)),
    },
}
"""Every common filter the hub knows, per entity, as a predicate on a record's fields."""

FILTER_FIELDS: dict[str, dict[str, str]] = {
    "offer": {
        "romeCodes": "romeCodes",
        "departements": "location",
        "communes": "location",
        "contractKinds": "contractKinds",
        "levels": "targetLevel",
        "near": "location",
        "publishedSince": "publishedAt",
        "employerSiret": "employer",
        "opco": "employer",  # the employer's OPCO: read through the employer's SIRET
    },
    "training_program": {
        "romeCodes": "romeCodes",
        "departements": "location",
        "communes": "location",
        "levels": "certification",
        "near": "location",
        "rncp": "certification",
        "responsibleUai": "responsible",
        "responsibleSiret": "responsible",
        "cfd": "certification",
    },
    "organisation": {},
    "candidate": {"trainingCentre": "trainingCentre", "ids": "id"},
    "application": {
        "trainingCentre": "trainingCentre",
        "candidateId": "candidate",
        "employerSiret": "employer",
        "status": "status",
    },
    "contract": {
        "trainingCentre": "trainingCentre",
        "employerSiret": "employer",
        "opco": "funding",
        "apprenticeIne": "apprentice",
        "status": "status",
    },
    "follow_up": {
        "trainingCentre": "trainingCentre",
        "candidateId": "candidate",
        "visibility": "visibility",
    },
}
"""The top-level field each filter reads: mapped for every record a partner returns."""


def predicates(entity: str, filters: Mapping[str, Any]) -> list[Predicate]:
    builders = FILTER_PREDICATES.get(entity, {})
    return [
        builders[name](value)
        for name, value in filters.items()
        if name in builders and value not in (None, [], (), "")
    ]
