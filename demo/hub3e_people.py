"""Hub3E's personal half: its candidate files ("candidats 360°") and placements.

Its own ids (``CAN-123456``, ``PLC-123456``) and placement statuses (``NEW``, ``QUALIFIED``,
``SENT_TO_COMPANY``, ``MEETING``, ``HIRED``, ``LOST``), dates ``dd/mm/yyyy``, instants ISO 8601
in UTC, ``offset``/``limit`` pages with the total in the body, as its missions::

    GET  /api/v2/candidats?offset=&limit=&uai=&statut=     -> {"items", "total", "offset", "limit"}
    GET  /api/v2/candidats/{id}                             -> one file with its placements
    POST /api/v2/candidats/recherche {"ine"} or {"email", "date_naissance"}
                                                            -> {"items": [...]}: matching on
         declared keys without putting personal values in a URL
    GET  /api/v2/placements?offset=&limit=&uai=&siret=&statut=&candidat=
    GET  /api/v2/placements/{id}
    GET  /api/v2/placements/reference/{reference_client}    -> the placement a hub created
    POST /api/v2/placements {"candidat_id", "mission_id", "reference_client"}
                                                            -> 201 the new placement (NEW);
         200 and the first placement when that reference was already used (idempotent)
    GET  /api/v2/statistiques/placements?par=statut,mois,uai,departement,domaine_rome,niveau
         &statut=&uai=&departement=&domaine_rome=&niveau=&depuis=&avant=&hors_miroirs=oui
                                                            -> {"groupes": [{"statut", "mois",
         ..., "effectif", "somme_cles"}]}: counts of placements for the observatory
    PATCH /api/v2/placements/{id} {"statut", "reference_client"}
                                                            -> 200 the placement moved on;
         409 for a move Hub3E's own steps do not allow (only forward, or to LOST, never out of
         HIRED or LOST); 200 and nothing changed when that reference was already used; the
         reference then finds the placement at ``/placements/reference/{reference_client}``.
         A placement's ``reference_client`` is the hub's reference of the last write applied
         to it (its creation, or its last move).

The same people as the ERPs (demo.personal): some files carry the INE, others not (the hub
matches those on e-mail + birth date), some people only Hub3E knows.

**Who sees what** (when the app has a JWKS, every route here needs a valid assertion, else 401):
TRAINING_CENTRE the files and placements of its centre (``org`` = its UAI or SIRET);
EMPLOYER the placements on its missions (``org`` = SIRET) and those candidates' files, without
the birth date; CANDIDATE its own file (``sub`` = the Hub3E id ``CAN-…`` or the INE Hub3E
holds) and its placements; OPCO, OBSERVATORY and ADMIN nothing. A record one may not see is
answered exactly as a missing one. Without a JWKS every record is served (the hub decides).

**Statistics** (``/api/v2/statistiques/placements``): OBSERVATORY only (any other principal:
403), counts and nothing else. Grouped by ``par`` (``statut``: the last status; ``mois``: the
UTC month of the placement's creation; ``uai``: its file's centre; ``departement``: that of
the candidate's home commune, from the file; ``domaine_rome``: the first three characters of
the mission's ROME code; ``niveau``: the mission's target level, ``"3"``..``"7"``), filtered
by each of them but ``mois`` (comma-separated), ``depuis`` (included) and ``avant``
(excluded) on the creation day;
``hors_miroirs=oui`` leaves out the placements that mirror a centre's application (Hub3E keeps
the centre's reference of an application proposed on its missions), which the centre's ERP
counts itself. ``somme_cles`` is the sum of the placements' ONS record keys modulo 2^32
(:mod:`demo.record_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Dataset, OfferSeed
from demo.http_support import SIRET, UAI, BadRequest, JSONResponse, check_params, counted, number
from demo.lifecycle import HUB3E_STATUSES
from demo.person_seeds import Hub3eCandidate, Hub3ePlacement, PlacementStep
from demo.personal import PersonalDataset
from demo.principal import AssertionVerifier, Principal, principal_of
from demo.record_keys import demo_record_key

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CANDIDATE_PARAMS = ("offset", "limit", "uai", "statut")
PLACEMENT_PARAMS = ("offset", "limit", "uai", "siret", "statut", "candidat")
STATISTICS_PARAMS = (
    "par",
    "statut",
    "uai",
    "departement",
    "domaine_rome",
    "niveau",
    "depuis",
    "avant",
    "hors_miroirs",
)
STATISTICS_GROUPS = ("statut", "mois", "uai", "departement", "domaine_rome", "niveau")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DEPARTEMENT = re.compile(r"\d[0-9AB]\d?")
ROME_DOMAIN = re.compile(r"[A-N]\d{2}")
LEVEL = re.compile(r"[1-8]")
REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
HUB3E_ID = re.compile(r"(CAN|PLC)-\d{6}")
INE = re.compile(r"[0-9A-Z]{11}")
FRENCH_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")
MAX_BODY_BYTES = 4096


def _error(message: str, status: int = 400) -> BadRequest:
    return BadRequest({"erreur": message, "code": status}, status)


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"erreur": f"{what} introuvable", "code": 404}, status_code=404)


def _refused() -> BadRequest:
    return _error("assertion du principal absente ou invalide", 401)


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Placement:
    """A placement as Hub3E holds it: seeded, or created by a hub (then with its reference)."""

    id: str
    candidate_id: str
    mission: OfferSeed
    history: list[PlacementStep]
    client_reference: str | None = None  # the hub's reference of its last write here
    mirrors: tuple[str, int] | None = None  # the centre's application it mirrors, if any

    @classmethod
    def seeded(cls, seed: Hub3ePlacement) -> Placement:
        return cls(
            seed.id, seed.candidate_id, seed.mission, list(seed.history), None, seed.application
        )


class Hub3ePeople:
    """The files and placements of one app, with the rules of who sees what."""

    def __init__(
        self, data: Dataset, people: PersonalDataset, missions: dict[str, OfferSeed]
    ) -> None:
        self.data, self.people, self.missions = data, people, missions
        self.files = {f.id: f for f in sorted(people.hub3e_candidates, key=lambda f: f.id)}
        self.placements = {
            p.id: Placement.seeded(p) for p in sorted(people.hub3e_placements, key=lambda p: p.id)
        }
        self.of_candidate: dict[str, list[Placement]] = {}  # a file's placements, in id order
        for placement in self.placements.values():
            self.of_candidate.setdefault(placement.candidate_id, []).append(placement)
        self.by_reference: dict[str, str] = {}
        self.next_number = 900_000  # created placements: PLC-9xxxxx, after every seeded one

    # -- who sees what ---------------------------------------------------------------------

    def employer_of(self, placement: Placement) -> str:
        return placement.mission.employer_siret

    def sees_file(self, who: Principal | None, file: Hub3eCandidate) -> bool:
        if who is None:
            return True
        if who.role == "TRAINING_CENTRE":
            return who.org in (file.centre_uai, file.centre_siret)
        if who.role == "EMPLOYER":
            return any(self.employer_of(p) == who.org for p in self.of_candidate.get(file.id, ()))
        if who.role == "CANDIDATE":
            ine = self.people.persons[file.person_key].ine if file.knows_ine else None
            return who.sub == file.id or (ine is not None and ine in (who.sub, who.ine))
        return False

    def sees_placement(self, who: Principal | None, placement: Placement) -> bool:
        if who is not None and who.role == "EMPLOYER":
            return self.employer_of(placement) == who.org
        return self.sees_file(who, self.files[placement.candidate_id])

    # -- rendering ---------------------------------------------------------------------------

    def placement_body(self, placement: Placement) -> dict[str, Any]:
        file = self.files[placement.candidate_id]
        employer = self.data.employer_by_siret(placement.mission.employer_siret)
        assert employer is not None
        return {
            "id": placement.id,
            "candidat_id": placement.candidate_id,
            "mission_id": placement.mission.publishers["hub3e"],
            "entreprise": {"siret": employer.siret, "raison_sociale": employer.name},
            "cfa": {"uai": file.centre_uai, "siret": file.centre_siret},
            "statut": placement.history[-1].status,
            "historique": [{"statut": s.status, "le": _instant(s.at)} for s in placement.history],
            "reference_client": placement.client_reference,
            "cree_le": _instant(placement.history[0].at),
            "maj_le": _instant(placement.history[-1].at),
        }

    def file_status(self, file: Hub3eCandidate) -> str:
        statuses = [p.history[-1].status for p in self.of_candidate.get(file.id, ())]
        active = [s for s in statuses if s != "LOST"]
        if active:
            return max(active, key=HUB3E_STATUSES.index)
        return "LOST" if statuses else "NEW"

    def file_body(self, file: Hub3eCandidate, who: Principal | None) -> dict[str, Any]:
        person = self.people.persons[file.person_key]
        body: dict[str, Any] = {
            "id": file.id,
            "nom": person.last_name,
            "prenom": person.first_name,
            "date_naissance": person.birth_date.strftime("%d/%m/%Y"),
            "email": person.email,
            "telephone": person.phone,
            "ine": person.ine if file.knows_ine else None,
            "commune_insee": person.commune_insee,
            "niveau_etudes": person.highest_diploma,
            "statut": self.file_status(file),
            "cfa": {"uai": file.centre_uai, "siret": file.centre_siret},
            "cree_le": _instant(file.created_at),
            "placements": [
                {
                    "id": p.id,
                    "mission_id": p.mission.publishers["hub3e"],
                    "statut": p.history[-1].status,
                }
                for p in self.of_candidate.get(file.id, ())
                if self.sees_placement(who, p)
            ],
        }
        if who is not None and who.role == "EMPLOYER":
            del body["date_naissance"]  # an employer never sees the birth date
        return body

    # -- creating ----------------------------------------------------------------------------

    def create(
        self, who: Principal | None, candidate_id: str, mission_id: str, reference: str
    ) -> Placement | None:
        """A new placement (NEW) under ``reference``; None when the candidate or the mission
        is unknown, or the candidate not the principal's to place (an employer places no one)."""
        file = self.files.get(candidate_id)
        if file is None or not self.sees_file(who, file) or (who and who.role == "EMPLOYER"):
            return None
        mission = self.missions.get(mission_id)
        if mission is None:
            return None
        self.next_number += 1
        placement = Placement(
            id=f"PLC-{self.next_number}",
            candidate_id=file.id,
            mission=mission,
            history=[PlacementStep("NEW", datetime.now(UTC).replace(microsecond=0))],
            client_reference=reference,
        )
        self.placements[placement.id] = placement
        self.of_candidate.setdefault(file.id, []).append(placement)
        self.by_reference[reference] = placement.id
        return placement

    def move(self, placement: Placement, status: str, reference: str) -> bool:
        """``placement`` moved on to ``status`` under ``reference``; False (nothing changed)
        when Hub3E's own steps do not allow it: forward only, or to LOST, and never out of
        HIRED (what follows is the contract, not Hub3E's) or LOST."""
        here = placement.history[-1].status
        if here in ("HIRED", "LOST") or status == here:
            return False
        if status != "LOST" and HUB3E_STATUSES.index(status) < HUB3E_STATUSES.index(here):
            return False
        placement.history.append(PlacementStep(status, datetime.now(UTC).replace(microsecond=0)))
        placement.client_reference = reference  # the reference of the last write applied
        self.by_reference[reference] = placement.id
        return True


def statistics_groups(store: Hub3ePeople, placement: Placement) -> dict[str, str]:
    """A placement's values of every statistics group: what Hub3E holds of it."""
    file = store.files[placement.candidate_id]
    return {
        "statut": placement.history[-1].status,
        "mois": placement.history[0].at.astimezone(UTC).strftime("%Y-%m"),
        "uai": file.centre_uai,
        "departement": store.people.persons[file.person_key].commune_insee[:2],
        "domaine_rome": placement.mission.rome_code[:3],
        "niveau": str(placement.mission.level),
    }


def statistics(
    store: Hub3ePeople,
    groups: list[str],
    kept: dict[str, set[str]],
    since: str | None,
    before: str | None,
    without_mirrors: bool,
) -> list[dict[str, Any]]:
    """Counts of placements by ``groups``: what the observatory gets, and nothing else.
    ``kept``: group name -> the values a placement must have (its filters)."""
    cells: dict[tuple[str, ...], list[int]] = {}
    for placement in store.placements.values():
        values = statistics_groups(store, placement)
        day = placement.history[0].at.astimezone(UTC).strftime("%Y-%m-%d")
        if (
            any(values[name] not in allowed for name, allowed in kept.items())
            or (since is not None and day < since)
            or (before is not None and day >= before)
            or (without_mirrors and placement.mirrors is not None)
        ):
            continue
        cell = cells.setdefault(tuple(values[g] for g in groups), [0, 0])
        cell[0] += 1
        cell[1] = (cell[1] + demo_record_key("hub3e", "application", placement.id)) % (1 << 32)
    return [
        {**dict(zip(groups, key, strict=True)), "effectif": count, "somme_cles": keys}
        for key, (count, keys) in sorted(cells.items())
    ]


T = TypeVar("T")


def _page(request: Request, found: list[T], render: Callable[[T], dict[str, Any]]) -> Response:
    """The page asked for of what matched: only its records are rendered."""
    offset = int(number(request, "offset", _error, 0, 1_000_000, integer=True) or 0)
    limit = number(request, "limit", _error, 1, MAX_LIMIT, integer=True)
    size = DEFAULT_LIMIT if limit is None else int(limit)
    return JSONResponse(
        {
            "items": [render(record) for record in found[offset : offset + size]],
            "total": len(found),
            "offset": offset,
            "limit": size,
        }
    )


def _checked(request: Request, name: str, pattern: re.Pattern[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and not pattern.fullmatch(value):
        raise _error(f"valeur invalide pour {name}")
    return value


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _error("corps trop long", 413)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _error("corps JSON invalide") from None
    if not isinstance(value, dict):
        raise _error("un objet JSON est attendu")
    return value


def _text(body: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _error(f"champ {name} absent ou invalide")
    return value


def routes(
    store: Hub3ePeople,
    refused_key: Callable[[Request], Response | None],
    verifier: AssertionVerifier | None,
) -> list[Route]:
    """Hub3E's personal routes over ``store``, behind its API key and, with a JWKS, the
    signed principal."""
    statuses = re.compile("|".join(HUB3E_STATUSES))

    def caller(request: Request) -> Principal | None:
        return principal_of(request, verifier, _refused)

    @counted("candidats")
    async def list_files(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        check_params(request, CANDIDATE_PARAMS, _error)
        uai = _checked(request, "uai", UAI)
        status = _checked(request, "statut", statuses)
        found = [
            f
            for f in store.files.values()
            if store.sees_file(who, f)
            and (uai is None or f.centre_uai == uai)
            and (status is None or store.file_status(f) == status)
        ]
        return _page(request, found, lambda f: store.file_body(f, who))

    @counted("candidat")
    async def one_file(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        file = store.files.get(request.path_params["id"])
        if file is None or not store.sees_file(who, file):
            return _not_found("candidat")
        return JSONResponse(store.file_body(file, who))

    @counted("recherche")
    async def search_files(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        body = await _json_object(request)
        if "ine" in body:
            ine = _text(body, "ine", INE)
            keep = [
                f
                for f in store.files.values()
                if f.knows_ine and store.people.persons[f.person_key].ine == ine
            ]
        else:
            email = _text(body, "email", re.compile(r"[^@\s]{1,100}@[^@\s]{1,100}")).lower()
            born = _text(body, "date_naissance", FRENCH_DATE)
            keep = [
                f
                for f in store.files.values()
                if store.people.persons[f.person_key].email.lower() == email
                and store.people.persons[f.person_key].birth_date.strftime("%d/%m/%Y") == born
            ]
        return JSONResponse(
            {"items": [store.file_body(f, who) for f in keep if store.sees_file(who, f)]}
        )

    @counted("placements")
    async def list_placements(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        check_params(request, PLACEMENT_PARAMS, _error)
        uai = _checked(request, "uai", UAI)
        siret = _checked(request, "siret", SIRET)
        status = _checked(request, "statut", statuses)
        candidate = _checked(request, "candidat", HUB3E_ID)
        found = [
            p
            for p in store.placements.values()
            if store.sees_placement(who, p)
            and (uai is None or store.files[p.candidate_id].centre_uai == uai)
            and (siret is None or p.mission.employer_siret == siret)
            and (status is None or p.history[-1].status == status)
            and (candidate is None or p.candidate_id == candidate)
        ]
        return _page(request, found, store.placement_body)

    @counted("statistiques_placements")
    async def placement_statistics(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        if who is not None and who.role != "OBSERVATORY":
            return JSONResponse(
                {"erreur": "statistiques réservées à l'observatoire", "code": 403},
                status_code=403,
            )
        check_params(request, STATISTICS_PARAMS, _error)
        groups = [g for g in request.query_params.get("par", "").split(",") if g]
        if any(g not in STATISTICS_GROUPS for g in groups) or len(set(groups)) != len(groups):
            raise _error("valeur invalide pour par")

        kept: dict[str, set[str]] = {}
        for name, pattern in (
            ("statut", statuses),
            ("uai", UAI),
            ("departement", DEPARTEMENT),
            ("domaine_rome", ROME_DOMAIN),
            ("niveau", LEVEL),
        ):
            value = request.query_params.get(name)
            if value is not None:
                items = value.split(",")
                if not all(pattern.fullmatch(item) for item in items):
                    raise _error(f"valeur invalide pour {name}")
                kept[name] = set(items)

        return JSONResponse(
            {
                "groupes": statistics(
                    store,
                    groups,
                    kept,
                    _checked(request, "depuis", ISO_DAY),
                    _checked(request, "avant", ISO_DAY),
                    request.query_params.get("hors_miroirs") == "oui",
                )
            }
        )

    @counted("placement")
    async def one_placement(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        placement = store.placements.get(request.path_params["id"])
        if placement is None or not store.sees_placement(who, placement):
            return _not_found("placement")
        return JSONResponse(store.placement_body(placement))

    @counted("placement_par_reference")
    async def by_reference(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        placement_id = store.by_reference.get(request.path_params["reference"])
        placement = store.placements.get(placement_id or "")
        if placement is None or not store.sees_placement(who, placement):
            return _not_found("placement")
        return JSONResponse(store.placement_body(placement))

    @counted("creation_placement")
    async def create(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        body = await _json_object(request)
        reference = _text(body, "reference_client", REFERENCE)
        candidate_id = _text(body, "candidat_id", HUB3E_ID)
        mission_id = _text(body, "mission_id", re.compile(r"M-\d{5}"))
        known = store.by_reference.get(reference)
        if known is not None:  # a retry: the first placement, nothing created twice
            first = store.placements[known]
            if not store.sees_placement(who, first):
                return JSONResponse(
                    {"erreur": "référence déjà utilisée", "code": 409}, status_code=409
                )
            return JSONResponse(store.placement_body(first), status_code=200)
        made = store.create(who, candidate_id, mission_id, reference)
        if made is None:
            return _not_found("candidat ou mission")
        return JSONResponse(store.placement_body(made), status_code=201)

    @counted("etape_placement")
    async def move(request: Request) -> Response:
        if (answer := refused_key(request)) is not None:
            return answer
        who = caller(request)
        placement = store.placements.get(request.path_params["id"])
        # An employer moves the placements on its missions; a candidate none (Hub3E's rule).
        if placement is None or not store.sees_placement(who, placement):
            return _not_found("placement")
        body = await _json_object(request)
        reference = _text(body, "reference_client", REFERENCE)
        status = _text(body, "statut", re.compile("|".join(HUB3E_STATUSES)))
        if store.by_reference.get(reference) == placement.id:  # a retry: already moved
            return JSONResponse(store.placement_body(placement))
        if reference in store.by_reference or (who is not None and who.role == "CANDIDATE"):
            return JSONResponse({"erreur": "étape refusée", "code": 409}, status_code=409)
        if not store.move(placement, status, reference):
            return JSONResponse({"erreur": "étape impossible", "code": 409}, status_code=409)
        return JSONResponse(store.placement_body(placement))

    return [
        Route("/api/v2/candidats", list_files, methods=["GET"], name="candidats"),
        Route("/api/v2/candidats/recherche", search_files, methods=["POST"], name="recherche"),
        Route("/api/v2/candidats/{id}", one_file, methods=["GET"], name="candidat"),
        Route("/api/v2/placements", list_placements, methods=["GET"], name="placements"),
        Route("/api/v2/placements", create, methods=["POST"], name="creation_placement"),
        Route(
            "/api/v2/statistiques/placements",
            placement_statistics,
            methods=["GET"],
            name="statistiques_placements",
        ),
        Route(
            "/api/v2/placements/reference/{reference}",
            by_reference,
            methods=["GET"],
            name="placement_par_reference",
        ),
        Route("/api/v2/placements/{id}", one_placement, methods=["GET"], name="placement"),
        Route("/api/v2/placements/{id}", move, methods=["PATCH"], name="etape_placement"),
    ]


__all__ = ["Hub3ePeople", "routes", "statistics_groups"]
