"""Small shared types: points, addresses, provenance, and reading record fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from adapters.types import Fields
from adapters.types import Provenance as ProvenanceRecord

if TYPE_CHECKING:
    from resolvers.territory import Commune


def text(fields: Fields, name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) else None


def as_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def as_instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


@strawberry.type(description="GeoPoint — point géographique, WGS84 degrees.")
class GeoPoint:
    latitude: float = strawberry.field(description="Latitude in degrees (WGS84).")
    longitude: float = strawberry.field(description="Longitude in degrees (WGS84).")


@strawberry.type(description="Address — adresse: a label, a postal code, its commune, a point.")
class Address:
    label: str | None = strawberry.field(description="Free text address line (libellé).")
    postal_code: str | None = strawberry.field(description="Code postal (not an INSEE code).")
    city: str | None = strawberry.field(description="Commune name as the source wrote it.")
    insee_code: str | None = strawberry.field(description="INSEE code of the commune (COG).")
    geo: GeoPoint | None = strawberry.field(
        description="Coordinates, from the source or the commune centre."
    )

    @strawberry.field(description="The commune, from the hub's reference territory.")
    def commune(
        self,
    ) -> Annotated[Commune, strawberry.lazy("resolvers.territory")] | None:
        from resolvers.territory import commune_by_code

        return commune_by_code(self.insee_code) if self.insee_code else None

    @classmethod
    def from_fields(cls, fields: Fields | None) -> Address | None:
        if not fields:
            return None
        lat, lon = fields.get("latitude"), fields.get("longitude")
        return cls(
            label=text(fields, "label"),
            postal_code=text(fields, "postalCode"),
            city=text(fields, "city"),
            insee_code=text(fields, "inseeCode"),
            geo=GeoPoint(latitude=lat, longitude=lon)
            if lat is not None and lon is not None
            else None,
        )


@strawberry.type(description="Provenance — where a record comes from (traçabilité).")
class Provenance:
    partner: str = strawberry.field(description="Partner (source system) id, as in `partners`.")
    partner_id: str = strawberry.field(description="The record's id in the partner's own system.")
    fetched_at: datetime = strawberry.field(description="When the hub read it from the partner.")
    from_cache: bool = strawberry.field(
        description="Whether this answer came from the hub's cache."
    )

    @classmethod
    def of(cls, provenance: list[ProvenanceRecord]) -> list[Provenance]:
        return [
            cls(
                partner=p.partner,
                partner_id=p.partner_id,
                fetched_at=datetime.fromisoformat(p.fetched_at.replace("Z", "+00:00")),
                from_cache=p.from_cache,
            )
            for p in provenance
        ]
