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
``candidaturesParReference(references:)``, ``dossiers(numeros:)``; ``toutesCandidatures``
lists them all (the block declares no list: a test that counts in memory adds it).

For the observatory it answers ``statistiquesCandidatures(grouper:, etats:, uais:, depuis:,
avant:)``: its applications counted by state, creation month and centre, each row with the
sum of its applications' ONS record keys (``Long``: a key takes 32 bits), computed as the hub
computes a listed record's (:func:`adapters.counting.in_memory_key`), so that both paths give
the same cells. Given ``assertion_jwks``, it answers them to a verified OBSERVATORY principal
only (any other: a ``FORBIDDEN`` error), as Hub3E's statistics do. :meth:`GraphqlOwner.seed`
gives it applications in every state over many months.
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, NewType

import jwt
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from demo.record_keys import secret
from observatory.perturbation import KEY_SPACE, record_key

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
createdAt = "creeeLe"

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
  candidatures(numeros: $numeros) {
    numero dossier formation etat referenceClient motif uai creeeLe
  }
}"""
variable = "numeros"
items = "candidatures"

[partners.cfa-gql.entities.application.lookups.clientReference]
query = """
query ParReference($refs: [String!]!) {
  candidaturesParReference(references: $refs) {
    numero dossier formation etat referenceClient motif uai creeeLe
  }
}"""
variable = "refs"
items = "candidaturesParReference"

[partners.cfa-gql.entities.application.aggregates]
query = """
query Statistiques(
  $par: [Regroupement!]!, $etats: [Etat!], $uais: [String!], $depuis: String, $avant: String
) {
  statistiquesCandidatures(
    grouper: $par, etats: $etats, uais: $uais, depuis: $depuis, avant: $avant
  ) { groupes { etat mois uai effectif sommeCles } }
}"""
group_variable = "par"
rows = "statistiquesCandidatures.groupes"
count = "effectif"
key_sum = "sommeCles"
period = { from_variable = "depuis", to_variable = "avant" }
dimensions.status = { group = "ETAT", at = "etat", variable = "etats" }
dimensions.month = { group = "MOIS", at = "mois" }
dimensions.training_centre = { group = "UAI", at = "uai", variable = "uais" }

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


@strawberry.enum
class Regroupement(Enum):
    ETAT = "ETAT"
    MOIS = "MOIS"
    UAI = "UAI"


Long = NewType("Long", int)
"""An integer beyond GraphQL's 32-bit ``Int`` (a sum of record keys), sent as a JSON number."""

OWNER = "cfa-gql"
"""The partner name the hub knows it by: its record keys are computed under it."""


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
    creee_le: str


@strawberry.type
class LigneStatistique:
    etat: Etat | None
    mois: str | None
    uai: str | None
    effectif: int
    somme_cles: Long


@strawberry.type
class Statistiques:
    groupes: list[LigneStatistique]


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

    @strawberry.field
    def toutes_candidatures(self, info: Info) -> list[Candidature]:
        return list(_owner(info).applications.values())

    @strawberry.field
    def statistiques_candidatures(
        self,
        info: Info,
        grouper: list[Regroupement],
        etats: list[Etat] | None = None,
        uais: list[str] | None = None,
        depuis: str | None = None,
        avant: str | None = None,
    ) -> Statistiques:
        owner = _owner(info)
        owner.check_observatory(info.root_value)
        if len(set(grouper)) != len(grouper):
            raise GraphQLError("regroupement répété", extensions={"code": "BAD_USER_INPUT"})
        cells: dict[tuple[str | None, ...], tuple[int, int]] = {}
        for held in owner.applications.values():
            day = held.creee_le[:10]
            if (etats is not None and held.etat not in etats) or (
                uais is not None and held.uai not in uais
            ):
                continue
            if (depuis is not None and day < depuis) or (avant is not None and day >= avant):
                continue
            values = {"ETAT": held.etat.value, "MOIS": held.creee_le[:7], "UAI": held.uai}
            key = tuple(values[g.value] for g in grouper)
            count, keys = cells.get(key, (0, 0))
            cells[key] = (count + 1, (keys + owner.record_key(held)) % KEY_SPACE)
        return Statistiques(
            groupes=[_row(grouper, key, count, keys) for key, (count, keys) in cells.items()]
        )


def _row(
    grouper: list[Regroupement], key: tuple[str | None, ...], count: int, keys: int
) -> LigneStatistique:
    named = dict(zip(grouper, key, strict=True))
    etat = named.get(Regroupement.ETAT)
    return LigneStatistique(
        etat=None if etat is None else Etat(etat),
        mois=named.get(Regroupement.MOIS),
        uai=named.get(Regroupement.UAI),
        effectif=count,
        somme_cles=keys,
    )


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


SCHEMA = _QuietSchema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(
        scalar_map={Long: strawberry.scalar(name="Long", serialize=int, parse_value=int)}
    ),
)


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
    assertion_jwks: dict[str, Any] | None = None  # set: statistics for the OBSERVATORY only
    key_secret: bytes = field(default_factory=secret)
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

    def seed(self, count: int, first_day: datetime = datetime(2024, 1, 8, 9, tzinfo=UTC)) -> None:
        """``count`` applications, one every 11 days and 5 hours from ``first_day`` (about
        three a month), their states in turn (not in step with the months)."""
        states = list(Etat)
        for at in range(count):
            numero = f"CAND-{len(self.applications) + 1:04d}"
            created = first_day + timedelta(days=11 * at, hours=5 * at)
            self.applications[numero] = Candidature(
                numero=strawberry.ID(numero),
                dossier=FILES[at % len(FILES)],
                formation="FORM-0003",
                etat=states[(at * 3 + at // 4) % len(states)],
                reference_client=None,
                motif=None,
                uai=CENTRE_UAI,
                creee_le=created.isoformat().replace("+00:00", "Z"),
            )

    def record_key(self, held: Candidature) -> int:
        """The ONS key it stores for an application: what the hub computes for a listed one."""
        return record_key(self.key_secret, f"{OWNER}:application:{held.numero}")

    def check_observatory(self, principal: str | None) -> None:
        """Statistics are the observatory's: refused to anybody else once keys are known."""
        if self.assertion_jwks is None:
            return
        try:
            claims = jwt.decode(
                principal or "",
                jwt.PyJWKSet.from_dict(self.assertion_jwks).keys[0],
                algorithms=["ES256"],
                audience=OWNER,
            )
        except jwt.PyJWTError:
            claims = {}
        if claims.get("role") != "OBSERVATORY":
            raise GraphQLError(
                "statistiques réservées à l'observatoire", extensions={"code": "FORBIDDEN"}
            )

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
            creee_le=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
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
        principal = request.headers.get("x-hub-principal")
        self.requests.append(Seen(body["query"], variables, principal))
        result = await SCHEMA.execute(
            body["query"], variables, context_value=self, root_value=principal
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(answer)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self.endpoint, methods=["POST"])])
