"""Closed code lists of the common syntax: certification levels, OPCOs, ROME and NAF labels.

Levels and OPCOs are small and fixed, so they live here as constants. The ROME and NAF
nomenclatures are data files in ``reference/data``; each is read once, on first use, so that
importing this module costs nothing and never fails.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

# European qualification framework (cadre national des certifications professionnelles, 2019).
# Levels 1 and 2 (basic skills) certify no diploma, so the common syntax starts at 3.
LEVELS: Mapping[int, str] = MappingProxyType(
    {
        3: "Niveau 3 — CAP, BEP",
        4: "Niveau 4 — Baccalauréat, brevet professionnel",
        5: "Niveau 5 — BTS, DUT, Bac+2",
        6: "Niveau 6 — Licence, BUT, licence professionnelle, Bac+3",
        7: "Niveau 7 — Master, diplôme d'ingénieur, Bac+5",
        8: "Niveau 8 — Doctorat",
    }
)

# The eleven opérateurs de compétences approved since 2019; the code is the common syntax's.
OPCOS: Mapping[str, str] = MappingProxyType(
    {
        "AFDAS": "Afdas — Opérateur de compétences de la culture, des industries créatives, "
        "des médias, de la communication, des télécommunications, du sport, du tourisme, "
        "des loisirs et du divertissement",
        "AKTO": "Akto — Opérateur de compétences des services à forte intensité de main-d'œuvre",
        "ATLAS": "Atlas — Opérateur de compétences des services financiers et du conseil",
        "CONSTRUCTYS": "Constructys — Opérateur de compétences de la construction",
        "OPCOMMERCE": "L'Opcommerce — Opérateur de compétences du commerce",
        "OCAPIAT": "Ocapiat — Opérateur de compétences de la coopération agricole, de "
        "l'agriculture, de la pêche, de l'industrie agroalimentaire et des territoires",
        "OPCO2I": "Opco 2i — Opérateur de compétences interindustriel",
        "OPCO_EP": "Opco EP — Opérateur de compétences des entreprises de proximité",
        "OPCO_MOBILITES": "Opco Mobilités — Opérateur de compétences des mobilités",
        "OPCO_SANTE": "Opco Santé — Opérateur de compétences de la santé",
        "UNIFORMATION": "Uniformation — Opérateur de compétences de la cohésion sociale",
    }
)


@dataclass(frozen=True, slots=True)
class RomeEntry:
    code: str
    label: str
    domain: str


def _data_rows(filename: str) -> list[dict[str, str]]:
    # A missing file is a packaging bug: let FileNotFoundError say so on first use.
    text = resources.files("reference").joinpath("data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@functools.cache
def _rome() -> Mapping[str, RomeEntry]:
    entries = {
        row["code"]: RomeEntry(row["code"], row["label"], row["domain"])
        for row in _data_rows("rome.csv")
    }
    return MappingProxyType(entries)


@functools.cache
def _naf() -> Mapping[str, str]:
    return MappingProxyType({row["code"]: row["label"] for row in _data_rows("naf.csv")})


def rome_label(code: str) -> str | None:
    """The label of a ROME fiche (``M1805``), or None if the code is not in the nomenclature."""
    entry = _rome().get(code)
    return entry.label if entry else None


def rome_domain(code: str) -> str | None:
    """The domain of a ROME fiche as rome.csv states it, or None if the code is unknown."""
    entry = _rome().get(code)
    return entry.domain if entry else None


@functools.cache
def rome_codes() -> frozenset[str]:
    return frozenset(_rome())


@functools.cache
def naf_codes() -> frozenset[str]:
    return frozenset(_naf())


def naf_label(code: str) -> str | None:
    """The label of a NAF rév. 2 sub-class in its normalised form (``62.02A``), or None."""
    return _naf().get(code)
