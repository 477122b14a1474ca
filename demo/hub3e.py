"""Simulated Hub3E: the recruitment tool the CFAs use to collect and place offers ("missions").

What makes it different: its own ids (``M-60450``) and statuses (``OUVERTE``, ``POURVUE``,
``ANNULEE``, ``EN_ATTENTE``), its own codes for contracts (``APPRENTISSAGE``/``PRO``), levels
(``CAP``..``MASTER``) and remote work, French ``dd/mm/yyyy`` dates, a flat location
(``commune_insee``, ``cp``, ``ville``, ``lat``, ``lng``), an API key header (``X-Hub3e-Key``,
demo key ``demo-key-hub3e``) and ``offset``/``limit`` pagination with the total in the body::

    GET /api/v2/missions?offset=0&limit=50&rome=M1805,G1603&dept=73
      -> {"items": [...], "total": 150, "offset": 0, "limit": 50}
    GET /api/v2/missions/M-60450 -> one mission, or 404

It serves the offers of the demo dataset that Hub3E publishes (``publishers["hub3e"]``). A
mission also published elsewhere is open (the others show it as active); one only Hub3E knows
is in any of its statuses, so a value map has every status to translate.

Its personal half — candidate files and placements, created idempotently by a hub's client
reference, each route checking the signed principal when ``assertion_jwks`` is given — is in
:mod:`demo.hub3e_people`.
"""

from __future__ import annotations

import secrets
import zlib
from datetime import date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo import hub3e_people
from demo.data import Establishment, OfferSeed, dataset
from demo.http_support import (
    DEPARTEMENT,
    ROME,
    BadRequest,
    JSONResponse,
    check_params,
    comma_list,
    counted,
    new_app,
    number,
)
from demo.personal import personal_dataset
from demo.principal import AssertionVerifier

PARTNER = "hub3e"
API_KEY = "demo-key-hub3e"
API_KEY_HEADER = "X-Hub3e-Key"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MISSION_PARAMS = ("offset", "limit", "rome", "dept")
CONTRACTS = {"APPRENTICESHIP": "APPRENTISSAGE", "PROFESSIONALISATION": "PRO"}
LEVELS = {3: "CAP", 4: "BAC", 5: "BTS", 6: "LICENCE", 7: "MASTER"}
REMOTE = {"ONSITE": "NON", "HYBRID": "PARTIEL", "REMOTE": "TOTAL"}
# Statuses of the missions only Hub3E knows, by a stable hash of the offer: mostly open.
_STATUS_WHEEL = ("OUVERTE",) * 6 + ("POURVUE", "POURVUE", "EN_ATTENTE", "ANNULEE")


def _error(message: str, status: int = 400) -> BadRequest:
    return BadRequest({"erreur": message, "code": status}, status)


def _day(moment: date | datetime) -> str:
    return moment.strftime("%d/%m/%Y")


def status_of(seed: OfferSeed) -> str:
    if len(seed.publishers) > 1:
        return "OUVERTE"
    return _STATUS_WHEEL[zlib.crc32(seed.key.encode()) % len(_STATUS_WHEEL)]


def render_mission(seed: OfferSeed, employer: Establishment) -> dict[str, Any]:
    mission_id = seed.publishers[PARTNER]
    where = seed.address
    return {
        "id": mission_id,
        "libelle": seed.title,
        "descriptif": seed.description,
        "code_rome": seed.rome_code,
        "libelle_rome": seed.rome_label,
        "statut": status_of(seed),
        "type_contrat": CONTRACTS[seed.contract_kind],
        "niveau_vise": LEVELS[seed.level],
        "date_debut": _day(seed.start_date),
        "duree_mois": seed.duration_months,
        "nb_postes": seed.positions,
        "date_publication": _day(seed.published_at),
        "date_fin_diffusion": _day(seed.expires_at),
        "entreprise": {
            "siret": employer.siret,
            "raison_sociale": employer.name,
            "enseigne": employer.trade_name,
        },
        "adresse": where.label,
        "cp": where.postal_code,
        "ville": where.city,
        "commune_insee": where.insee_code,
        "lat": where.latitude,
        "lng": where.longitude,
        "teletravail": REMOTE[seed.remote],
        "handi_accueillant": "O" if seed.accessible_to_disabled_workers else "N",
        "url_candidature": f"https://recrutement.hub3e.demo/missions/{mission_id}",
        "suivi_interne": {"charge_relation": "équipe entreprises"},  # never mapped by the hub
    }


def create_app(
    latency_ms: float = 0,
    assertion_jwks: dict[str, Any] | None = None,
    audience: str = PARTNER,
    canary: str | None = None,
) -> Starlette:
    """Hub3E; ``assertion_jwks`` (the hub's public keys) makes every personal route require a
    valid principal assertion for ``audience``; ``canary`` defaults to ``HUB_DEMO_CANARY``."""
    data = dataset()
    missions: list[tuple[OfferSeed, dict[str, Any]]] = []
    for seed in data.offers_published_on(PARTNER):
        employer = data.employer_by_siret(seed.employer_siret)
        assert employer is not None
        missions.append((seed, render_mission(seed, employer)))
    missions.sort(key=lambda pair: pair[1]["id"])  # the order pages are cut in
    by_id = {body["id"]: body for _, body in missions}

    def refused(request: Request) -> Response | None:
        given = request.headers.get(API_KEY_HEADER, "").encode()
        if secrets.compare_digest(given, API_KEY.encode()):
            return None
        return JSONResponse({"erreur": "clé API absente ou invalide", "code": 401}, status_code=401)

    @counted("missions")
    async def search(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        check_params(request, MISSION_PARAMS, _error)
        offset = int(number(request, "offset", _error, 0, 1_000_000, integer=True) or 0)
        limit = number(request, "limit", _error, 1, MAX_LIMIT, integer=True)
        size = DEFAULT_LIMIT if limit is None else int(limit)
        romes = comma_list(request, "rome", ROME, _error, max_items=50)
        depts = comma_list(request, "dept", DEPARTEMENT, _error, max_items=20)
        found = [
            body
            for seed, body in missions
            if (romes is None or seed.rome_code in romes)
            and (depts is None or seed.address.departement in depts)
        ]
        return JSONResponse(
            {
                "items": found[offset : offset + size],
                "total": len(found),
                "offset": offset,
                "limit": size,
            }
        )

    @counted("mission")
    async def one(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = by_id.get(request.path_params["id"])  # a malformed id is not found
        if body is None:
            return JSONResponse({"erreur": "mission introuvable", "code": 404}, status_code=404)
        return JSONResponse(body)

    verifier = None if assertion_jwks is None else AssertionVerifier(assertion_jwks, audience)
    store = hub3e_people.Hub3ePeople(
        data, personal_dataset(canary), {seed.publishers[PARTNER]: seed for seed, _ in missions}
    )
    app = new_app(
        [
            Route("/api/v2/missions", search, methods=["GET"], name="missions"),
            Route("/api/v2/missions/{id}", one, methods=["GET"], name="mission"),
            *hub3e_people.routes(store, refused, verifier),
        ],
        latency_ms,
    )
    app.state.people = store  # what Hub3E holds now: tests read what a write did there
    return app
