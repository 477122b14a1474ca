"""Simulated Alpes Emploi: a regional job board of Savoie and Haute-Savoie, public, and large.

What makes it different: 5,000 offers (a catalogue much larger than any page), numeric ids
(``412345``), its own French names (``titre``, ``lieu_travail``, ``employeur.denomination``),
local Paris times with their offset (``2026-10-01T10:15:00+02:00``), 1-based
``page``/``page_size`` pages of **at most 500** (more is a 400) with the total in the body,
and **one value per filter**: ``rome=G1602`` is accepted, ``rome=G1602,G1603`` or a repeated
``rome`` is a 400. No credential (the board's open data)::

    GET /api/v1/annonces?page=1&page_size=500&departement=74&rome=G1602&tri=date
      -> {"annonces": [...], "pagination": {"page": 1, "page_size": 500,
                                             "nombre_total": 264, "nombre_pages": 1}}
    GET /api/v1/annonces/412345 -> one offer, or 404

Order: by id ascending unless ``tri=date`` (publication descending, ties by id ascending);
``tri=numero`` says the default explicitly. Filters: ``rome``, ``departement``, ``commune``
(INSEE code), ``contrat`` (``apprentissage``/``professionnalisation``) and ``depuis`` (an ISO
instant: published at or after it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Establishment, OfferSeed, dataset
from demo.http_support import (
    DEPARTEMENT,
    INSEE,
    ROME,
    BadRequest,
    JSONResponse,
    check_params,
    counted,
    new_app,
    number,
)
from demo.job_boards import ALPES_EMPLOI, catalogue

PARTNER = ALPES_EMPLOI
SEARCH_PATH = "/api/v1/annonces"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500
SEARCH_PARAMS = ("page", "page_size", "tri", "rome", "departement", "commune", "contrat", "depuis")
CONTRACTS = {"APPRENTICESHIP": "apprentissage", "PROFESSIONALISATION": "professionnalisation"}
REMOTE = {"ONSITE": "aucun", "HYBRID": "partiel", "REMOTE": "complet"}
SORTS = ("numero", "date")
PARIS = ZoneInfo("Europe/Paris")

Offer = tuple[OfferSeed, dict[str, Any]]


def _error(message: str, status: int = 400) -> BadRequest:
    return BadRequest({"statut": status, "message": message}, status)


def _local(moment: datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def render_annonce(seed: OfferSeed, employer: Establishment) -> dict[str, Any]:
    number = int(seed.publishers[PARTNER])
    where = seed.address
    return {
        "numero": number,
        "titre": seed.title,
        "texte": seed.description,
        "metier": {"code_rome": seed.rome_code, "libelle": seed.rome_label},
        "contrat": {
            "nature": CONTRACTS[seed.contract_kind],
            "duree_mois": seed.duration_months,
            "date_debut": seed.start_date.isoformat(),
        },
        "niveau_europeen_vise": seed.level,
        "nombre_postes": seed.positions,
        "etat": "en ligne",
        "publiee_le": _local(seed.published_at),
        "expire_le": _local(seed.expires_at),
        "lieu_travail": {
            "adresse": where.label,
            "code_postal": where.postal_code,
            "commune": {"code_insee": where.insee_code, "nom": where.city},
            "departement": where.departement,
            "gps": {"lat": where.latitude, "lon": where.longitude},
        },
        "employeur": {
            "siret": employer.siret,
            "denomination": employer.name,
            "enseigne": employer.trade_name,
        },
        "teletravail": REMOTE[seed.remote],
        "accessible_rqth": seed.accessible_to_disabled_workers,
        "lien_candidature": f"https://www.alpes-emploi.demo/annonces/{number}",
    }


def _one_value(request: Request, name: str, valid: Callable[[str], object]) -> str | None:
    """The board takes one value per filter: a list or a repeated parameter is a 400."""
    given = request.query_params.getlist(name)
    if not given:
        return None
    if len(given) > 1 or "," in given[0]:
        raise _error(f"une seule valeur pour {name}")
    if not valid(given[0]):
        raise _error(f"valeur invalide pour {name}")
    return given[0]


def _since(request: Request) -> datetime | None:
    raw = _one_value(request, "depuis", lambda text: bool(text))
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _error("valeur invalide pour depuis") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)  # the board's own zone
    return moment


def select(offers: list[Offer], request: Request) -> list[Offer]:
    """The offers matching the request's filters, in the order it asks (see the docstring)."""
    rome = _one_value(request, "rome", ROME.fullmatch)
    dept = _one_value(request, "departement", DEPARTEMENT.fullmatch)
    commune = _one_value(request, "commune", INSEE.fullmatch)
    contract = _one_value(request, "contrat", lambda text: text in CONTRACTS.values())
    since = _since(request)
    order = _one_value(request, "tri", lambda text: text in SORTS) or "numero"
    found = [
        (seed, body)
        for seed, body in offers
        if (rome is None or seed.rome_code == rome)
        and (dept is None or seed.address.departement == dept)
        and (commune is None or seed.address.insee_code == commune)
        and (contract is None or CONTRACTS[seed.contract_kind] == contract)
        and (since is None or seed.published_at >= since)
    ]
    if order == "date":  # publication descending, ties by id ascending
        found.sort(key=lambda offer: (-offer[0].published_at.timestamp(), offer[1]["numero"]))
    return found


def create_app(latency_ms: float = 0) -> Starlette:
    data = dataset()
    offers: list[Offer] = []
    for seed in catalogue().published_on(PARTNER):
        employer = data.employer_by_siret(seed.employer_siret)
        assert employer is not None
        offers.append((seed, render_annonce(seed, employer)))
    offers.sort(key=lambda offer: offer[1]["numero"])
    by_number = {str(body["numero"]): body for _, body in offers}

    @counted("annonces")
    async def search(request: Request) -> Response:
        check_params(request, SEARCH_PARAMS, _error)
        page = int(number(request, "page", _error, 1, 1_000_000, integer=True) or 1)
        asked = number(request, "page_size", _error, 1, MAX_PAGE_SIZE, integer=True)
        size = DEFAULT_PAGE_SIZE if asked is None else int(asked)
        found = select(offers, request)
        start = (page - 1) * size
        return JSONResponse(
            {
                "annonces": [body for _, body in found[start : start + size]],
                "pagination": {
                    "page": page,
                    "page_size": size,
                    "nombre_total": len(found),
                    "nombre_pages": math.ceil(len(found) / size),
                },
            }
        )

    @counted("annonce")
    async def one(request: Request) -> Response:
        body = by_number.get(request.path_params["numero"])
        if body is None:
            return JSONResponse({"statut": 404, "message": "annonce introuvable"}, status_code=404)
        return JSONResponse(body)

    return new_app(
        [
            Route(SEARCH_PATH, search, methods=["GET"], name="annonces"),
            Route(SEARCH_PATH + "/{numero}", one, methods=["GET"], name="annonce"),
        ],
        latency_ms,
    )
