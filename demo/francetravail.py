"""Simulated France Travail "Offres d'emploi v2" (the public employment service's job offers).

What makes it different from the other partners, as the real API does:

- OAuth2 client credentials: ``POST /connexion/oauth2/access_token`` (form body) gives a
  Bearer token valid 1499 s; the demo client is ``hub-demo`` / ``demo-secret-ft``;
- ``range=p-d`` pagination (at most 150 per page, ``p`` at most 3000), the total in
  ``Content-Range: offres p-d/total``, 206 for a partial answer and 204 when nothing matches;
- French field names, the contract nature as a label ("Contrat apprentissage"), the place as
  "73 - CHAMBERY", and some offers without the employer's SIRET.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

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
    bearer_token,
    check_params,
    comma_list,
    counted,
    new_app,
    number,
)
from demo.territory import communes, distance_km
from demo.vocabulary import OCCUPATIONS

PARTNER = "francetravail"
CLIENT_ID = "hub-demo"
CLIENT_SECRET = "demo-secret-ft"
TOKEN_LIFETIME_S = 1499
MAX_PAGE = 150
MAX_START = 3000
SEARCH_PATH = "/partenaire/offresdemploi/v2/offres/search"
OFFER_PATH = "/partenaire/offresdemploi/v2/offres/{id}"
TOKEN_PATH = "/connexion/oauth2/access_token"
NATURES = {
    "APPRENTICESHIP": ("E2", "Contrat apprentissage"),
    "PROFESSIONALISATION": ("FS", "Cont. professionnalisation"),
}
# Every nature code of the real referential is accepted; only E2 and FS occur in the demo.
KNOWN_NATURES = frozenset(
    (
        "E1",
        "E2",
        "FA",
        "FJ",
        "FS",
        "FT",
        "FU",
        "FV",
        "FW",
        "FX",
        "FY",
        "I1",
        "NS",
        "PS",
        "PR",
        "CC",
        "CI",
        "CU",
        "EE",
        "ER",
    )
)
LEVEL_LABELS = {
    3: "CAP, BEP et équivalents",
    4: "Bac ou équivalent",
    5: "Bac+2 ou équivalents",
    6: "Bac+3, Bac+4 ou équivalents",
    7: "Bac+5 et plus ou équivalents",
}
QUALIFICATIONS = {
    3: "Employé qualifié",
    4: "Employé qualifié",
    5: "Technicien",
    6: "Agent de maîtrise",
    7: "Cadre",
}
SEARCH_PARAMS = (
    "codeROME",
    "departement",
    "commune",
    "distance",
    "natureContrat",
    "range",
    "minCreationDate",
    "maxCreationDate",
)
_RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")
_NATURE = re.compile(r"[A-Z0-9]{2}")
_APPELLATIONS = {o.rome: o.appellation for o in OCCUPATIONS}


def _error(message: str) -> BadRequest:
    return BadRequest({"codeHttp": 400, "message": message})


def _upper_ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.upper()


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def render_offer(seed: OfferSeed, employer: Establishment) -> dict[str, Any]:
    ft_id = seed.publishers[PARTNER]
    nature = NATURES[seed.contract_kind][1]
    address = seed.address
    company: dict[str, Any] = {
        "nom": employer.trade_name or employer.name,
        "entrepriseAdaptee": False,
    }
    # Some employers publish anonymously on France Travail: no SIRET (offers it alone holds).
    if not (set(seed.publishers) - {PARTNER}) and int(seed.key[-5:]) % 8 == 0:
        company.pop("nom")
    else:
        company["siret"] = employer.siret
    return {
        "id": ft_id,
        "intitule": seed.title,
        "description": seed.description,
        "dateCreation": _instant(seed.published_at),
        "dateActualisation": _instant(seed.published_at + timedelta(hours=3)),
        "lieuTravail": {
            "libelle": f"{address.departement} - {_upper_ascii(address.city)}",
            "latitude": address.latitude,
            "longitude": address.longitude,
            "codePostal": address.postal_code,
            "commune": address.insee_code,
        },
        "romeCode": seed.rome_code,
        "romeLibelle": seed.rome_label,
        "appellationlibelle": _APPELLATIONS.get(seed.rome_code, seed.rome_label),
        "entreprise": company,
        "typeContrat": "CDD",
        "typeContratLibelle": f"CDD - {seed.duration_months} Mois",
        "natureContrat": nature,
        "experienceExige": "D",
        "experienceLibelle": "Débutant accepté",
        "formations": [
            {
                "domaineLibelle": seed.rome_label,
                "niveauLibelle": LEVEL_LABELS[seed.level],
                "exigence": "S",
            }
        ],
        "salaire": {"commentaire": "Selon la réglementation de l'alternance"},
        "dureeTravailLibelle": "35H Travail en journée",
        "dureeTravailLibelleConverti": "Temps plein",
        "alternance": True,
        "nombrePostes": seed.positions,
        "accessibleTH": seed.accessible_to_disabled_workers,
        "qualificationLibelle": QUALIFICATIONS[seed.level],
        "codeNAF": employer.naf_code,
        "secteurActiviteLibelle": employer.naf_label,
        "origineOffre": {
            "origine": "1",
            "urlOrigine": f"https://candidat.francetravail.fr/offres/recherche/detail/{ft_id}",
        },
    }


class _Catalogue:
    """The offers France Travail publishes, rendered once, newest first."""

    def __init__(self) -> None:
        data = dataset()
        seeds = sorted(
            data.offers_published_on(PARTNER),
            key=lambda s: (s.published_at, s.publishers[PARTNER]),
            reverse=True,
        )
        self.entries: list[tuple[OfferSeed, dict[str, Any]]] = []
        for seed in seeds:
            employer = data.employer_by_siret(seed.employer_siret)
            assert employer is not None
            self.entries.append((seed, render_offer(seed, employer)))
        self.by_id = {seed.publishers[PARTNER]: body for seed, body in self.entries}


def _parse_instant(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _error(f"invalid value for {name}") from None
    if moment.tzinfo is None:
        raise _error(f"{name} needs a time zone")
    return moment


def _parse_range(request: Request) -> tuple[int, int]:
    raw = request.query_params.get("range", "0-149")
    match = _RANGE.fullmatch(raw)
    if not match:
        raise _error("range must be p-d")
    first, last = int(match[1]), int(match[2])
    if last < first or last - first + 1 > MAX_PAGE or first > MAX_START:
        raise _error(f"range: at most {MAX_PAGE} results, from at most {MAX_START}")
    return first, last


def _matcher(request: Request) -> Callable[[OfferSeed], bool]:
    check_params(request, SEARCH_PARAMS, _error)
    romes = comma_list(request, "codeROME", ROME, _error)
    departements = comma_list(request, "departement", DEPARTEMENT, _error, max_items=5)
    insee_codes = comma_list(request, "commune", INSEE, _error, max_items=5)
    distance = number(request, "distance", _error, 0, 200, integer=True)
    natures = comma_list(request, "natureContrat", _NATURE, _error)
    if natures and not set(natures) <= KNOWN_NATURES:
        raise _error("unknown natureContrat")
    since = _parse_instant(request, "minCreationDate")
    until = _parse_instant(request, "maxCreationDate")
    centre = None
    if insee_codes and len(insee_codes) == 1 and distance:
        commune = communes().get(insee_codes[0])
        centre = (commune.latitude, commune.longitude) if commune else (0.0, 0.0)

    def matches(seed: OfferSeed) -> bool:
        where = seed.address
        if romes is not None and seed.rome_code not in romes:
            return False
        if departements is not None and where.departement not in departements:
            return False
        if centre is not None and distance is not None:
            if distance_km(centre[0], centre[1], where.latitude, where.longitude) > distance:
                return False
        elif insee_codes is not None and where.insee_code not in insee_codes:
            return False
        if natures is not None and NATURES[seed.contract_kind][0] not in natures:
            return False
        if since is not None and seed.published_at < since:
            return False
        return until is None or seed.published_at <= until

    return matches


def create_app(latency_ms: float = 0) -> Starlette:
    catalogue = _Catalogue()

    @counted("token")
    async def token(request: Request) -> Response:
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        value = secrets.token_urlsafe(24)
        tokens: dict[str, float] = request.app.state.tokens
        if len(tokens) >= 1000:  # bounded: forget the oldest
            tokens.pop(next(iter(tokens)))
        tokens[value] = time.monotonic() + TOKEN_LIFETIME_S
        return JSONResponse(
            {
                "scope": form.get("scope", ""),
                "expires_in": TOKEN_LIFETIME_S,
                "token_type": "Bearer",
                "access_token": value,
            }
        )

    def authorised(request: Request) -> bool:
        value = bearer_token(request)
        expiry = request.app.state.tokens.get(value) if value else None
        return expiry is not None and expiry > time.monotonic()

    def refused() -> Response:
        return JSONResponse(
            {"message": "Invalid or expired token"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @counted("search")
    async def search(request: Request) -> Response:
        if not authorised(request):
            return refused()
        matches = _matcher(request)
        first, last = _parse_range(request)
        found = [body for seed, body in catalogue.entries if matches(seed)]
        total = len(found)
        if total == 0 or first >= total:
            return Response(status_code=204)
        last = min(last, total - 1)
        page = found[first : last + 1]
        return JSONResponse(
            {"resultats": page, "filtresPossibles": []},
            status_code=200 if len(page) == total else 206,
            headers={
                "Content-Range": f"offres {first}-{last}/{total}",
                "Accept-Range": f"offres {MAX_PAGE}",
            },
        )

    @counted("offer")
    async def offer(request: Request) -> Response:
        if not authorised(request):
            return refused()
        body = catalogue.by_id.get(request.path_params["id"])
        if body is None:  # a malformed id is simply not found
            return JSONResponse({"codeHttp": 404, "message": "Offre non trouvée"}, status_code=404)
        return JSONResponse(body)

    app = new_app(
        [
            Route(TOKEN_PATH, token, methods=["POST"], name="token"),
            Route(SEARCH_PATH, search, methods=["GET"], name="search"),
            Route(OFFER_PATH, offer, methods=["GET"], name="offer"),
        ],
        latency_ms,
    )
    app.state.tokens = {}
    return app
