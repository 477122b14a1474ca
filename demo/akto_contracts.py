"""AKTO's contracts API, shaped like the DECA contract API (CERFA FA13: number, kind, dates,
status, rupture, funding decision)::

    GET /api/v1/contrats?page=1&taille=50&siret=&uai=&ine=
      -> {"metadonnees": {"page", "totalPages", "totalElements"}, "contrats": [...]}
    GET /api/v1/contrats/{numeroDeca} -> one contract, or 404
    GET /api/v1/statistiques/contrats?grouper=statut,mois,opco,uai,departement,domaine_rome,
        niveau&statut=&opco=&uai=&departement=&domaine_rome=&niveau=&debut=&fin=
        -> {"resultats": [{"statut", "mois", ..., "nombre", "sommeCles"}]}: counts of
        contracts, for the observatory only

Pages count from 1 (``taille`` at most 200, default 50); a page past the last is empty, with
the same metadata. Dates are ISO ``YYYY-MM-DD``; ``statut`` is French (``transmis``,
``déposé``, ``en cours``, ``rompu``, ``terminé``, ``annulé``); ``financement.decision`` is
``EN_ATTENTE``, ``ACCORDE`` or ``REFUSE``. Contracts are ordered by ``numeroDeca``.

The demo's AKTO plays the DECA API for every contract of the demo's centres: one per
application that reached CONTRACT_SIGNED or beyond at an ERP, the same apprentice (INE, name,
birth date), the centre's UAI/SIRET, the employer's SIRET and IDCC; ``financement.opco`` is
the employer's own OPCO (AKTO for hotels and restaurants, Constructys for building firms).

**Who sees what** (when the app has a JWKS, every route here needs a valid assertion, else 401):
OPCO the contracts it funds (``org`` = its code, ``AKTO``); TRAINING_CENTRE those whose
``organismeFormation`` UAI or SIRET is its ``org``; EMPLOYER those whose ``employeur.siret`` is
its ``org``; CANDIDATE those whose ``alternant.ine`` is the ``ine`` claim the hub vouches for
(AKTO knows apprentices by their INE, not by a centre's candidate id), or its ``sub``;
OBSERVATORY and ADMIN none. A contract one may not see is answered as a missing one.

**Statistics**: OBSERVATORY only (any other principal: 403), counts and nothing else, grouped
by ``grouper`` (``statut``: AKTO's label; ``mois``: the month execution starts, ``YYYY-MM``;
``opco``: the funding OPCO; ``uai``: the centre; ``departement``: that of the employer's
establishment, where the contract is executed, as AKTO knows it from the employer's SIRET;
``domaine_rome``: the first three characters of the first ROME code of the certification
prepared; ``niveau``: its level, ``"3"``..``"7"``), filtered by each of them but ``mois``
(comma-separated) and ``debut`` (included) / ``fin`` (excluded) on the execution's first day.
``sommeCles``: the sum of the contracts' ONS record keys modulo 2^32 (:mod:`demo.record_keys`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Dataset
from demo.http_support import SIRET, UAI, BadRequest, JSONResponse, check_params, counted, number
from demo.person_seeds import ContractSeed
from demo.personal import PersonalDataset
from demo.principal import AssertionVerifier, Principal, principal_of
from demo.record_keys import demo_record_key

CONTRACTS_PATH = "/api/v1/contrats"
AUDIENCE = "akto-contrats"
"""The contracts API's name in the partners file (the CSV exports are ``akto``): the audience
its assertions are addressed to."""
DEFAULT_SIZE = 50
MAX_SIZE = 200
PARAMS = ("page", "taille", "siret", "uai", "ine")
STATISTICS_PATH = "/api/v1/statistiques/contrats"
STATISTICS_FILTERS = ("statut", "opco", "uai", "departement", "domaine_rome", "niveau")
STATISTICS_PARAMS = ("grouper", *STATISTICS_FILTERS, "debut", "fin")
STATISTICS_GROUPS = ("statut", "mois", "opco", "uai", "departement", "domaine_rome", "niveau")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
LABEL = re.compile(r"[^,]{1,40}")
INE = re.compile(r"[0-9A-Z]{11}")


def _error(message: str, status: int = 400) -> BadRequest:
    return BadRequest({"erreur": message, "code": status}, status)


def _refused() -> BadRequest:
    return _error("assertion du principal absente ou invalide", 401)


def render_contract(
    contract: ContractSeed, data: Dataset, people: PersonalDataset
) -> dict[str, Any]:
    person = people.persons[contract.person_key]
    employer = data.employer_by_siret(contract.employer_siret)
    assert employer is not None
    centre = contract.program.responsible
    return {
        "numeroDeca": contract.deca_number,
        "nature": "apprentissage",
        "dateConclusion": contract.concluded.isoformat(),
        "dateDebutExecution": contract.start.isoformat(),
        "dateFinExecution": contract.end.isoformat(),
        "statut": contract.status,
        "alternant": {
            "nom": person.last_name,
            "prenom": person.first_name,
            "dateNaissance": person.birth_date.isoformat(),
            "ine": person.ine,
            "courriel": person.email,
        },
        "employeur": {
            "siret": employer.siret,
            "denomination": employer.name,
            "idcc": employer.idcc,
        },
        "formation": {
            "codeDiplome": contract.program.cfd,
            "rncp": contract.program.rncp,
            "intitule": contract.program.certification_title,
        },
        "organismeFormation": {"uai": centre.uai, "siret": centre.siret},
        "rupture": None
        if contract.rupture is None
        else {"dateEffet": contract.rupture.day.isoformat(), "motif": contract.rupture.cause},
        "financement": {
            "opco": contract.opco,
            "decision": contract.decision,
            "dateDecision": contract.decided_on.isoformat() if contract.decided_on else None,
        },
    }


def sees(who: Principal | None, body: dict[str, Any]) -> bool:
    if who is None:
        return True
    if who.role == "OPCO":
        return bool(body["financement"]["opco"] == who.org)
    if who.role == "TRAINING_CENTRE":
        centre = body["organismeFormation"]
        return who.org in (centre["uai"], centre["siret"])
    if who.role == "EMPLOYER":
        return bool(body["employeur"]["siret"] == who.org)
    if who.role == "CANDIDATE":
        ine = body["alternant"]["ine"]
        return ine is not None and ine in (who.ine, who.sub)
    return False


def statistics_groups(contract: ContractSeed, data: Dataset) -> dict[str, str]:
    """A contract's values of every statistics group: what AKTO holds of it (the employer's
    establishment by its SIRET, the certification by its RNCP)."""
    employer = data.employer_by_siret(contract.employer_siret)
    assert employer is not None
    return {
        "statut": contract.status,
        "mois": contract.start.isoformat()[:7],
        "opco": contract.opco,
        "uai": contract.program.responsible.uai,
        "departement": employer.address.departement,
        "domaine_rome": contract.program.rome_codes[0][:3],
        "niveau": str(contract.program.level),
    }


def statistics(
    bodies: Sequence[dict[str, Any]],
    groups_of: Sequence[dict[str, str]],
    groups: list[str],
    kept: dict[str, set[str]],
    start: str | None,
    end: str | None,
) -> list[dict[str, Any]]:
    """Counts of contracts by ``groups``: what the observatory gets, and nothing else.
    ``groups_of``: each body's :func:`statistics_groups`, in the same order."""
    cells: dict[tuple[str, ...], list[int]] = {}
    for body, values in zip(bodies, groups_of, strict=True):
        day = body["dateDebutExecution"]
        if any(values[name] not in allowed for name, allowed in kept.items()):
            continue
        if (start is not None and day < start) or (end is not None and day >= end):
            continue
        cell = cells.setdefault(tuple(values[g] for g in groups), [0, 0])
        cell[0] += 1
        key = demo_record_key(AUDIENCE, "contract", body["numeroDeca"])
        cell[1] = (cell[1] + key) % (1 << 32)
    return [
        {**dict(zip(groups, key, strict=True)), "nombre": count, "sommeCles": keys}
        for key, (count, keys) in sorted(cells.items())
    ]


def _checked(request: Request, name: str, pattern: re.Pattern[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and not pattern.fullmatch(value):
        raise _error(f"valeur invalide pour {name}")
    return value


def routes(
    data: Dataset, people: PersonalDataset, verifier: AssertionVerifier | None
) -> Sequence[Route]:
    contracts = sorted(people.contracts, key=lambda c: c.deca_number)
    bodies = [render_contract(c, data, people) for c in contracts]
    groups_of = [statistics_groups(c, data) for c in contracts]
    by_number = {body["numeroDeca"]: body for body in bodies}

    @counted("contrats")
    async def search(request: Request) -> Response:
        who = principal_of(request, verifier, _refused)
        check_params(request, PARAMS, _error)
        page = int(number(request, "page", _error, 1, 1_000_000, integer=True) or 1)
        size = int(number(request, "taille", _error, 1, MAX_SIZE, integer=True) or DEFAULT_SIZE)
        siret = _checked(request, "siret", SIRET)
        uai = _checked(request, "uai", UAI)
        ine = _checked(request, "ine", INE)
        found = [
            body
            for body in bodies
            if sees(who, body)
            and (siret is None or body["employeur"]["siret"] == siret)
            and (uai is None or body["organismeFormation"]["uai"] == uai)
            and (ine is None or body["alternant"]["ine"] == ine)
        ]
        return JSONResponse(
            {
                "metadonnees": {
                    "page": page,
                    "totalPages": math.ceil(len(found) / size),
                    "totalElements": len(found),
                },
                "contrats": found[(page - 1) * size : page * size],
            }
        )

    @counted("contrat")
    async def one(request: Request) -> Response:
        who = principal_of(request, verifier, _refused)
        body = by_number.get(request.path_params["numero"])
        if body is None or not sees(who, body):
            return JSONResponse({"erreur": "contrat introuvable", "code": 404}, status_code=404)
        return JSONResponse(body)

    @counted("statistiques_contrats")
    async def contract_statistics(request: Request) -> Response:
        who = principal_of(request, verifier, _refused)
        if who is not None and who.role != "OBSERVATORY":
            return JSONResponse(
                {"erreur": "statistiques réservées à l'observatoire", "code": 403},
                status_code=403,
            )
        check_params(request, STATISTICS_PARAMS, _error)
        groups = [g for g in request.query_params.get("grouper", "").split(",") if g]
        if any(g not in STATISTICS_GROUPS for g in groups) or len(set(groups)) != len(groups):
            raise _error("valeur invalide pour grouper")
        kept: dict[str, set[str]] = {}
        for name in STATISTICS_FILTERS:
            value = request.query_params.get(name)
            if value is not None:
                items = value.split(",")
                if not all(LABEL.fullmatch(item) for item in items):
                    raise _error(f"valeur invalide pour {name}")
                kept[name] = set(items)
        start = _checked(request, "debut", ISO_DAY)
        end = _checked(request, "fin", ISO_DAY)
        return JSONResponse({"resultats": statistics(bodies, groups_of, groups, kept, start, end)})

    return [
        Route(STATISTICS_PATH, contract_statistics, methods=["GET"], name="statistiques"),
        Route(CONTRACTS_PATH, search, methods=["GET"], name="contrats"),
        Route(CONTRACTS_PATH + "/{numero}", one, methods=["GET"], name="contrat"),
    ]


__all__ = ["AUDIENCE", "CONTRACTS_PATH", "render_contract", "routes", "sees", "statistics_groups"]
