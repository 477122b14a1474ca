"""The words and small draws the demo's personal half shares between its two builders.

:mod:`demo.personal` draws the walkthrough's people and :mod:`demo.population` the
observatory's population; both write the same reasons, actors, channels and rupture causes,
so that a partner shows one vocabulary whichever of them drew a record.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time

REASONS = {
    "REJECTED_BY_CFA": ("dossier incomplet", "prérequis non atteints", "formation complète"),
    "REJECTED_BY_EMPLOYER": (
        "profil ne correspondant pas au poste",
        "poste pourvu par un autre candidat",
        "mobilité insuffisante",
    ),
    "WITHDRAWN": ("a choisi une autre formation", "projet professionnel modifié", "déménagement"),
    "ABANDONED": ("sans nouvelles du candidat", "ne s'est pas présenté aux rendez-vous"),
}
PLACED_ELSEWHERE = "placé sur une autre formation"
SESSION_FULL = "formation complète"
"""The centre's reason when the session applied to has no place left."""
ACTOR = {
    "DRAFT": "CANDIDATE",
    "SUBMITTED": "CANDIDATE",
    "UNDER_REVIEW": "TRAINING_CENTRE",
    "ADMITTED": "TRAINING_CENTRE",
    "PROPOSED_TO_EMPLOYER": "TRAINING_CENTRE",
    "INTERVIEW": "EMPLOYER",
    "EMPLOYER_AGREED": "EMPLOYER",
    "CONTRACT_DRAFTED": "TRAINING_CENTRE",
    "CONTRACT_SIGNED": "EMPLOYER",
    "CONTRACT_DEPOSITED": "OPCO",
    "PLACED": "TRAINING_CENTRE",
    "REJECTED_BY_CFA": "TRAINING_CENTRE",
    "REJECTED_BY_EMPLOYER": "EMPLOYER",
    "WITHDRAWN": "CANDIDATE",
    "ABANDONED": "TRAINING_CENTRE",
}
CHANNELS = (
    ("site_cfa", 5),
    ("la_bonne_alternance", 3),
    ("france_travail", 2),
    ("parcoursup", 2),
    ("salon", 1),
    ("hub3e", 2),
)
DIPLOMAS = (("aucun", 2), ("brevet", 5), ("CAP", 3), ("bac pro", 3), ("bac", 3), ("BTS", 1))
RUPTURE_CAUSES = (
    "rupture pendant la période d'essai",
    "rupture d'un commun accord",
    "démission de l'apprenti",
    "licenciement pour inaptitude",
)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def weighted(rng: random.Random, items: Sequence[tuple[str, int]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 17), rng.randrange(60)), tzinfo=UTC)


__all__ = [
    "ACTOR",
    "CHANNELS",
    "DIPLOMAS",
    "PLACED_ELSEWHERE",
    "REASONS",
    "RUPTURE_CAUSES",
    "SESSION_FULL",
    "add_months",
    "moment",
    "weighted",
]
