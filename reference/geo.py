"""Distances on the sphere and the communes near a point.

Great-circle (haversine) distances on a sphere of the Earth's mean radius: within 0.5 % of the
ellipsoid, far finer than commune centres. The communes' points are converted to radians once, so
a search over the 552 communes is cheap enough for every request.

Searches skip the communes whose ``geo_precision`` is ``departement``: their point is the
département's centre (the prefecture), so they would show up beside Chambéry or Annecy while
lying in a far valley. A wrong "near" is worse than a missing one; the record keeps its point
and says how little it is worth.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from reference.territory import Commune, communes

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


@dataclass(frozen=True, slots=True)
class _Point:
    commune: Commune
    latitude: float  # radians
    longitude: float  # radians
    cos_latitude: float


@functools.cache
def _points() -> tuple[_Point, ...]:
    return tuple(
        _Point(
            item,
            math.radians(item.latitude),
            math.radians(item.longitude),
            math.cos(math.radians(item.latitude)),
        )
        for item in communes().values()
        if item.geo_precision != "departement"
    )


def _check_point(latitude: float, longitude: float) -> None:
    # Comparisons are False for NaN, so NaN fails these checks too.
    if not -90.0 <= latitude <= 90.0:
        raise ValueError("latitude must be between -90 and 90 degrees")
    if not -180.0 <= longitude <= 180.0:
        raise ValueError("longitude must be between -180 and 180 degrees")


def _haversine_km(
    lat1: float, lon1: float, cos_lat1: float, lat2: float, lon2: float, cos_lat2: float
) -> float:
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2 + cos_lat1 * cos_lat2 * math.sin((lon2 - lon1) / 2) ** 2
    )
    # min(): rounding can push the antipode's value a hair above 1.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, half_chord)))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two WGS84 points given in degrees."""
    _check_point(lat1, lon1)
    _check_point(lat2, lon2)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    return _haversine_km(
        phi1, math.radians(lon1), math.cos(phi1), phi2, math.radians(lon2), math.cos(phi2)
    )


def communes_near(
    latitude: float, longitude: float, radius_km: float
) -> list[tuple[Commune, float]]:
    """The communes whose centre lies within ``radius_km`` of the point, nearest first.

    Ties (communes sharing a postal code's point) come in INSEE code order.
    """
    _check_point(latitude, longitude)
    if not 0.0 <= radius_km < math.inf:
        raise ValueError("radius must be a finite number of km, 0 or more")
    phi = math.radians(latitude)
    lam = math.radians(longitude)
    cos_phi = math.cos(phi)
    # No point is nearer than its difference in latitude: skip those too far north or south
    # before the trigonometry.
    max_latitude_gap = radius_km / EARTH_RADIUS_KM
    found: list[tuple[Commune, float]] = []
    for point in _points():
        if abs(point.latitude - phi) > max_latitude_gap:
            continue
        km = _haversine_km(phi, lam, cos_phi, point.latitude, point.longitude, point.cos_latitude)
        if km <= radius_km:
            found.append((point.commune, km))
    found.sort(key=lambda hit: (hit[1], hit[0].insee_code))
    return found


def nearest_commune(
    latitude: float, longitude: float, max_km: float | None = None
) -> Commune | None:
    """The commune whose centre is nearest the point; None if none is within ``max_km``.

    Without ``max_km`` a point anywhere on Earth gets a commune of 73/74: pass a bound when the
    point may lie outside the territory.
    """
    _check_point(latitude, longitude)
    phi = math.radians(latitude)
    lam = math.radians(longitude)
    cos_phi = math.cos(phi)
    best: Commune | None = None
    best_km = math.inf if max_km is None else max_km
    for point in _points():
        km = _haversine_km(phi, lam, cos_phi, point.latitude, point.longitude, point.cos_latitude)
        if km < best_km or (best is None and km == best_km):
            best, best_km = point.commune, km
    return best
