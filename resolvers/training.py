"""TrainingProgram — formation en apprentissage, with its certification and sessions."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from reference import identifiers
from resolvers import validation as check
from resolvers.common import Address, Provenance, as_date, text
from resolvers.cost import LOOKUP, about
from resolvers.data_classes import holds
from resolvers.enums import ContractKind, Opco, member, members
from resolvers.federation import reference_id
from resolvers.ids import global_id
from resolvers.listing import list_records
from resolvers.node import Node
from resolvers.offer import NearInput, given, place_filters
from resolvers.organisation import Organisation, organisation_for
from resolvers.pagination import PageInfo


@strawberry.type(description="Certification — diplôme ou titre (RNCP fiche, code diplôme CFD).")
class Certification:
    rncp: str | None = strawberry.field(description="RNCP fiche, e.g. RNCP36629.")
    cfd: str | None = strawberry.field(description="Code formation diplôme (CFD), e.g. 50025420.")
    title: str | None = strawberry.field(description="Intitulé of the certification.")
    level: int | None = strawberry.field(description="European framework level 3..8.")
    rome_codes: list[str] = strawberry.field(description="ROME codes it leads to.")

    @classmethod
    def from_fields(cls, fields: Any) -> Certification | None:
        if not isinstance(fields, dict) or not fields:
            return None
        return cls(
            rncp=text(fields, "rncp"),
            cfd=text(fields, "cfd"),
            title=text(fields, "title"),
            level=fields.get("level"),
            rome_codes=list(fields.get("romeCodes") or []),
        )


@strawberry.type(description="Session — session de formation (a cohort with dates and places).")
class Session:
    start: date | None = strawberry.field(description="Start (date de début).")
    end: date | None = strawberry.field(description="End (date de fin).")
    capacity: int | None = strawberry.field(description="Places (capacité d'accueil).")
    enrolled: int | None = strawberry.field(description="Enrolled so far (inscrits), from the CFA.")
    recruitment_open: bool | None = strawberry.field(
        description="Recruitment open (recrutement ouvert)."
    )


@strawberry.type(description="FundingLevel — niveau de prise en charge by an OPCO.")
class FundingLevel:
    opco: Opco | None = strawberry.field(description="The OPCO paying this level.")
    amount: float | None = strawberry.field(description="Euros per year of contract.")
    valid_from: date | None = strawberry.field(description="Date d'effet.")


@holds(DataClass.PUBLIC)
@strawberry.federation.type(
    keys=["id"],
    description=(
        "TrainingProgram — formation en apprentissage, owned by the catalogue. Merged across "
        "catalogues and the centre's own system (same catalogue key, or same RNCP, responsible "
        "UAI and commune)."
    ),
)
class TrainingProgram(Node):
    title: str | None = strawberry.field(description="Intitulé de la formation.")
    description: str | None = strawberry.field(description="Contenu / objectifs de la formation.")
    certification: Certification | None = strawberry.field(
        description="The certification it prepares."
    )
    location: Address | None = strawberry.field(description="Lieu de formation.")
    contract_kinds: list[ContractKind] = strawberry.field(description="Contract natures possible.")
    duration_months: int | None = strawberry.field(description="Duration in months.")
    fully_remote: bool | None = strawberry.field(description="Entièrement à distance.")
    sessions: list[Session] = strawberry.field(
        description="Sessions, merged across sources by start date.", directives=[about(5)]
    )
    rome_codes: list[str] = strawberry.field(description="ROME codes it leads to.")
    funding_levels: list[FundingLevel] = strawberry.field(
        description="Funding levels (niveaux de prise en charge) known for its certification.",
        directives=[about(3)],
    )
    provenance: list[Provenance] = strawberry.field(
        description="Every source of this programme.", directives=[about(3)]
    )
    record: strawberry.Private[Record]

    @strawberry.field(
        description="Organisme responsable (the CFA holding the programme).", directives=[LOOKUP]
    )
    async def responsible(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info,
            self.record.fields.get("responsible"),
            self.record.provenance,
            "TRAINING_RESPONSIBLE",
        )

    @strawberry.field(
        description="Organisme formateur (where the teaching happens).", directives=[LOOKUP]
    )
    async def provider(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info, self.record.fields.get("provider"), self.record.provenance, "TRAINING_PROVIDER"
        )

    @classmethod
    def from_record(cls, record: Record) -> TrainingProgram:
        f = record.fields
        owner = record.owner
        return cls(
            id=strawberry.ID(global_id("training_program", owner.partner, owner.partner_id)),
            title=text(f, "title"),
            description=text(f, "description"),
            certification=Certification.from_fields(f.get("certification")),
            location=Address.from_fields(f.get("location")),
            contract_kinds=members(ContractKind, f.get("contractKinds")),  # type: ignore[arg-type]
            duration_months=f.get("durationMonths"),
            fully_remote=f.get("fullyRemote"),
            sessions=[
                Session(
                    start=as_date(s.get("start")),
                    end=as_date(s.get("end")),
                    capacity=s.get("capacity"),
                    enrolled=s.get("enrolled"),
                    recruitment_open=s.get("recruitmentOpen"),
                )
                for s in f.get("sessions") or []
            ],
            rome_codes=list(f.get("romeCodes") or []),
            funding_levels=[
                FundingLevel(
                    opco=member(Opco, x.get("opco")),  # type: ignore[arg-type]
                    amount=x.get("amount"),
                    valid_from=as_date(x.get("validFrom")),
                )
                for x in f.get("fundingLevels") or []
            ],
            provenance=Provenance.of(record.provenance),
            record=record,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> TrainingProgram | None:
        from resolvers.query import resolve_global_id

        found = await resolve_global_id(info, reference_id(id, "TrainingProgram"))
        return found if isinstance(found, TrainingProgram) else None


@strawberry.input(description="TrainingFilter — every filter is optional; all given ones apply.")
class TrainingFilter:
    near: NearInput | None = strawberry.field(default=None, description="Around a point.")
    departements: list[str] | None = strawberry.field(default=None, description='e.g. ["74"]')
    communes: list[str] | None = strawberry.field(default=None, description="INSEE codes")
    rome_codes: list[str] | None = strawberry.field(default=None, description="ROME codes")
    levels: list[int] | None = strawberry.field(default=None, description="3..8")
    rncp: list[str] | None = strawberry.field(default=None, description="RNCP fiches.")
    responsible_uai: list[str] | None = strawberry.field(
        default=None, description="UAI of the CFA."
    )
    sources: list[str] | None = strawberry.field(
        default=None, description="Only these partners (ids as in `partners`)."
    )


@strawberry.type(description="A training programme and its cursor.")
class TrainingProgramEdge:
    cursor: str = strawberry.field(description="Opaque keyset cursor of this programme.")
    node: TrainingProgram = strawberry.field(description="The training programme.")


@strawberry.type(description="A page of training programmes (Relay connection).")
class TrainingProgramConnection:
    edges: list[TrainingProgramEdge] = strawberry.field(description="Programmes of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is.")
    total_count: int | None = strawberry.field(
        description=(
            "Programmes matching the filter: the partners' own totals minus the duplicates "
            "seen, null when a partner gives no total or did not answer."
        )
    )
    total_count_is_estimate: bool = strawberry.field(
        description=(
            "True when totalCount is an estimate: several partners (duplicates between them "
            "are counted once only where seen), or a filter a partner could not apply itself."
        )
    )


def training_filters(flt: TrainingFilter | None) -> tuple[dict[str, Any], list[str] | None]:
    if flt is None:
        return {}, None
    filters = {
        **place_filters(flt),
        "rncp": check.many("filter.rncp", flt.rncp, identifiers.rncp),
        "responsibleUai": check.many("filter.responsibleUai", flt.responsible_uai, identifiers.uai),
    }
    return given(filters), flt.sources


async def programs_connection(
    info: Info,
    filters: dict[str, Any],
    first: int,
    after: str | None,
    sources: list[str] | None,
) -> TrainingProgramConnection:
    listed = await list_records(info, "training_program", filters, first, after, sources)
    return TrainingProgramConnection(
        edges=[
            TrainingProgramEdge(cursor=c, node=TrainingProgram.from_record(r))
            for c, r in listed.items
        ],
        page_info=listed.page_info,
        total_count=listed.total_count,
        total_count_is_estimate=listed.total_count_is_estimate,
    )
