"""The real communes of Savoie (73) and Haute-Savoie (74) the simulated partners live on."""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from pathlib import Path

COMMUNES_CSV = Path(__file__).resolve().parent.parent / "reference" / "data" / "communes_73_74.csv"
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Commune:
    insee_code: str
    name: str
    departement: str
    postal_codes: tuple[str, ...]
    population: int
    latitude: float
    longitude: float


@functools.cache
def communes() -> dict[str, Commune]:
    """Every commune of 73/74 by INSEE code, in the file's order."""
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as handle:
        return {
            row["insee_code"]: Commune(
                insee_code=row["insee_code"],
                name=row["name"],
                departement=row["departement"],
                postal_codes=tuple(row["postal_codes"].split()),
                population=int(row["population"]),
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
            )
            for row in csv.DictReader(handle)
        }


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))
