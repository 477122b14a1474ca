"""A small GraphQL owner of applications for the tests: a training centre's recruitment tool
with a schema of its own (French names, its own states), holding its files (``dossiers``) and
applications (``candidatures``) in memory.

It is served by Strawberry behind a plain Starlette route, so a test can see every request it
received (``owner.requests``: the document, the variables, the principal header) and make it
misbehave the ways a write must survive: commit and then stall past any deadline
(``stall_after_commit_s``), commit and then fail (``fail_after_commit``). Like Strawberry's own
HTTP view it answers a request error with ``data: null`` and errors without ``path``.

Its mutations: ``deposerCandidature`` (refuses an unknown file or programme with
``BAD_USER_INPUT``),
``proposerCandidature`` (the same, refusals in its payload's ``erreurs``, userErrors-style),
``changerEtat`` (``NOT_FOUND`` for an unknown application, ``BAD_USER_INPUT`` for a move its
rules refuse). Its look-ups take lists: ``candidatures(numeros:)``,
``candidaturesParReference(references:)``, ``dossiers(numeros:)``.
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.types import ExecutionContext, Info

CENTRE_UAI = "0732727T"
FILES = ("D-1", "D-2")

PARTNER_BLOCK = '''
[partners.cfa-gql]
kind = "graphql"
base_url = "http://cfa-gql.test"
endpoint = "/graphql"
deadline_s = 4.5
retry = { enabled = true, attempts = 3, backoff_s = 0 }
principal = { header = "X-Hub-Principal" }

[partners.cfa-gql.entities.candidate]
id = "numero"
fields.lastName = "nom"
fields.firstName = "prenom"
fields."trainingCentre.uai" = "uai"

[partners.cfa-gql.entities.candidate.lookups.id]
query = "query Dossiers($numeros: [ID!]!) { dossiers(numeros: $numeros) { numero nom prenom uai } }"
variable = "numeros"
items = "dossiers"

[partners.cfa-gql.entities.application]
id = "numero"

[partners.cfa-gql.entities.application.fields]
"candidate.id" = "dossier"
"trainingProgram.id" = "formation"
clientReference = "referenceClient"
reason = "motif"
"trainingCentre.uai" = "uai"

[partners.cfa-gql.entities.application.fields.status]
path = "etat"
strict_values = true

[partners.cfa-gql.entities.application.fields.status.values]
DEPOSEE = "SUBMITTED"
EN_ETUDE = "UNDER_REVIEW"
ENTRETIEN = "INTERVIEW"
RETIREE = "WITHDRAWN"

[partners.cfa-gql.entities.application.lookups.id]
query = """
query Candidatures($numeros: [ID!]!) {
  candidatures(numeros: $numeros) { numero dossier formation etat referenceClient motif uai }
}"""
variable = "numeros"
items = "candidatures"

[partners.cfa-gql.entities.application.lookups.clientReference]
query = """
query ParReference($refs: [String!]!) {
  candidaturesParReference(references: $refs) {
    numero dossier formation etat referenceClient motif uai
  }
}"""
variable = "refs"
items = "candidaturesParReference"

[partners.cfa-gql.entities.application.writes.submit]
mutation = """
mutation Deposer($entree: DepotEntree!) {
  deposerCandidature(entree: $entree) { numero etat }
}"""
created_id = "deposerCandidature.numero"

[partners.cfa-gql.entities.application.writes.submit.variables]
"entree.dossier" = "candidateId"
"entree.formation" = "trainingProgramId"
"entree.referenceClient" = "clientReference"
"entree.canal" = "channel"
"entree.etat" = { from = "status", values = { SUBMITTED = "DEPOSEE" } }

[partners.cfa-gql.entities.application.writes.transition]
mutation = """
mutation Changer($numero: ID!, $etat: Etat!, $motif: String) {
  changerEtat(numero: $numero, etat: $etat, motif: $motif) { numero etat }
}"""

[partners.cfa-gql.entities.application.writes.transition.variables]
numero = "id"
motif = "reason"

[partners.cfa-gql.entities.application.writes.transition.variables.etat]
from = "status"
values = { UNDER_REVIEW = "EN_ETUDE", INTERVIEW = "ENTRETIEN", WITHDRAWN = "RETIREE" }
'''
"""The owner's block of a partners file, as an operator would write it. Its deadline is generous:
the tests about an owner that stalls shorten it (:func:`partners_data`)."""


def partners_data(deadline_s: float | None = None) -> dict[str, Any]:
    """A partners file holding :data:`PARTNER_BLOCK`, as the TOML parser gives it."""
    data = tomllib.loads("version = 1\n" + PARTNER_BLOCK)
    if deadline_s is not None:
        data["partners"]["cfa-gql"]["deadline_s"] = deadline_s
    return data


@strawberry.enum
class Etat(Enum):
    DEPOSEE = "DEPOSEE"
    EN_ETUDE = "EN_ETUDE"
    ENTRETIEN = "ENTRETIEN"
    RETIREE = "RETIREE"


@strawberry.type
class Dossier:
    numero: strawberry.ID
    nom: str
    prenom: str
    uai: str


@strawberry.type
class Candidature:
    numero: strawberry.ID
    dossier: str
    formation: str
    etat: Etat
    reference_client: str | None
    motif: str | None
    uai: str


@strawberry.type
class Refus:
    champ: str
    message: str


@strawberry.type
class Proposition:
    candidature: Candidature | None
    erreurs: list[Refus]


@strawberry.input
class DepotEntree:
    dossier: str
    formation: str
    reference_client: str
    etat: Etat
    canal: str | None = None


def _owner(info: Info) -> GraphqlOwner:
    owner: GraphqlOwner = info.context
    return owner


@strawberry.type
class Query:
    @strawberry.field
    def dossiers(self, info: Info, numeros: list[strawberry.ID]) -> list[Dossier]:
        files = _owner(info).files
        return [files[n] for n in numeros if n in files]

    @strawberry.field
    def candidatures(self, info: Info, numeros: list[strawberry.ID]) -> list[Candidature]:
        held = _owner(info).applications
        return [held[n] for n in numeros if n in held]

    @strawberry.field
    def candidatures_par_reference(self, info: Info, references: list[str]) -> list[Candidature]:
        held = _owner(info).applications.values()
        return [a for a in held if a.reference_client in references]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def deposer_candidature(self, info: Info, entree: DepotEntree) -> Candidature:
        owner = _owner(info)
        if entree.dossier not in owner.files or entree.formation not in owner.programmes:
            raise GraphQLError(
                "dossier ou formation inconnus", extensions={"code": "BAD_USER_INPUT"}
            )
        return await owner.commit(entree)

    @strawberry.mutation
    async def proposer_candidature(self, info: Info, entree: DepotEntree) -> Proposition:
        owner = _owner(info)
        if entree.dossier not in owner.files:
            return Proposition(candidature=None, erreurs=[Refus(champ="dossier", message="?")])
        return Proposition(candidature=await owner.commit(entree), erreurs=[])

    @strawberry.mutation
    def changer_etat(
        self, info: Info, numero: strawberry.ID, etat: Etat, motif: str | None = None
    ) -> Candidature:
        held = _owner(info).applications.get(numero)
        if held is None:
            raise GraphQLError("candidature inconnue", extensions={"code": "NOT_FOUND"})
        if held.etat is Etat.RETIREE:
            raise GraphQLError("candidature close", extensions={"code": "BAD_USER_INPUT"})
        held.etat, held.motif = etat, motif
        return held


class _QuietSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """The test asserts on the answers; the owner's tracebacks would only be noise."""


SCHEMA = _QuietSchema(query=Query, mutation=Mutation)


@dataclass
class Seen:
    query: str
    variables: dict[str, Any]
    principal: str | None

    @property
    def is_mutation(self) -> bool:
        return self.query.lstrip().startswith("mutation")


@dataclass
class GraphqlOwner:
    stall_after_commit_s: float | None = None
    fail_after_commit: bool = False
    files: dict[str, Dossier] = field(
        default_factory=lambda: {
            n: Dossier(numero=strawberry.ID(n), nom="Martin", prenom="Léa", uai=CENTRE_UAI)
            for n in FILES
        }
    )
    programmes: set[str] = field(default_factory=lambda: {"FORM-0003"})
    applications: dict[str, Candidature] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    @property
    def mutations(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.is_mutation]

    async def commit(self, entree: DepotEntree) -> Candidature:
        numero = f"CAND-{len(self.applications) + 1:04d}"
        made = Candidature(
            numero=strawberry.ID(numero),
            dossier=entree.dossier,
            formation=entree.formation,
            etat=entree.etat,
            reference_client=entree.reference_client,
            motif=None,
            uai=CENTRE_UAI,
        )
        self.applications[numero] = made  # committed...
        if self.stall_after_commit_s is not None:
            await asyncio.sleep(self.stall_after_commit_s)  # ...and the answer comes too late
        if self.fail_after_commit:
            raise RuntimeError("the confirmation e-mail could not be queued")
        return made

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.json()
        variables = body.get("variables") or {}
        self.requests.append(Seen(body["query"], variables, request.headers.get("x-hub-principal")))
        result = await SCHEMA.execute(body["query"], variables, context_value=self)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(answer)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self.endpoint, methods=["POST"])])
