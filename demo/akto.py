"""The simulated AKTO (an OPCO): its public CSV exports, the way a spreadsheet writes them.

- ``GET /exports/entreprises.csv`` — ``siren;raison_sociale;idcc;opco;date_maj``: each
  company's collective agreement (IDCC) and the OPCO it belongs to, OPCOs by their usual names
  ("Opco Mobilités", "L'Opcommerce");
- ``GET /exports/niveaux-prise-en-charge.csv`` —
  ``code_rncp;intitule;niveau;niveau_prise_en_charge;date_effet``: the funding level
  (niveau de prise en charge) of each certification, with its history (a revision in 2025).

And its contracts API, JSON, shaped like the DECA contract API (``/api/v1/contrats``), whose
routes check the signed principal when ``assertion_jwks`` is given: see
:mod:`demo.akto_contracts`.

Both exports are ``;``-separated, encoded in Latin-1 (ISO-8859-1), dates ``dd/mm/yyyy``,
amounts with a decimal comma and a space between thousands (``8 500,00``), lines ending CR LF.
Each is served with a strong ``ETag`` and a ``Last-Modified``; a matching conditional GET
answers 304.
Calls are counted in ``app.state.calls["entreprises"]`` / ``["niveaux"]``, 304s in
``app.state.not_modified``.
"""

from __future__ import annotations

import csv
import functools
import io
import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo import akto_contracts
from demo.carif import feed_response, strong_etag
from demo.data import ANCHOR, Establishment, ProgramSeed, dataset
from demo.http_support import counted, new_app
from demo.personal import personal_dataset
from demo.principal import AssertionVerifier

COMPANIES_PATH = "/exports/entreprises.csv"
FUNDING_PATH = "/exports/niveaux-prise-en-charge.csv"
MEDIA_TYPE = "text/csv; charset=ISO-8859-1"
ENCODING = "latin-1"

OPCO_NAMES = {
    "AFDAS": "AFDAS",
    "AKTO": "AKTO",
    "ATLAS": "ATLAS",
    "CONSTRUCTYS": "Constructys",
    "OPCOMMERCE": "L'Opcommerce",
    "OCAPIAT": "OCAPIAT",
    "OPCO2I": "OPCO 2i",
    "OPCO_EP": "OPCO EP",
    "OPCO_MOBILITES": "Opco Mobilités",
    "OPCO_SANTE": "OPCO Santé",
    "UNIFORMATION": "Uniformation",
}
"""OPCO code of the common syntax -> the name the export writes."""

FIRST_LEVELS = date(2023, 4, 1)
REVISION = date(2025, 7, 15)
_EXPORTED_ON = ANCHOR.date()
_LAST_MODIFIED = "Sun, 15 Nov 2026 06:30:00 GMT"
_LATIN1_STANDINS = str.maketrans({"—": "-", "–": "-", "’": "'", "œ": "oe", "Œ": "OE", "…": "..."})


def _french_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _french_amount(amount: float) -> str:
    """``8 500,00``: a space between thousands, a decimal comma."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


def _encoded(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().translate(_LATIN1_STANDINS).encode(ENCODING, errors="replace")


def companies_csv(establishments: Iterable[Establishment] | None = None) -> bytes:
    chosen = dataset().establishments() if establishments is None else establishments
    rows, seen = [], set()
    for company in chosen:
        if company.opco is None or company.idcc is None or company.siren in seen:
            continue  # public bodies and companies without a collective agreement
        seen.add(company.siren)
        updated = _EXPORTED_ON - timedelta(days=int(company.siren) % 700)
        rows.append(
            [
                company.siren,
                company.name,
                company.idcc,
                OPCO_NAMES[company.opco],
                _french_date(updated),
            ]
        )
    return _encoded(("siren", "raison_sociale", "idcc", "opco", "date_maj"), rows)


def _levels(rncp: str, level: int) -> list[tuple[date, float]]:
    """A certification's funding levels over time (deterministic per RNCP code)."""
    rng = random.Random(f"akto:{rncp}")
    first = 5_500.0 + 700 * (level - 3) + rng.randint(0, 160) * 12.5
    history = [(FIRST_LEVELS, first)]
    if rng.random() < 0.5:
        history.append((REVISION, round(first * 0.95, 2)))  # the 2025 decrease
    return history


def funding_csv(programs: Iterable[ProgramSeed] | None = None) -> bytes:
    chosen = dataset().programs if programs is None else programs
    certifications: dict[str, ProgramSeed] = {}
    for program in chosen:
        certifications.setdefault(program.rncp, program)
    rows = [
        [
            rncp,
            program.certification_title,
            str(program.level),
            _french_amount(amount),
            _french_date(since),
        ]
        for rncp, program in sorted(certifications.items())
        for since, amount in _levels(rncp, program.level)
    ]
    header = ("code_rncp", "intitule", "niveau", "niveau_prise_en_charge", "date_effet")
    return _encoded(header, rows)


@functools.cache
def _demo_exports() -> tuple[bytes, bytes]:
    return companies_csv(), funding_csv()


def create_app(
    latency_ms: float = 0,
    assertion_jwks: dict[str, Any] | None = None,
    audience: str = akto_contracts.AUDIENCE,
    canary: str | None = None,
) -> Starlette:
    """AKTO; ``assertion_jwks`` (the hub's public keys) makes the contracts API require a valid
    principal assertion for ``audience``; ``canary`` defaults to ``HUB_DEMO_CANARY``. The CSV
    exports stay public."""
    verifier = None if assertion_jwks is None else AssertionVerifier(assertion_jwks, audience)
    contracts = akto_contracts.routes(dataset(), personal_dataset(canary), verifier)
    companies, funding = _demo_exports()  # built once per process: the dataset is deterministic
    companies_etag, funding_etag = strong_etag(companies), strong_etag(funding)

    @counted("entreprises")
    async def companies_export(request: Request) -> Response:
        return feed_response(request, companies, MEDIA_TYPE, companies_etag, _LAST_MODIFIED)

    @counted("niveaux")
    async def funding_export(request: Request) -> Response:
        return feed_response(request, funding, MEDIA_TYPE, funding_etag, _LAST_MODIFIED)

    app = new_app(
        [
            Route(COMPANIES_PATH, companies_export, methods=["GET"]),
            Route(FUNDING_PATH, funding_export, methods=["GET"]),
            *contracts,
        ],
        latency_ms,
    )
    app.state.not_modified = 0
    return app


__all__ = [
    "COMPANIES_PATH",
    "FUNDING_PATH",
    "OPCO_NAMES",
    "companies_csv",
    "create_app",
    "funding_csv",
]
