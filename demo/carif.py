"""The simulated Carif-Oref catalogue (Via Compétences): apprenticeship programmes as LHEO 2.3.

One document, ``GET /lheo/catalogue.xml``, the way a Carif-Oref publishes its open-data
export: ``<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation>…`` with, per programme,
a ``<formation>`` (title, objectives, certification and exit level, responsible organisation
by SIRET and UAI) holding an ``<action>`` (where and by whom it is delivered, its sessions).
LHEO conventions kept: dates ``AAAAMMJJ``, exit level codes 11–18 for the national levels
1–8, code lists as numbers (``etat-recrutement`` 1 = open, ``modalites-enseignement``
2 = fully remote), and what LHEO has no element for in ``<extras>``: the apprenticeship
catalogue's key (``cle-ministere-educatif``, absent from a few actions, as in real exports)
and the CFD.

The document is built once (deterministic) and served with a strong ``ETag`` and a
``Last-Modified``; a conditional GET that matches answers 304 without a body. Calls are
counted in ``app.state.calls["catalogue"]``, 304s in ``app.state.not_modified``.
"""

from __future__ import annotations

import functools
import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, cast

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import ANCHOR, Address, ProgramSeed, TrainingCentre, dataset
from demo.http_support import counted, new_app

NAMESPACE = "http://lheo.gouv.fr/2.3"
PATH = "/lheo/catalogue.xml"
MEDIA_TYPE = "application/xml"
LAST_MODIFIED = format_datetime(ANCHOR, usegmt=True)
REGION_AURA = "84"
CONTRACTS = {"APPRENTICESHIP": "apprentissage", "PROFESSIONALISATION": "professionnalisation"}
# LHEO is the default namespace (lxml-stubs type nsmap keys as str, lxml takes None for it)
_NSMAP = cast(dict[str, str], {None: NAMESPACE})


def _el(tag: str, *children: etree._Element, **attributes: str) -> etree._Element:
    """An LHEO element (``_el("adresse", …)``); ``numero="…"`` sets an attribute."""
    element = etree.Element(f"{{{NAMESPACE}}}{tag}", attributes, nsmap=_NSMAP)
    element.extend(children)
    return element


def _text(tag: str, value: Any, **attributes: str) -> etree._Element:
    element = _el(tag, **attributes)
    element.text = str(value)
    return element


def _address(address: Address, full: bool = True) -> etree._Element:
    if not full:  # a postal address only (where to register)
        return _el(
            "adresse",
            _text("ligne", address.label),
            _text("codepostal", address.postal_code),
            _text("ville", address.city),
        )
    return _el(
        "adresse",
        _text("ligne", address.label),
        _text("codepostal", address.postal_code),
        _text("ville", address.city),
        _text("departement", address.departement),
        _text("code-INSEE-commune", address.insee_code),
        _text("region", REGION_AURA),
        _text("pays", "FR"),
        _el(
            "geolocalisation",
            _text("latitude", f"{address.latitude:.5f}"),
            _text("longitude", f"{address.longitude:.5f}"),
        ),
    )


def _activity_number(centre: TrainingCentre) -> str:
    """A déclaration d'activité number: region, département, then 7 digits (deterministic)."""
    digits = int(hashlib.sha256(centre.siret.encode()).hexdigest()[:8], 16) % 10_000_000
    return f"{REGION_AURA}{centre.address.departement}{digits:07d}"


def _extras(info: str, values: dict[str, str]) -> etree._Element:
    return _el("extras", *(_text("extra", v, info=k) for k, v in values.items()), info=info)


def _has_catalogue_key(program: ProgramSeed) -> bool:
    # A few real actions lack the key: the gateway then merges by RNCP + UAI + commune.
    return int(program.publishers["carif"].removeprefix("AF_")) % 7 != 0


def _session(action_number: str, position: int, program: ProgramSeed) -> etree._Element:
    session = program.sessions[position]
    return _el(
        "session",
        _el(
            "periode",
            _text("debut", session.start.strftime("%Y%m%d")),
            _text("fin", session.end.strftime("%Y%m%d")),
        ),
        _el("adresse-inscription", _address(program.responsible.address, full=False)),
        _text("etat-recrutement", "1" if session.recruitment_open else "2"),
        numero=f"{action_number}-S{position + 1}",
    )


def _action(program: ProgramSeed) -> etree._Element:
    number = program.publishers["carif"]
    provider = program.provider
    contracts = ",".join(CONTRACTS[kind] for kind in program.contract_kinds)
    extras = {"types-contrat": contracts, "duree-mois": str(program.duration_months)}
    if _has_catalogue_key(program):
        extras = {"cle-ministere-educatif": program.publishers["apprentissage"], **extras}
    return _el(
        "action",
        _text("rythme-formation", "Alternance entre le centre de formation et l'entreprise"),
        _text("niveau-entree-obligatoire", "0"),
        _text(
            "modalites-alternance",
            "Contrat d'apprentissage : une à deux semaines en "
            "centre par mois, le reste en entreprise.",
        ),
        _text("modalites-enseignement", "2" if program.fully_remote else "0"),
        _text("conditions-specifiques", "Avoir entre 16 et 29 ans révolus et un employeur."),
        _text("prise-en-charge-frais-possible", "1"),
        _el(
            "lieu-de-formation",
            _el("coordonnees", _text("nom", provider.name), _address(program.address)),
        ),
        _text("modalites-entrees-sorties", "0"),
        *(_session(number, i, program) for i in range(len(program.sessions))),
        _el(
            "organisme-formateur",
            _el("SIRET-formateur", _text("SIRET", provider.siret), _text("code-UAI", provider.uai)),
            _text("raison-sociale-formateur", provider.name),
        ),
        _extras("action", extras),
        numero=number,
    )


def _formation(program: ProgramSeed) -> etree._Element:
    centre = program.responsible
    return _el(
        "formation",
        _el("domaine-formation", *(_text("code-ROME", rome) for rome in program.rome_codes)),
        _text("intitule-formation", program.title),
        _text(
            "objectif-formation",
            f"Préparer le {program.certification_title} en alternance, avec un contrat "
            "d'apprentissage : acquérir les compétences du métier en centre et en entreprise.",
        ),
        _text("resultats-attendus", f"{program.certification_title} (niveau {program.level})."),
        _text(
            "contenu-formation",
            "Enseignements professionnels et généraux, "
            "périodes en entreprise, accompagnement au projet.",
        ),
        _text("certifiante", "1"),
        _el(
            "contact-formation",
            _el(
                "coordonnees",
                _el("telephone", _text("numtel", "04 79 00 00 00")),
                _text("courriel", "information@formation.example"),
            ),
        ),
        _text("parcours-de-formation", "1"),
        _text("code-niveau-entree", "0"),
        _el(
            "certification",
            _text("code-RNCP", program.rncp),
            _extras("certification", {"code-CFD": program.cfd}),
        ),
        _text("code-niveau-sortie", str(10 + program.level)),
        _action(program),
        _el(
            "organisme-formation-responsable",
            _text("numero-activite", _activity_number(centre)),
            _el(
                "SIRET-organisme-formation",
                _text("SIRET", centre.siret),
                _text("code-UAI", centre.uai),
            ),
            _text("nom-organisme", centre.name),
            _text("raison-sociale", centre.name),
            _el("coordonnees-organisme", _el("coordonnees", _address(centre.address))),
        ),
        numero=f"FOR_{centre.uai}_{program.rncp}",
    )


def catalogue(programs: tuple[ProgramSeed, ...] | None = None) -> bytes:
    """The LHEO 2.3 document of the programmes the Carif-Oref publishes."""
    chosen = dataset().programs_published_on("carif") if programs is None else programs
    root = _el("lheo", _el("offres", *(_formation(p) for p in chosen)))
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


def strong_etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:24]}"'


def not_modified(request: Request, etag: str, last_modified: str) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


def feed_response(
    request: Request, body: bytes, media_type: str, etag: str, last_modified: str
) -> Response:
    validators = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=300"}
    if not_modified(request, etag, last_modified):
        request.app.state.not_modified += 1
        return Response(status_code=304, headers=validators)
    return Response(body, media_type=media_type, headers=validators)


@functools.cache
def _demo_catalogue() -> bytes:
    return catalogue()


def create_app(latency_ms: float = 0) -> Starlette:
    body = _demo_catalogue()  # built once per process: the dataset is deterministic
    etag = strong_etag(body)

    @counted("catalogue")
    async def lheo_catalogue(request: Request) -> Response:
        return feed_response(request, body, MEDIA_TYPE, etag, LAST_MODIFIED)

    app = new_app([Route(PATH, lheo_catalogue, methods=["GET"])], latency_ms)
    app.state.not_modified = 0
    return app


__all__ = ["NAMESPACE", "PATH", "catalogue", "create_app", "feed_response", "strong_etag"]
