"""Contract — contrat d'apprentissage (CERFA FA13 / DECA), owned by the OPCO and the employer."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from resolvers.common import Provenance, as_date, text
from resolvers.cost import LOOKUP, about
from resolvers.data_classes import holds
from resolvers.enums import (
    ContractKind,
    ContractStatus,
    FundingDecision,
    Opco,
    member,
)
from resolvers.ids import global_id
from resolvers.listing import Listed
from resolvers.node import Node
from resolvers.organisation import Organisation, organisation_for
from resolvers.pagination import PageInfo
from resolvers.personal import visible


@strawberry.type(description="The apprentice as the contract names them (alternant).")
class Apprentice:
    first_name: str | None = strawberry.field(description="Prénom.")
    last_name: str | None = strawberry.field(description="Nom.")
    birth_date: date | None = strawberry.field(description="Date de naissance.")
    email: str | None = strawberry.field(description="Courriel.")


@strawberry.type(description="Rupture — early end of a contract.")
class Rupture:
    date: date | None = strawberry.field(description="Date d'effet.")
    cause: str | None = strawberry.field(description="Motif.")


@strawberry.type(description="Funding — prise en charge by the OPCO.")
class Funding:
    opco: Opco | None = strawberry.field(description="The OPCO funding the contract.")
    decision: FundingDecision | None = strawberry.field(description="Its decision.")
    decided_at: date | None = strawberry.field(description="When it decided.")


@strawberry.type(description="The certification a contract prepares.")
class ContractCertification:
    cfd: str | None = strawberry.field(description="Code diplôme (CFD).")
    rncp: str | None = strawberry.field(description="RNCP code.")
    title: str | None = strawberry.field(description="Intitulé.")


@holds(DataClass.PERSONAL)
@strawberry.type(
    description=(
        "Contract — contrat d'apprentissage (CERFA FA13, DECA number), owned by the OPCO that "
        "funds it and the employer: apprentice, employer, training centre, dates, status, "
        "rupture, funding decision."
    )
)
class Contract(Node):
    deca_number: str | None = strawberry.field(description="Numéro DECA.")
    kind: ContractKind | None = strawberry.field(description="Nature du contrat.")
    apprentice: Apprentice | None = strawberry.field(description="The apprentice (alternant).")
    certification: ContractCertification | None = strawberry.field(
        description="What the contract prepares."
    )
    signed_at: date | None = strawberry.field(description="Date de conclusion.")
    start_date: date | None = strawberry.field(description="Début d'exécution.")
    end_date: date | None = strawberry.field(description="Fin d'exécution.")
    status: ContractStatus | None = strawberry.field(description="État du contrat.")
    rupture: Rupture | None = strawberry.field(description="The rupture, if it was broken.")
    funding: Funding | None = strawberry.field(description="The OPCO's funding decision.")
    provenance: list[Provenance] = strawberry.field(
        description="The owner of this contract.", directives=[about(1)]
    )
    record: strawberry.Private[Record]

    @strawberry.field(description="The employer (by SIRET).", directives=[LOOKUP])
    async def employer(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info, self.record.fields.get("employer"), self.record.provenance, "EMPLOYER"
        )

    @strawberry.field(description="The training centre (by UAI or SIRET).", directives=[LOOKUP])
    async def training_centre(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info,
            self.record.fields.get("trainingCentre"),
            self.record.provenance,
            "TRAINING_RESPONSIBLE",
        )

    @classmethod
    def from_record(cls, info: Info, record: Record) -> Contract:
        f = visible(info, "contract", record.fields)
        owner = record.owner
        person, cert = _part(f, "apprentice"), _part(f, "certification")
        rupture, funding = _part(f, "rupture"), _part(f, "funding")
        return cls(
            id=strawberry.ID(global_id("contract", owner.partner, owner.partner_id)),
            deca_number=text(f, "decaNumber"),
            kind=member(ContractKind, f.get("kind")),  # type: ignore[arg-type]
            apprentice=Apprentice(
                first_name=text(person, "firstName"),
                last_name=text(person, "lastName"),
                birth_date=as_date(person.get("birthDate")),
                email=text(person, "email"),
            )
            if person
            else None,
            certification=ContractCertification(
                cfd=text(cert, "cfd"), rncp=text(cert, "rncp"), title=text(cert, "title")
            )
            if cert
            else None,
            signed_at=as_date(f.get("signedAt")),
            start_date=as_date(f.get("startDate")),
            end_date=as_date(f.get("endDate")),
            status=member(ContractStatus, f.get("status")),  # type: ignore[arg-type]
            rupture=Rupture(date=as_date(rupture.get("date")), cause=text(rupture, "cause"))
            if rupture.get("date") or rupture.get("cause")
            else None,
            funding=Funding(
                opco=member(Opco, funding.get("opco")),  # type: ignore[arg-type]
                decision=member(FundingDecision, funding.get("decision")),  # type: ignore[arg-type]
                decided_at=as_date(funding.get("decidedAt")),
            )
            if funding
            else None,
            provenance=Provenance.of(record.provenance),
            record=record,
        )


def _part(fields: dict[str, object], name: str) -> dict[str, object]:
    value = fields.get(name)
    return value if isinstance(value, dict) else {}


@strawberry.input(description="ContractFilter — which contracts.")
class ContractFilter:
    statuses: list[ContractStatus] | None = strawberry.field(
        default=None, description="Only contracts in one of these states."
    )


@strawberry.type(description="A contract and its cursor.")
class ContractEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this contract.")
    node: Contract = strawberry.field(description="The contract.")


@strawberry.type(description="A page of contracts (Relay connection).")
class ContractConnection:
    edges: list[ContractEdge] = strawberry.field(description="Contracts of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page is.")
    total_count: int | None = strawberry.field(description="Contracts you may see, when known.")


def contract_connection(info: Info, listed: Listed) -> ContractConnection:
    return ContractConnection(
        edges=[ContractEdge(cursor=c, node=Contract.from_record(info, r)) for c, r in listed.items],
        page_info=listed.page_info,
        total_count=listed.total_count,
    )
