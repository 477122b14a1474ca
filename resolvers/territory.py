"""Territory (REFERENCE): communes, départements, régions, académies — from the hub's own copy."""

from __future__ import annotations

import strawberry

from adapters.types import DataClass
from reference import territory
from resolvers.common import GeoPoint
from resolvers.data_classes import holds


@holds(DataClass.REFERENCE)
@strawberry.type(description="Region — région administrative.")
class Region:
    code: str = strawberry.field(description="INSEE code of the région, e.g. 84.")
    name: str = strawberry.field(description="Name of the région.")


@holds(DataClass.REFERENCE)
@strawberry.type(description="Academie — académie (education authority district).")
class Academie:
    code: str = strawberry.field(description="Code of the académie, e.g. 08 (Grenoble).")
    name: str = strawberry.field(description="Name of the académie.")


@holds(DataClass.REFERENCE)
@strawberry.type(description="Departement — département.")
class Departement:
    code: str = strawberry.field(description="COG code of the département, e.g. 73.")
    name: str | None = strawberry.field(description="Name, where the hub knows it.")
    region: Region | None = strawberry.field(description="Its région.")
    academie: Academie | None = strawberry.field(description="Its académie.")


@holds(DataClass.REFERENCE)
@strawberry.type(description="Commune — commune (INSEE COG), with its centre and population.")
class Commune:
    insee_code: str = strawberry.field(description="INSEE code (COG), e.g. 73065 for Chambéry.")
    name: str = strawberry.field(description="Official name of the commune.")
    postal_codes: list[str] = strawberry.field(description="Codes postaux serving the commune.")
    population: int = strawberry.field(description="Legal population (population légale).")
    siren: str = strawberry.field(description="SIREN of the commune as a legal person.")
    centre: GeoPoint = strawberry.field(
        description="Centre of the commune (approximate, see geoPrecision)."
    )
    geo_precision: str = strawberry.field(
        description="`place` (own point), `postal_code` (mean of its postal code), `departement`."
    )
    departement_code: strawberry.Private[str]

    @strawberry.field(description="The département of the commune.")
    def departement(self) -> Departement:
        found = departement_by_code(self.departement_code)
        return found or Departement(
            code=self.departement_code, name=None, region=None, academie=None
        )


def commune_by_code(insee_code: str) -> Commune | None:
    found = territory.commune(insee_code)
    if found is None:
        return None
    return Commune(
        insee_code=found.insee_code,
        name=found.name,
        postal_codes=list(found.postal_codes),
        population=found.population,
        siren=found.siren,
        centre=GeoPoint(latitude=found.latitude, longitude=found.longitude),
        geo_precision=str(found.geo_precision),
        departement_code=found.departement,
    )


def departement_by_code(code: str) -> Departement | None:
    found = territory.departement(code)
    if found is None:
        return None
    return Departement(
        code=found.code,
        name=found.name,
        region=Region(code=found.region_code, name=found.region_name),
        academie=Academie(code=found.academie_code, name=found.academie_name),
    )
