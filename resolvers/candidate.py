"""Candidate — candidat / apprenti, owned by the training centre that holds the file."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from adapters.types import DataClass, Record
from identity.principal import Role
from resolvers.application import ApplicationConnection, application_connection
from resolvers.common import Provenance, as_date, text
from resolvers.contract import ContractConnection, contract_connection
from resolvers.cost import LIST_CALL, LOOKUP, about, page_of
from resolvers.data_classes import holds
from resolvers.follow_up import FollowUpConnection, follow_up_connection
from resolvers.ids import global_id
from resolvers.node import Node
from resolvers.organisation import Organisation, organisation_for
from resolvers.personal import Facts, note_read, nothing, personal_page, principal_of, visible
from resolvers.territory import Commune, commune_by_code
from sources import policy


@holds(DataClass.PERSONAL)
@strawberry.type(
    description=(
        "Candidate — candidat / apprenti, owned by the training centre that holds the file. "
        "Never carried: the social security number (NIR) and disability (RQTH, health data)."
    )
)
class Candidate(Node):
    first_name: str | None = strawberry.field(description="Prénom.")
    last_name: str | None = strawberry.field(description="Nom.")
    birth_date: date | None = strawberry.field(description="Date de naissance.")
    email: str | None = strawberry.field(description="Courriel.")
    phone: str | None = strawberry.field(description="Téléphone.")
    highest_diploma: str | None = strawberry.field(description="Plus haut diplôme obtenu.")
    target_rome_codes: list[str] = strawberry.field(description="Métiers visés (ROME codes).")
    provenance: list[Provenance] = strawberry.field(
        description="Every owner that knows this person, the file's holder first.",
        directives=[about(2)],
    )
    record: strawberry.Private[Record]

    @strawberry.field(description="Where the candidate lives.")
    def commune(self) -> Commune | None:
        code = (self.record.fields.get("commune") or {}).get("inseeCode")
        return commune_by_code(code) if isinstance(code, str) and code else None

    @strawberry.field(description="The training centre holding the file.", directives=[LOOKUP])
    async def training_centre(self, info: Info) -> Organisation | None:
        return await organisation_for(
            info,
            self.record.fields.get("trainingCentre"),
            self.record.provenance,
            "TRAINING_RESPONSIBLE",
        )

    @strawberry.field(
        description="This candidate's applications (candidatures).",
        directives=[LIST_CALL, page_of(20)],
    )
    async def applications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ApplicationConnection:
        listed = await personal_page(
            info, "application", self._own(), first, after, partners=self._owner()
        )
        return application_connection(info, listed)

    @strawberry.field(
        description="This candidate's contracts (by the INE of the file).",
        directives=[LIST_CALL, page_of(20)],
    )
    async def contracts(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ContractConnection:
        return await contracts_of(info, self.record, first, after)

    @strawberry.field(
        description="This candidate's follow-up (suivi), as far as you may read it.",
        directives=[LIST_CALL, page_of(20)],
    )
    async def follow_ups(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> FollowUpConnection:
        listed = await personal_page(
            info, "follow_up", self._own(), first, after, partners=self._owner()
        )
        return follow_up_connection(info, listed)

    def _owner(self) -> list[str]:
        """Candidate ids are the owner's own: its records are asked of it alone."""
        return [self.record.owner.partner]

    def _own(self) -> dict[str, object]:
        """The filters of this candidate's records at the owner of the file."""
        return {
            "candidateId": [self.record.owner.partner_id],
            "trainingCentre": _centre_keys(self.record),
        }

    @classmethod
    def from_record(cls, info: Info, record: Record) -> Candidate:
        f = visible(info, "candidate", record.fields)
        owner = record.owner
        return cls(
            id=strawberry.ID(global_id("candidate", owner.partner, owner.partner_id)),
            first_name=text(f, "firstName"),
            last_name=text(f, "lastName"),
            birth_date=as_date(f.get("birthDate")),
            email=text(f, "email"),
            phone=text(f, "phone"),
            highest_diploma=text(f, "highestDiploma"),
            target_rome_codes=list(f.get("targetRomeCodes") or []),
            provenance=Provenance.of(record.provenance),
            record=record,
        )


async def contracts_of(
    info: Info, candidate: Record, first: int, after: str | None
) -> ContractConnection:
    """The contracts of a candidate's person, found by the INE of the file."""
    ine = candidate.fields.get("ine")
    facts = Facts(ine=ine if isinstance(ine, str) and ine else None)
    if facts.ine is None:  # contracts name their apprentice by INE: none to find
        return contract_connection(info, nothing())
    filters = {"apprenticeIne": [facts.ine]}
    listed = await personal_page(info, "contract", filters, first, after, facts)
    return contract_connection(info, listed)


async def own_candidate(info: Info) -> Record | None:
    """A CANDIDATE principal's own file (the policy's row rule: its id at its centre)."""
    listed = await personal_page(info, "candidate", {}, 1, None, whole=True)
    return listed.items[0][1] if listed.items else None


def _centre_keys(record: Record) -> list[str]:
    centre = record.fields.get("trainingCentre") or {}
    return [v for v in (centre.get("uai"), centre.get("siret")) if isinstance(v, str) and v]


async def candidate_of_application(info: Info, application: Record) -> Candidate | None:
    """The candidate of an application the principal may see, at the application's owner.

    An employer sees a candidate only this way (through an application addressed to it),
    without the fields its role never receives."""
    pointer = application.fields.get("candidate") or {}
    candidate_id = pointer.get("id") if isinstance(pointer, dict) else None
    owner = application.owner.partner
    source = info.context.registry.source(owner)
    if not candidate_id or source is None or "candidate" not in source.adapter.entities():
        return None
    found = await info.context.loader("candidate", "id", None, owner).load(str(candidate_id))
    if found is None:
        return None
    principal = principal_of(info)
    reached_through_application = principal is not None and principal.role is Role.EMPLOYER
    if not reached_through_application and not policy.permits(principal, "candidate", found.fields):
        return None
    note_read(info, "candidate", [found])
    return Candidate.from_record(info, found)
