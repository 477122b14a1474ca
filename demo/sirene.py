"""Simulated INSEE Sirene API (company directory), in a simplified shape of the real one.

An API key in the ``X-INSEE-Api-Key-Integration`` header (demo key ``demo-key-sirene``);
``GET /siret/{siret}`` for one establishment and ``POST /siret`` with ``{"sirets": [...]}`` for
up to 100 at once (only the found ones come back). It knows every employer and every training
centre of the demo. Addresses are split and upper-cased the way Sirene stores them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Establishment, dataset
from demo.http_support import SIRET, JSONResponse, counted, new_app
from demo.vocabulary import STREET_TYPES

API_KEY_HEADER = "X-INSEE-Api-Key-Integration"
API_KEY = "demo-key-sirene"
MAX_BATCH = 100
_STREET_CODES = dict(STREET_TYPES)
_LABEL = re.compile(r"(\d+) (\S+) (.+)")
_CATEGORIES = {
    "01": "PME",
    "02": "PME",
    "03": "PME",
    "11": "PME",
    "12": "PME",
    "21": "PME",
    "22": "PME",
    "31": "PME",
    "32": "ETI",
    "41": "ETI",
}


def _sirene_text(text: str) -> str:
    """Sirene's way: upper case, no accents, apostrophes as spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"['’]", " ", plain)).upper().strip()


def _header(status: int, message: str) -> dict[str, Any]:
    return {"statut": status, "message": message}


def render_establishment(record: Establishment) -> dict[str, Any]:
    address = record.address
    match = _LABEL.fullmatch(address.label)
    number, street_word, street = match.groups() if match else ("", "", address.label)
    return {
        "siren": record.siren,
        "nic": record.siret[9:],
        "siret": record.siret,
        "statutDiffusionEtablissement": "O",
        "dateCreationEtablissement": record.created.isoformat(),
        "trancheEffectifsEtablissement": record.headcount_band,
        "etablissementSiege": True,
        "uniteLegale": {
            "etatAdministratifUniteLegale": "A" if record.active else "C",
            "denominationUniteLegale": _sirene_text(record.name),
            "activitePrincipaleUniteLegale": record.naf_code,
            "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
            "categorieEntreprise": _CATEGORIES.get(record.headcount_band, "PME"),
            "identifiantAssociationUniteLegale": None,
        },
        "adresseEtablissement": {
            "numeroVoieEtablissement": number,
            "typeVoieEtablissement": _STREET_CODES.get(street_word, ""),
            "libelleVoieEtablissement": _sirene_text(street),
            "codePostalEtablissement": address.postal_code,
            "libelleCommuneEtablissement": _sirene_text(address.city),
            "codeCommuneEtablissement": address.insee_code,
        },
        "enseigne1Etablissement": _sirene_text(record.trade_name) if record.trade_name else None,
        "etatAdministratifEtablissement": "A" if record.active else "F",
        "activitePrincipaleEtablissement": record.naf_code,
        "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
    }


def create_app(latency_ms: float = 0) -> Starlette:
    rendered = {record.siret: render_establishment(record) for record in dataset().establishments()}

    def refused(request: Request) -> Response | None:
        if request.headers.get(API_KEY_HEADER) == API_KEY:
            return None
        return JSONResponse(
            {"header": _header(401, "Clé d'API invalide ou absente")}, status_code=401
        )

    def bad(message: str) -> Response:
        return JSONResponse({"header": _header(400, message)}, status_code=400)

    @counted("siret")
    async def one(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        siret = request.path_params["siret"]
        if not SIRET.fullmatch(siret):
            return bad("Le numéro SIRET doit comporter 14 chiffres")
        body = rendered.get(siret)
        if body is None:
            return JSONResponse({"header": _header(404, "Aucun élément trouvé")}, status_code=404)
        return JSONResponse({"header": _header(200, "ok"), "etablissement": body})

    @counted("siret_batch")
    async def batch(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return bad("Corps JSON invalide")
        sirets = payload.get("sirets") if isinstance(payload, dict) else None
        if not isinstance(sirets, list) or not all(isinstance(s, str) for s in sirets):
            return bad('Le corps doit être {"sirets": [...]}')
        if not sirets or len(sirets) > MAX_BATCH:
            return bad(f"Entre 1 et {MAX_BATCH} numéros SIRET par appel")
        if not all(SIRET.fullmatch(s) for s in sirets):
            return bad("Le numéro SIRET doit comporter 14 chiffres")
        found = [rendered[s] for s in dict.fromkeys(sirets) if s in rendered]
        return JSONResponse({"header": _header(200, "ok"), "etablissements": found})

    return new_app(
        [
            Route("/siret", batch, methods=["POST"], name="siret_batch"),
            Route("/siret/{siret}", one, methods=["GET"], name="siret"),
        ],
        latency_ms,
    )
