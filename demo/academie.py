"""The education authority's UAI register, simulated as a remote GraphQL service.

It imitates the national "annuaire de l'éducation": one *établissement* per UAI (the
establishment's national identifier), with its SIRET, official name, nature (CFA, lycée
professionnel...), public or private sector, address and académie. Its own vocabulary is French
and camelCase, so the hub's ``graphql`` adapter meets a schema that is not the common syntax::

    query ($uais: [String!]) {
      etablissements(uais: $uais, first: 100) {
        totalCount
        pageInfo { endCursor hasNextPage }
        nodes { uai siret appellationOfficielle nature secteur fonctions
                adresse { ligne codePostal commune codeInsee } academie { code nom } }
      }
    }

``POST /graphql`` with ``Authorization: Bearer demo-token-academie``, else 401. Every request
counts in ``app.state.calls["graphql"]`` (tests and the benchmark check the hub's batching with
it); ``latency_ms`` is slept at the start of each.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.types import ExecutionContext, Info

from demo.data import TrainingCentre, dataset
from demo.http_support import UAI, JSONResponse, counted, new_app

PARTNER = "academie"
TOKEN = "demo-token-academie"  # the hub reads it from HUB_ACADEMIE_TOKEN (demo/secrets.py)
MAX_FIRST = 500

_ACADEMIES = {
    "01": ("10", "Lyon"),
    "07": ("08", "Grenoble"),
    "26": ("08", "Grenoble"),
    "38": ("08", "Grenoble"),
    "42": ("10", "Lyon"),
    "69": ("10", "Lyon"),
    "73": ("08", "Grenoble"),
    "74": ("08", "Grenoble"),
}
# The register's own reading of a centre's role in apprenticeship.
_FONCTIONS = {
    "Lycée professionnel": ["FORMATEUR"],
}
_PUBLIC_NATURES = {"Lycée professionnel", "Université"}


@strawberry.type(description="Académie (rectorat) de rattachement")
class Academie:
    code: str
    nom: str


@strawberry.type(description="Adresse postale de l'établissement")
class Adresse:
    ligne: str
    code_postal: str
    commune: str
    code_insee: str


@strawberry.type(description="Un établissement du répertoire, identifié par son UAI")
class Etablissement:
    uai: str
    siret: str | None
    appellation_officielle: str
    patronyme: str | None
    nature: str = strawberry.field(description="CFA, Lycée professionnel, Université…")
    secteur: str = strawberry.field(description="Public ou Privé")
    fonctions: list[str] = strawberry.field(
        description="rôle en apprentissage : RESPONSABLE (gestionnaire), FORMATEUR"
    )
    adresse: Adresse
    latitude: float | None
    longitude: float | None
    academie: Academie


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class EtablissementEdge:
    cursor: str
    node: Etablissement


@strawberry.type
class EtablissementConnection:
    total_count: int
    page_info: PageInfo
    edges: list[EtablissementEdge]
    nodes: list[Etablissement]


@dataclass(frozen=True, slots=True)
class Register:
    """The register's content, sorted by UAI (the order pages are cut in)."""

    etablissements: tuple[Etablissement, ...]

    def departement(self, etablissement: Etablissement) -> str:
        return etablissement.adresse.code_insee[:2]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"etab:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise GraphQLError("curseur invalide") from None
    prefix, _, number = text.partition(":")
    if prefix != "etab" or not number.isdigit():
        raise GraphQLError("curseur invalide")
    return int(number) + 1


def _etablissements(
    info: Info,
    uais: list[str] | None = None,
    departement: str | None = None,
    nature: str | None = None,
    first: int | None = 50,
    after: str | None = None,
    offset: int | None = None,
) -> EtablissementConnection:
    register: Register = info.context["register"]
    size = 50 if first is None else first
    if not 1 <= size <= MAX_FIRST:
        raise GraphQLError(f"first doit être compris entre 1 et {MAX_FIRST}")
    found: Iterable[Etablissement] = register.etablissements
    if uais is not None:
        if len(uais) > MAX_FIRST:
            raise GraphQLError(f"au plus {MAX_FIRST} UAI par requête")
        for uai in uais:
            if not UAI.fullmatch(uai):
                raise GraphQLError(f"UAI invalide : {uai}")  # a real service quotes it
        wanted = set(uais)
        found = (e for e in found if e.uai in wanted)
    if departement is not None:
        found = (e for e in found if register.departement(e) == departement)
    if nature is not None:
        found = (e for e in found if e.nature == nature)
    matching = list(found)
    if after is not None and offset is not None:
        raise GraphQLError("after et offset sont exclusifs")
    if offset is not None and offset < 0:
        raise GraphQLError("offset doit être positif")
    start = _offset(after) if after is not None else (offset or 0)
    page = matching[start : start + size]
    edges = [EtablissementEdge(cursor=_cursor(start + i), node=e) for i, e in enumerate(page)]
    return EtablissementConnection(
        total_count=len(matching),
        page_info=PageInfo(
            end_cursor=edges[-1].cursor if edges else None,
            has_next_page=start + size < len(matching),
        ),
        edges=edges,
        nodes=page,
    )


def _etablissement(info: Info, uai: str) -> Etablissement | None:
    register: Register = info.context["register"]
    return next((e for e in register.etablissements if e.uai == uai), None)


@strawberry.type
class Query:
    etablissements: EtablissementConnection = strawberry.field(
        resolver=_etablissements,
        description="Établissements, filtrés par UAI, département ou nature; pages par "
        "curseur (first/after) ou par rang (first/offset)",
    )
    etablissement: Etablissement | None = strawberry.field(
        resolver=_etablissement, description="Un établissement par son UAI"
    )


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Refusing a bad request is the register's answer, not an incident: no traceback."""
        for error in errors:
            if error.original_error is not None and not isinstance(
                error.original_error, GraphQLError
            ):
                super().process_errors([error], execution_context)


SCHEMA = _Schema(query=Query)


def _patronyme(name: str) -> str | None:
    """The person a lycée is named after: "Lycée professionnel Louis Armand" -> "Louis Armand"."""
    for prefix in ("Lycée professionnel ", "Lycée polyvalent ", "Lycée "):
        if name.startswith(prefix):
            return name.removeprefix(prefix) or None
    return None


def etablissement(centre: TrainingCentre) -> Etablissement:
    """A training centre as the register describes it."""
    address = centre.address
    code, nom = _ACADEMIES.get(address.insee_code[:2], ("00", "Inconnue"))
    return Etablissement(
        uai=centre.uai,
        siret=centre.siret or None,
        appellation_officielle=centre.name,
        patronyme=_patronyme(centre.name),
        nature=centre.kind,
        secteur="Public" if centre.kind in _PUBLIC_NATURES else "Privé",
        fonctions=_FONCTIONS.get(centre.kind, ["RESPONSABLE", "FORMATEUR"]),
        adresse=Adresse(
            ligne=address.label,
            code_postal=address.postal_code,
            commune=address.city,
            code_insee=address.insee_code,
        ),
        latitude=address.latitude,
        longitude=address.longitude,
        academie=Academie(code=code, nom=nom),
    )


def register_of(centres: Iterable[TrainingCentre]) -> Register:
    return Register(tuple(sorted((etablissement(c) for c in centres), key=lambda e: e.uai)))


def create_app(
    latency_ms: float = 0,
    *,
    centres: Iterable[TrainingCentre] | None = None,
    token: str = TOKEN,
) -> Starlette:
    """The register; ``centres`` defaults to the demo territory's training centres."""
    register = register_of(dataset().centres if centres is None else centres)
    expected = f"Bearer {token}".encode()

    @counted("graphql")
    async def graphql(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not secrets.compare_digest(given, expected):
            return _error(401, "jeton absent ou invalide", {"WWW-Authenticate": "Bearer"})
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(400, "corps JSON invalide")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _error(400, "champ `query` manquant")
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return _error(400, "champ `variables` invalide")
        result = await SCHEMA.execute(
            body["query"],
            variable_values=variables,
            operation_name=body.get("operationName"),
            context_value={"register": register},
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(payload)

    return new_app([Route("/graphql", graphql, methods=["POST"])], latency_ms)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)
