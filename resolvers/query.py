"""The query root of the common syntax."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.syntax import PERSONAL_ENTITIES
from reference import identifiers
from resolvers import probes
from resolvers import validation as check
from resolvers.application import (
    Application,
    ApplicationConnection,
    ApplicationFilter,
    application_connection,
)
from resolvers.audit import AccessPage, AuditEventFilter, AuditPage, audit_events, my_access_log
from resolvers.candidate import Candidate, contracts_of, own_candidate
from resolvers.contract import Contract, ContractConnection, ContractFilter, contract_connection
from resolvers.cost import LIST_CALL, LOOKUP, PROBE, about, page_of
from resolvers.dossier import Dossier, dossier_of
from resolvers.errors import BadUserInput
from resolvers.follow_up import FollowUpEvent
from resolvers.ids import ORGANISATION_ID_KEYS, GlobalId, decode_global_id
from resolvers.indicators import (
    MAX_CODES,
    Dimension,
    IndicatorCode,
    IndicatorDefinition,
    IndicatorResult,
    MonthPeriodInput,
    TerritoryInput,
    indicator_catalogue,
    resolve_indicators,
)
from resolvers.me import Me, resolve_me
from resolvers.node import Node
from resolvers.offer import Offer, OfferConnection, OfferFilter, offer_filters, offers_connection
from resolvers.organisation import Organisation
from resolvers.partners import PartnerStatus, partner_statuses
from resolvers.personal import nothing, personal_page, personal_record
from resolvers.selection import requested
from resolvers.territory import Commune, Departement, commune_by_code, departement_by_code
from resolvers.training import (
    Certification,
    TrainingFilter,
    TrainingProgram,
    TrainingProgramConnection,
    programs_connection,
    training_filters,
)


async def resolve_node(info: Info, id: str, argument: str = "id") -> Node | None:
    """Route a global id straight to its owner: no central index. Look-ups go through the
    request's DataLoaders, so many ids of one partner (aliases, ``_entities``) are one
    batched call per partner and key."""
    return await resolve_global_id(info, decode_global_id(id, argument))


async def resolve_global_id(info: Info, gid: GlobalId) -> Node | None:
    if gid.entity == "organisation" and gid.partner in ORGANISATION_ID_KEYS:
        return await organisation_by_key(info, gid.partner, gid.partner_id)
    context = info.context
    if context.registry.source(gid.partner) is None:
        return None
    if gid.entity in PERSONAL_ENTITIES:
        return await personal_node(info, gid)
    record = await context.loader(gid.entity, "id", None, gid.partner).load(gid.partner_id)
    if record is None:
        return None
    builders = {"offer": Offer, "training_program": TrainingProgram, "organisation": Organisation}
    return builders[gid.entity].from_record(record)  # type: ignore[attr-defined, no-any-return]


async def personal_node(info: Info, gid: GlobalId) -> Node | None:
    """A personal record by its id, through the policy (a forbidden one is a missing one)."""
    record = await personal_record(info, gid)
    if record is None:
        return None
    builders: dict[str, Any] = {
        "candidate": Candidate,
        "application": Application,
        "contract": Contract,
        "follow_up": FollowUpEvent,
    }
    node: Node = builders[gid.entity].from_record(info, record)
    return node


async def organisation_by_key(info: Info, key: str, value: str) -> Organisation | None:
    """The organisation of a SIRET or a UAI, or None; a value no organisation can have is
    never sent to a partner."""
    validate = identifiers.siret if key == "siret" else identifiers.uai
    try:
        value = validate(value)
    except ValueError:
        return None
    record = await info.context.loader("organisation", key).load(value)
    return Organisation.from_record(record) if record is not None else None


@strawberry.type(description="Query — the public half of the common syntax.")
class Query:
    @strawberry.field(
        description="Alternance job offers (offres), merged across publishers.",
        directives=[LIST_CALL, page_of(20)],
    )
    async def offers(
        self,
        info: Info,
        filter: OfferFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OfferConnection:
        filters, sources = offer_filters(filter)
        return await offers_connection(info, filters, first, after, sources)

    @strawberry.field(
        description="Apprenticeship training programmes (formations).",
        directives=[LIST_CALL, page_of(20)],
    )
    async def training_programs(
        self,
        info: Info,
        filter: TrainingFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TrainingProgramConnection:
        filters, sources = training_filters(filter)
        return await programs_connection(info, filters, first, after, sources)

    @strawberry.field(
        description="One organisation by SIRET or by UAI (exactly one of them).",
        directives=[LOOKUP],
    )
    async def organisation(
        self, info: Info, siret: str | None = None, uai: str | None = None
    ) -> Organisation | None:
        if (siret is None) == (uai is None):
            raise BadUserInput("siret", "give exactly one of `siret` and `uai`")
        key, value = (
            ("siret", check.one("siret", siret, identifiers.siret))
            if siret is not None
            else ("uai", check.one("uai", uai or "", identifiers.uai))
        )
        found = await info.context.loader("organisation", key, requested(info)).load(value)
        return Organisation.from_record(found) if found is not None else None

    @strawberry.field(description="A commune of the reference territory by INSEE code.")
    def commune(self, insee_code: str) -> Commune | None:
        return commune_by_code(check.one("inseeCode", insee_code, identifiers.insee_commune))

    @strawberry.field(description="A département by code (73, 74...).")
    def departement(self, code: str) -> Departement | None:
        return departement_by_code(check.one("code", code, identifiers.departement))

    @strawberry.field(
        description="A certification by RNCP or CFD, as the training catalogues describe it.",
        directives=[LIST_CALL],  # a search of every training catalogue
    )
    async def certification(
        self, info: Info, rncp: str | None = None, cfd: str | None = None
    ) -> Certification | None:
        if (rncp is None) == (cfd is None):
            raise BadUserInput("rncp", "give exactly one of `rncp` and `cfd`")
        filters = (
            {"rncp": [check.one("rncp", rncp, identifiers.rncp)]}
            if rncp is not None
            else {"cfd": [check.one("cfd", cfd or "", identifiers.cfd)]}
        )
        # A few matching programmes are enough to read the certification they lead to.
        page = await info.context.registry.list_page(
            "training_program", filters, 10, None, fields=frozenset({"certification"})
        )
        info.context.record_failures(page.failures)
        for _, record in page.items:
            found = Certification.from_fields(record.fields.get("certification"))
            if found is not None:
                return found
        return None

    @strawberry.field(
        description="Who this request acts for, as its credential says; null without one."
    )
    def me(self, info: Info) -> Me | None:
        return resolve_me(info)

    @strawberry.field(description="Any object by its global id.", directives=[LOOKUP])
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, str(id))

    # -- the personal half: each answer holds only what the caller's role may see ------------

    @strawberry.field(
        description=(
            "Applications (candidatures) you may see: a training centre its own, an employer "
            "those addressed to it, a candidate theirs; nothing for other roles."
        ),
        directives=[LIST_CALL, page_of(20)],
    )
    async def applications(
        self,
        info: Info,
        filter: ApplicationFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ApplicationConnection:
        filters: dict[str, Any] = {}
        if filter is not None and filter.statuses:
            filters["status"] = [s.value for s in filter.statuses]
        listed = await personal_page(info, "application", filters, first, after)
        return application_connection(info, listed)

    @strawberry.field(
        description=(
            "Contracts (contrats d'apprentissage) you may see: an OPCO those it funds, an "
            "employer and a training centre their own, a candidate theirs."
        ),
        directives=[LIST_CALL, page_of(20)],
    )
    async def contracts(
        self,
        info: Info,
        filter: ContractFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ContractConnection:
        filters: dict[str, Any] = {}
        if filter is not None and filter.statuses:
            filters["status"] = [s.value for s in filter.statuses]
        principal = info.context.principal
        if principal is not None and principal.role.value == "CANDIDATE":
            mine = await own_candidate(info)
            if mine is None:
                return contract_connection(info, nothing())
            return await contracts_of(info, mine, first, after)
        listed = await personal_page(info, "contract", filters, first, after)
        return contract_connection(info, listed)

    @strawberry.field(
        description=(
            "The audit trail (ADMIN): one event per read or write of personal data, newest "
            "first; records and subjects as keyed hashes, never values."
        )
    )
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditPage:
        return await audit_events(info, filter, first, after)

    @strawberry.field(description="Who read or changed your file (CANDIDATE): the right of access.")
    async def my_access_log(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> AccessPage:
        return await my_access_log(info, first, after)

    @strawberry.field(
        description="A candidate by id, if you may see them (else null, as for an unknown id).",
        directives=[LOOKUP],
    )
    async def candidate(self, info: Info, id: strawberry.ID) -> Candidate | None:
        found = await resolve_node(info, str(id))
        return found if isinstance(found, Candidate) else None

    @strawberry.field(
        description=(
            "Dossier — one apprentice's path, from creating the file to placing the young "
            "person, assembled live from every owner; null if you may not see the candidate."
        ),
        directives=[LIST_CALL],
    )
    async def dossier(self, info: Info, candidate: strawberry.ID) -> Dossier | None:
        return await dossier_of(info, decode_global_id(str(candidate), "candidate"))

    @strawberry.field(
        description="Published cells of the observatory's indicators: one table of the grid "
        "per code, over whole months (default: the twelve before this one), after disclosure "
        "control. Indicators counting people need the OBSERVATORY credential; each read of one "
        "is an audit event (which indicator, grid and period; never a value).",
        directives=[LIST_CALL, about(3)],
    )
    async def indicators(
        self,
        info: Info,
        codes: list[IndicatorCode],
        group_by: Annotated[
            list[Dimension] | None,
            strawberry.argument(description="The table's dimensions (none: the total)."),
        ] = None,
        territory: TerritoryInput | None = None,
        period: MonthPeriodInput | None = None,
    ) -> list[IndicatorResult]:
        return await resolve_indicators(info, codes, group_by or [], territory, period)

    @strawberry.field(
        description="Every indicator with its definition and the tables it is offered by.",
        directives=[about(MAX_CODES)],
    )
    def indicator_catalogue(self) -> list[IndicatorDefinition]:
        return indicator_catalogue()

    @strawberry.field(
        description="Every configured partner with its health.", directives=[about(12)]
    )
    async def partners(
        self,
        info: Info,
        probe: Annotated[
            bool,
            strawberry.argument(
                description=(
                    "Call each partner now instead of reporting recent calls (one probe round "
                    f"per request, shared by the requests of the next {probes.REUSE_S:g} s)."
                ),
                directives=[PROBE],
            ),
        ] = False,
    ) -> list[PartnerStatus]:
        context = info.context
        if not probe:
            return partner_statuses(context.registry)
        codes = await asyncio.shield(context.probe_round())
        return partner_statuses(context.registry, codes)
