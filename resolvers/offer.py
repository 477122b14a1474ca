"""Offer — offre d'emploi en alternance, merged across the partners that publish it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, GeoFilter, Record
from reference import identifiers
from reference.codes import rome_label
from resolvers import validation as check
from resolvers.common import Address, Provenance, as_date, as_instant, text
from resolvers.cost import LOOKUP, about
from resolvers.data_classes import holds
from resolvers.enums import ContractKind, OfferStatus, Opco, RemoteMode, member, members
from resolvers.federation import reference_id
from resolvers.ids import global_id
from resolvers.listing import list_records
from resolvers.node import Node
from resolvers.organisation import Organisation, organisation_for
from resolvers.pagination import PageInfo


@holds(DataClass.REFERENCE)
@strawberry.type(description="Occupation — métier (ROME 4.0 fiche).")
class Occupation:
    rome_code: str = strawberry.field(description="ROME code, e.g. G1602.")
    label: str | None = strawberry.field(description="ROME label (intitulé).")


@holds(DataClass.PUBLIC)
@strawberry.federation.type(
    keys=["id"],
    description=(
        "Offer — offre d'emploi en alternance (apprentissage or professionnalisation), owned "
        "by its publisher. The same offer published by several partners appears once, with "
        "one provenance entry per source."
    ),
)
class Offer(Node):
    title: str | None = strawberry.field(description="Intitulé de l'offre.")
    description: str | None = strawberry.field(description="Description of the job and company.")
    rome_codes: list[str] = strawberry.field(description="ROME codes of the job.")
    occupations: list[Occupation] = strawberry.field(
        description="Métiers: ROME codes with labels.", directives=[about(3)]
    )
    contract_kinds: list[ContractKind] = strawberry.field(description="Contract natures offered.")
    target_level: int | None = strawberry.field(description="Targeted diploma level (3..8).")
    start_date: date | None = strawberry.field(description="Expected start of the contract.")
    duration_months: int | None = strawberry.field(description="Contract duration in months.")
    positions: int | None = strawberry.field(description="Number of positions (nombre de postes).")
    status: OfferStatus | None = strawberry.field(description="État de l'offre.")
    published_at: datetime | None = strawberry.field(description="Date de publication.")
    expires_at: datetime | None = strawberry.field(description="Date d'expiration.")
    location: Address | None = strawberry.field(description="Lieu de travail.")
    remote: RemoteMode | None = strawberry.field(description="Télétravail.")
    apply_url: str | None = strawberry.field(description="Where to apply (URL at the publisher).")
    accessible_to_disabled_workers: bool | None = strawberry.field(
        description="Open to workers with a recognised disability (accessible TH)."
    )
    provenance: list[Provenance] = strawberry.field(
        description="Every partner that published this offer, the owner first.",
        directives=[about(3)],
    )
    record: strawberry.Private[Record]

    @strawberry.field(
        description="The employer, resolved by SIRET (batched per page).", directives=[LOOKUP]
    )
    async def employer(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info, self.record.fields.get("employer"), self.record.provenance, "EMPLOYER"
        )

    @classmethod
    def from_record(cls, record: Record) -> Offer:
        f = record.fields
        owner = record.owner
        romes = f.get("romeCodes") or []
        occupations = f.get("occupations") or [{"romeCode": code} for code in romes]
        return cls(
            id=strawberry.ID(global_id("offer", owner.partner, owner.partner_id)),
            title=text(f, "title"),
            description=text(f, "description"),
            rome_codes=list(romes),
            occupations=[
                Occupation(
                    rome_code=o["romeCode"], label=o.get("label") or rome_label(o["romeCode"])
                )
                for o in occupations
                if isinstance(o, dict) and o.get("romeCode")
            ],
            contract_kinds=members(ContractKind, f.get("contractKinds")),  # type: ignore[arg-type]
            target_level=f.get("targetLevel"),
            start_date=as_date(f.get("startDate")),
            duration_months=f.get("durationMonths"),
            positions=f.get("positions"),
            status=member(OfferStatus, f.get("status")),  # type: ignore[arg-type]
            published_at=as_instant(f.get("publishedAt")),
            expires_at=as_instant(f.get("expiresAt")),
            location=Address.from_fields(f.get("location")),
            remote=member(RemoteMode, f.get("remote")),  # type: ignore[arg-type]
            apply_url=text(f, "applyUrl"),
            accessible_to_disabled_workers=f.get("accessibleToDisabledWorkers"),
            provenance=Provenance.of(record.provenance),
            record=record,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Offer | None:
        from resolvers.query import resolve_global_id

        found = await resolve_global_id(info, reference_id(id, "Offer"))
        return found if isinstance(found, Offer) else None


@strawberry.input(description="GeoFilter — around a point.")
class NearInput:
    latitude: float = strawberry.field(description="Latitude of the centre (WGS84).")
    longitude: float = strawberry.field(description="Longitude of the centre (WGS84).")
    radius_km: float = strawberry.field(default=30.0, description="0..200 km, default 30.")


@strawberry.input(description="OfferFilter — every filter is optional; all given ones apply.")
class OfferFilter:
    near: NearInput | None = strawberry.field(default=None, description="Around a point.")
    departements: list[str] | None = strawberry.field(default=None, description='e.g. ["73"]')
    communes: list[str] | None = strawberry.field(default=None, description="INSEE codes")
    rome_codes: list[str] | None = strawberry.field(default=None, description='e.g. ["G1602"]')
    contract_kinds: list[ContractKind] | None = strawberry.field(
        default=None, description="Contract natures."
    )
    levels: list[int] | None = strawberry.field(default=None, description="3..8")
    opco: Opco | None = strawberry.field(default=None, description="The employer's OPCO.")
    published_since: datetime | None = strawberry.field(
        default=None, description="Published at or after this instant."
    )
    sources: list[str] | None = strawberry.field(
        default=None, description="Only these partners (ids as in `partners`)."
    )


@strawberry.type(description="An offer and its cursor.")
class OfferEdge:
    cursor: str = strawberry.field(description="Opaque keyset cursor of this offer.")
    node: Offer = strawberry.field(description="The offer.")


@strawberry.type(description="A page of offers (Relay connection).")
class OfferConnection:
    edges: list[OfferEdge] = strawberry.field(description="Offers of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is.")
    total_count: int | None = strawberry.field(
        description=(
            "Offers matching the filter: the partners' own totals minus the duplicates seen, "
            "null when a partner gives no total or did not answer."
        )
    )
    total_count_is_estimate: bool = strawberry.field(
        description=(
            "True when totalCount is an estimate: several partners (duplicates between them "
            "are counted once only where seen), or a filter a partner could not apply itself."
        )
    )


def near_filter(near: NearInput | None) -> GeoFilter | None:
    if near is None:
        return None
    return GeoFilter(
        check.coordinate("filter.near.latitude", near.latitude, 90),
        check.coordinate("filter.near.longitude", near.longitude, 180),
        check.radius("filter.near.radiusKm", near.radius_km),
    )


class PlaceFilter(Protocol):
    """The filters every list shares: where, and which occupations and levels."""

    near: NearInput | None
    departements: list[str] | None
    communes: list[str] | None
    rome_codes: list[str] | None
    levels: list[int] | None


def place_filters(flt: PlaceFilter) -> dict[str, Any]:
    return {
        "near": near_filter(flt.near),
        "departements": check.many(
            "filter.departements", flt.departements, identifiers.departement
        ),
        "communes": check.many("filter.communes", flt.communes, identifiers.insee_commune),
        "romeCodes": check.many("filter.romeCodes", flt.rome_codes, identifiers.rome),
        "levels": check.levels("filter.levels", flt.levels),
    }


def given(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v not in (None, [])}


def offer_filters(flt: OfferFilter | None) -> tuple[dict[str, Any], list[str] | None]:
    if flt is None:
        return {}, None
    filters = {
        **place_filters(flt),
        "contractKinds": [k.value for k in flt.contract_kinds or []],
        "opco": flt.opco.value if flt.opco else None,
        "publishedSince": check.instant("filter.publishedSince", flt.published_since),
    }
    return given(filters), flt.sources


async def offers_connection(
    info: Info,
    filters: dict[str, Any],
    first: int,
    after: str | None,
    sources: list[str] | None,
) -> OfferConnection:
    listed = await list_records(info, "offer", filters, first, after, sources)
    return OfferConnection(
        edges=[OfferEdge(cursor=c, node=Offer.from_record(r)) for c, r in listed.items],
        page_info=listed.page_info,
        total_count=listed.total_count,
        total_count_is_estimate=listed.total_count_is_estimate,
    )
