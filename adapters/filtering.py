"""Filters applied to common-syntax records from any partner, by the adapters and the gateway.

Every filter is re-applied to every partner's answer: a partner's pushed-down filter is an
optimisation, never trusted, so a looser partner filter cannot leak records into a page.
Locations are completed from the reference communes first, so a partner that gives only an
INSEE code still matches ``near`` and ``departements``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.predicates import Predicate, predicates
from adapters.types import Fields, Record
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


def matcher(entity: str, filters: Mapping[str, Any]) -> Callable[[Record], bool]:
    """One test for "does this freshly mapped record match every filter?".

    The record's locations are completed from the reference communes first (in place), so a
    partner giving only an INSEE code still matches ``near`` and ``departements``. Adapters use
    it to count matching records towards ``ListQuery.limit``.
    """
    checks = predicates(entity, filters)

    def matches(record: Record) -> bool:
        normalise(record)
        return all(check(record.fields) for check in checks)

    return matches


__all__ = ["complete_location", "keep", "matcher", "normalise", "predicates"]
