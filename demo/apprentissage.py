"""Simulated API Apprentissage (La bonne alternance): job offers, training programmes, centres.

What makes it different, as the real API does: a Bearer API key (demo key
``demo-key-apprentissage``); nested English-and-French objects; GeoJSON points ``[lon, lat]``;
job search answers every match at once (no paging), while training programmes are paged with
``page_index`` (from 0) and ``page_size`` (at most 100).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Address, Establishment, OfferSeed, ProgramSeed, TrainingCentre, dataset
from demo.http_support import (
    DEPARTEMENT,
    RNCP,
    ROME,
    SIRET,
    UAI,
    BadRequest,
    JSONResponse,
    bearer_token,
    check_params,
    comma_list,
    counted,
    new_app,
    number,
)
from demo.territory import distance_km
from demo.vocabulary import OCCUPATIONS

PARTNER = "apprentissage"
API_KEY = "demo-key-apprentissage"
DEFAULT_RADIUS_KM = 30.0
MAX_PAGE_SIZE = 100
CONTRACT_TYPES = {"APPRENTICESHIP": "Apprentissage", "PROFESSIONALISATION": "Professionnalisation"}
# How La bonne alternance names the OPCOs (not the hub's codes).
OPCO_LABELS = {
    "AFDAS": "AFDAS",
    "AKTO": "AKTO",
    "ATLAS": "ATLAS",
    "CONSTRUCTYS": "Constructys",
    "OPCOMMERCE": "L'Opcommerce",
    "OCAPIAT": "OCAPIAT",
    "OPCO2I": "OPCO 2i",
    "OPCO_EP": "OPCO EP",
    "OPCO_MOBILITES": "OPCO Mobilités",
    "OPCO_SANTE": "OPCO Santé",
    "UNIFORMATION": "Uniformation",
}
DIPLOMA_LABELS = {
    3: "Cap, autres formations niveau (Infrabac)",
    4: "BP, Bac, autres formations niveau (Bac)",
    5: "BTS, DEUST, autres formations niveau (Bac+2)",
    6: "Licence, Maîtrise, autres formations niveau (Bac+3 à Bac+4)",
    7: "Master, titre ingénieur, autres formations niveau (Bac+5)",
}
JOB_PARAMS = ("latitude", "longitude", "radius", "romes", "departements")
FORMATION_PARAMS = ("page_index", "page_size", "departements", "romes", "rncp", "uai_responsable")
ORGANISME_PARAMS = ("uai", "siret")
_SKILLS = {o.rome: o.skills for o in OCCUPATIONS}


def _error(message: str) -> BadRequest:
    return BadRequest({"statusCode": 400, "error": "Bad Request", "message": message})


def _not_found(message: str) -> Response:
    return JSONResponse(
        {"statusCode": 404, "error": "Not Found", "message": message}, status_code=404
    )


def _instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _point(address: Address) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [address.longitude, address.latitude]}


def _adresse(address: Address) -> dict[str, Any]:
    return {
        "label": f"{address.label} {address.postal_code} {address.city}",
        "code_postal": address.postal_code,
        "commune": {"code_insee": address.insee_code, "nom": address.city},
        "departement": {"code": address.departement},
    }


def render_job(seed: OfferSeed, employer: Establishment) -> dict[str, Any]:
    job_id = seed.publishers[PARTNER]
    where = seed.address
    return {
        "identifier": {
            "id": job_id,
            "partner_label": "La bonne alternance",
            "partner_job_id": job_id,
        },
        "workplace": {
            "siret": employer.siret,
            "name": employer.trade_name or employer.name,
            "brand": employer.trade_name,
            "legal_name": employer.name,
            "website": None,
            "description": None,
            "size": employer.headcount_band,
            "location": {
                "address": f"{where.label} {where.postal_code} {where.city}",
                "insee_code": where.insee_code,
                "zip_code": where.postal_code,
                "city": where.city,
                "geopoint": _point(where),
            },
            "domain": {
                "idcc": int(employer.idcc) if employer.idcc else None,
                "naf": {"code": employer.naf_code.replace(".", ""), "label": employer.naf_label},
            },
            "opco": OPCO_LABELS.get(employer.opco or ""),
        },
        "contract": {
            "start": _day(seed.start_date),
            "duration": seed.duration_months,
            "type": [CONTRACT_TYPES[seed.contract_kind]],
            "remote": seed.remote.lower(),
        },
        "offer": {
            "title": seed.title,
            "rome_codes": [seed.rome_code],
            "description": seed.description,
            "desired_skills": list(_SKILLS.get(seed.rome_code, ())),
            "to_be_acquired_skills": [f"{seed.rome_label} : savoir-faire du métier"],
            "access_conditions": [],
            "publication": {
                "creation": _instant(seed.published_at),
                "expiration": _instant(seed.expires_at),
            },
            "opening_count": seed.positions,
            "status": "Active",
            "target_diploma": {"european": str(seed.level), "label": DIPLOMA_LABELS[seed.level]},
        },
        "apply": {
            "url": "https://labonnealternance.apprentissage.beta.gouv.fr/emploi/"
            f"offres_emploi_lba/{job_id}",
            "phone": None,
            "recipient_id": f"jobs_{job_id}",
        },
    }


def _organisme(centre: TrainingCentre) -> dict[str, Any]:
    return {
        "identifiant": {"siret": centre.siret, "uai": centre.uai},
        "etablissement": {
            "siret": centre.siret,
            "ouvert": True,
            "enseigne": centre.name,
            "raison_sociale": centre.name.upper(),
        },
        "renseignements_specifiques": {
            "qualiopi": centre.qualiopi,
            "numero_activite": f"84{centre.siret[:9]}",
        },
        "statut": {"referentiel": "présent"},
    }


def render_organisation(centre: TrainingCentre) -> dict[str, Any]:
    return {
        **_organisme(centre),
        "type": centre.kind,
        "adresse": _adresse(centre.address),
        "geopoint": _point(centre.address),
    }


def render_formation(seed: ProgramSeed) -> dict[str, Any]:
    level = str(seed.level)
    return {
        "identifiant": {"cle_ministere_educatif": seed.publishers[PARTNER]},
        "statut": {"catalogue": "publié"},
        "certification": {
            "identifiant": {"cfd": seed.cfd, "rncp": seed.rncp, "rncp_anterieur_2019": False},
            "valeur": {
                "identifiant": {"cfd": seed.cfd, "rncp": seed.rncp},
                "intitule": {
                    "cfd": {
                        "long": seed.certification_title.upper(),
                        "court": seed.certification_title[:30].upper(),
                    },
                    "rncp": seed.certification_title,
                },
                "continuite": {
                    "cfd": {"ouverture": "2019-09-01", "fermeture": None},
                    "rncp": {"activation": "2019-09-01", "fin_enregistrement": None},
                },
                "niveau": {"europeen": level},
            },
        },
        "responsable": {
            "organisme": _organisme(seed.responsible),
            "adresse": _adresse(seed.responsible.address),
        },
        "formateur": {
            "organisme": _organisme(seed.provider),
            "adresse": _adresse(seed.provider.address),
        },
        "lieu": {
            "adresse": _adresse(seed.address),
            "geolocalisation": _point(seed.address),
            "siret": seed.provider.siret,
            "uai": seed.provider.uai,
        },
        "intitule": seed.title,
        "contenu_educatif": {
            "contenu": f"Formation en alternance préparant au {seed.certification_title}.",
            "objectif": f"Obtenir la certification {seed.rncp} (niveau {level}).",
        },
        "modalite": {
            "duree_indicative": seed.duration_months // 12,
            "entierement_a_distance": seed.fully_remote,
            "annee_cycle": None,
        },
        "sessions": [
            {
                "debut_date": _day(s.start),
                "fin_date": _day(s.end),
                "capacite": s.capacity,
                "inscrits": s.enrolled,
                "recrutement_ouvert": s.recruitment_open,
            }
            for s in seed.sessions
        ],
        "onisep": {"url": None, "intitule": seed.certification_title},
        "romes": [{"code": code} for code in seed.rome_codes],
    }


def _job_matcher(request: Request) -> Callable[[OfferSeed], bool]:
    check_params(request, JOB_PARAMS, _error)
    latitude = number(request, "latitude", _error, -90, 90)
    longitude = number(request, "longitude", _error, -180, 180)
    radius = number(request, "radius", _error, 0, 200)
    if (latitude is None) != (longitude is None):
        raise _error("latitude and longitude go together")
    if radius is not None and latitude is None:
        raise _error("radius needs latitude and longitude")
    romes = comma_list(request, "romes", ROME, _error, max_items=20)
    departements = comma_list(request, "departements", DEPARTEMENT, _error, max_items=20)
    radius_km = DEFAULT_RADIUS_KM if radius is None else radius

    def matches(seed: OfferSeed) -> bool:
        where = seed.address
        if romes is not None and seed.rome_code not in romes:
            return False
        if departements is not None and where.departement not in departements:
            return False
        if latitude is None or longitude is None:
            return True
        return distance_km(latitude, longitude, where.latitude, where.longitude) <= radius_km

    return matches


def _formation_matcher(request: Request) -> Callable[[ProgramSeed], bool]:
    departements = comma_list(request, "departements", DEPARTEMENT, _error, max_items=20)
    romes = comma_list(request, "romes", ROME, _error, max_items=20)
    rncps = comma_list(request, "rncp", RNCP, _error, max_items=20)
    uais = comma_list(request, "uai_responsable", UAI, _error, max_items=100)

    def matches(seed: ProgramSeed) -> bool:
        if departements is not None and seed.address.departement not in departements:
            return False
        if romes is not None and not any(code in romes for code in seed.rome_codes):
            return False
        if rncps is not None and seed.rncp not in rncps:
            return False
        return uais is None or seed.responsible.uai in uais

    return matches


def create_app(latency_ms: float = 0) -> Starlette:
    data = dataset()
    jobs = []
    for seed in data.offers_published_on(PARTNER):
        employer = data.employer_by_siret(seed.employer_siret)
        assert employer is not None
        jobs.append((seed, render_job(seed, employer)))
    jobs_by_id = {seed.publishers[PARTNER]: body for seed, body in jobs}
    formations = [(seed, render_formation(seed)) for seed in data.programs_published_on(PARTNER)]
    formations_by_id = {seed.publishers[PARTNER]: body for seed, body in formations}
    organisations = [(centre, render_organisation(centre)) for centre in data.centres]

    def refused(request: Request) -> Response | None:
        if bearer_token(request) == API_KEY:
            return None
        return JSONResponse(
            {"statusCode": 401, "error": "Unauthorized", "message": "Jeton d'accès invalide"},
            status_code=401,
        )

    @counted("job_search")
    async def job_search(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        matches = _job_matcher(request)
        return JSONResponse(
            {"jobs": [body for seed, body in jobs if matches(seed)], "warnings": []}
        )

    @counted("job")
    async def job(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = jobs_by_id.get(request.path_params["id"])  # a malformed id is not found
        return JSONResponse(body) if body is not None else _not_found("Offre introuvable")

    @counted("formation_search")
    async def formation_search(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        check_params(request, FORMATION_PARAMS, _error)
        page_index = int(number(request, "page_index", _error, 0, 10_000, integer=True) or 0)
        size = number(request, "page_size", _error, 1, MAX_PAGE_SIZE, integer=True)
        page_size = int(size) if size is not None else MAX_PAGE_SIZE
        matches = _formation_matcher(request)
        found = [body for seed, body in formations if matches(seed)]
        start = page_index * page_size
        return JSONResponse(
            {
                "data": found[start : start + page_size],
                "pagination": {
                    "page_index": page_index,
                    "page_size": page_size,
                    "page_count": math.ceil(len(found) / page_size),
                    "total": len(found),
                },
            }
        )

    @counted("formation")
    async def formation(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = formations_by_id.get(request.path_params["id"])
        return JSONResponse(body) if body is not None else _not_found("Formation introuvable")

    @counted("organisme_search")
    async def organisme_search(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        check_params(request, ORGANISME_PARAMS, _error)
        uais = comma_list(request, "uai", UAI, _error, max_items=100)
        sirets = comma_list(request, "siret", SIRET, _error, max_items=100)
        found = [
            body
            for centre, body in organisations
            if (uais is None or centre.uai in uais) and (sirets is None or centre.siret in sirets)
        ]
        return JSONResponse({"data": found})

    return new_app(
        [
            Route("/job/v1/search", job_search, methods=["GET"], name="job_search"),
            Route("/job/v1/offer/{id}", job, methods=["GET"], name="job"),
            Route(
                "/formation/v1/search", formation_search, methods=["GET"], name="formation_search"
            ),
            Route("/formation/v1/{id}", formation, methods=["GET"], name="formation"),
            Route(
                "/organisme/v1/search", organisme_search, methods=["GET"], name="organisme_search"
            ),
        ],
        latency_ms,
    )
