"""Organisation — one type, several roles (employer, training centre, OPCO...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from adapters.types import Provenance as ProvenanceRecord
from reference import identifiers
from reference.codes import naf_label
from resolvers import validation as check
from resolvers.common import Address, Provenance, text
from resolvers.cost import LIST_CALL, about, page_of
from resolvers.data_classes import holds
from resolvers.enums import Opco, OrganisationRole, member, members
from resolvers.federation import reference_id
from resolvers.ids import ORGANISATION_ID_KEYS, global_id
from resolvers.node import Node
from resolvers.pagination import PageInfo
from resolvers.selection import requested
from sources.merge import fill_missing

if TYPE_CHECKING:
    from resolvers.offer import OfferConnection
    from resolvers.training import TrainingProgramConnection


NO_PAGE = PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


@holds(DataClass.REFERENCE)
@strawberry.type(description="Naf — activité principale (NAF rév. 2).")
class Naf:
    code: str = strawberry.field(description="NAF rév. 2 code, e.g. 62.02A.")
    label: str | None = strawberry.field(description="Libellé of the NAF code.")


@holds(DataClass.PUBLIC)
@strawberry.federation.type(
    keys=["id", "siret"],
    description=(
        "Organisation — organisme / établissement. One type, several roles: employer "
        "(employeur), training centre (CFA, organisme de formation responsable / formateur), "
        "OPCO, public employment service, education authority. Contact people are PERSONAL "
        "and not exposed here."
    ),
)
class Organisation(Node):
    siret: str | None = strawberry.field(description="SIRET of the establishment (14 digits).")
    siren: str | None = strawberry.field(description="SIREN of the legal unit (9 digits).")
    uai: str | None = strawberry.field(description="UAI of a training centre (e.g. 0731549M).")
    name: str | None = strawberry.field(description="Raison sociale / dénomination.")
    trade_name: str | None = strawberry.field(description="Enseigne (trade name).")
    naf: Naf | None = strawberry.field(description="Main activity (NAF rév. 2).")
    address: Address | None = strawberry.field(description="Adresse de l'établissement.")
    opco: Opco | None = strawberry.field(description="The OPCO the employer belongs to.")
    idcc: str | None = strawberry.field(description="Collective agreement (IDCC) applied.")
    kind: str | None = strawberry.field(description="Kind of centre from the education register.")
    roles: list[OrganisationRole] = strawberry.field(description="Roles it plays here.")
    qualiopi: bool | None = strawberry.field(description="Holds the Qualiopi certification.")
    active: bool | None = strawberry.field(description="Open (not closed) in the register.")
    provenance: list[Provenance] = strawberry.field(
        description="Every source of this record.", directives=[about(3)]
    )
    record: strawberry.Private[Record]

    @strawberry.field(
        description="Offers published by this organisation (as employer).",
        directives=[LIST_CALL, page_of(20)],
    )
    async def offers(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Annotated[OfferConnection, strawberry.lazy("resolvers.offer")]:
        from resolvers.offer import OfferConnection, offers_connection

        if not self.siret:  # only an establishment (SIRET) employs
            return OfferConnection(
                edges=[], page_info=NO_PAGE, total_count=0, total_count_is_estimate=False
            )
        return await offers_connection(info, {"employerSiret": [self.siret]}, first, after, None)

    @strawberry.field(
        description="Training programmes this organisation is responsible for.",
        directives=[LIST_CALL, page_of(20)],
    )
    async def training_programs(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Annotated[TrainingProgramConnection, strawberry.lazy("resolvers.training")]:
        from resolvers.training import TrainingProgramConnection, programs_connection

        if self.uai:
            filters = {"responsibleUai": [self.uai]}
        elif self.siret:
            filters = {"responsibleSiret": [self.siret]}
        else:
            return TrainingProgramConnection(
                edges=[], page_info=NO_PAGE, total_count=0, total_count_is_estimate=False
            )
        return await programs_connection(info, filters, first, after, None)

    @classmethod
    def from_record(cls, record: Record) -> Organisation:
        fields = record.fields
        naf = fields.get("naf") or {}
        naf_code = naf.get("code") if isinstance(naf, dict) else None
        return cls(
            id=strawberry.ID(organisation_id(record)),
            siret=text(fields, "siret"),
            siren=text(fields, "siren") or (fields["siret"][:9] if text(fields, "siret") else None),
            uai=text(fields, "uai"),
            name=text(fields, "name"),
            trade_name=text(fields, "tradeName"),
            naf=Naf(code=naf_code, label=naf.get("label") or naf_label(naf_code))
            if naf_code
            else None,
            address=Address.from_fields(fields.get("address")),
            opco=member(Opco, fields.get("opco")),  # type: ignore[arg-type]
            idcc=text(fields, "idcc"),
            kind=text(fields, "kind"),
            roles=members(OrganisationRole, fields.get("roles")),  # type: ignore[arg-type]
            qualiopi=fields.get("qualiopi"),
            active=fields.get("active"),
            provenance=Provenance.of(record.provenance),
            record=record,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID | None = None, siret: str | None = None
    ) -> Organisation | None:
        """By either of its keys, ``id`` or ``siret`` (the federation schema checked that a
        representation holds exactly one)."""
        from resolvers.query import organisation_by_key, resolve_global_id

        if siret is not None:
            value = check.one("representations.siret", siret, identifiers.siret)
            return await organisation_by_key(info, "siret", value)
        found = await resolve_global_id(info, reference_id(str(id), "Organisation"))
        return found if isinstance(found, Organisation) else None


def organisation_id(record: Record) -> str:
    """One organisation, one id, whichever key or partner found it: by SIRET when it is
    known, else by UAI, else by the partner's own id."""
    fields = record.fields
    for key in ORGANISATION_ID_KEYS:
        value = fields.get(key)
        if isinstance(value, str) and value:
            return global_id("organisation", key, value)
    owner = record.owner
    return global_id("organisation", owner.partner, owner.partner_id)


def completed_by(
    found: Record, embedded: dict[str, object], provenance: list[ProvenanceRecord]
) -> Record:
    """The looked-up organisation, under what the pointing record says of it.

    One rule, whatever was selected: what the pointing record carries wins, the look-up only
    fills what it lacks. A field therefore has the same value whether or not another selected
    field made the look-up happen.
    """
    fields = _copy({k: v for k, v in embedded.items() if v not in (None, "", [], {})})
    merged = Record(found.entity, fields, list(found.provenance))
    fill_missing(merged.fields, found.fields)
    merged.provenance.extend(p for p in provenance[:1] if p not in merged.provenance)
    return merged


def _copy(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (_copy(v) if isinstance(v, dict) else v) for k, v in fields.items()}


# Fields answered without looking the organisation up: what the pointing record embeds, plus
# what the resolver derives (siren from siret, the role from where it is pointed at).
_DERIVED = frozenset({"roles", "offers", "trainingPrograms"})


def _answered_by(embedded: dict[str, object], wanted: frozenset[str]) -> bool:
    present = {k for k, v in embedded.items() if v not in (None, "", [], {})}
    if "siret" in present:
        present.add("siren")
    return wanted - _DERIVED <= present


async def organisation_for(
    info: Info, embedded: dict[str, object] | None, provenance: list[ProvenanceRecord], role: str
) -> Organisation | None:
    """The organisation a record points to: looked up by SIRET or UAI (batched per request)
    unless the pointing record already holds every field asked for, and completed with what
    the pointing record says about it."""
    if not isinstance(embedded, dict):
        return None
    wanted = requested(info)
    found: Record | None = None
    siret, uai = embedded.get("siret"), embedded.get("uai")
    if not _answered_by(embedded, wanted):
        context = info.context
        if isinstance(siret, str) and siret:
            found = await context.loader("organisation", "siret", wanted).load(siret)
        if found is None and isinstance(uai, str) and uai:
            found = await context.loader("organisation", "uai", wanted).load(uai)
    if found is None:
        if not embedded.get("name") and not siret and not uai:
            return None
        partner_id = str(siret or uai or provenance[0].partner_id)
        found = Record(
            "organisation",
            dict(embedded),
            [
                ProvenanceRecord(p.partner, partner_id, p.fetched_at, p.from_cache)
                for p in provenance[:1]
            ],
        )
    else:
        found = completed_by(found, embedded, provenance)
    roles = list(found.fields.get("roles") or [])
    if role not in roles:
        found = Record(found.entity, {**found.fields, "roles": [*roles, role]}, found.provenance)
    return Organisation.from_record(found)
