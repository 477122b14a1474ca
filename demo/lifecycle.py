"""The application lifecycle of the common syntax, as the simulated partners seed it.

The main path runs "from creating the file to placing the young person"::

    DRAFT → SUBMITTED → UNDER_REVIEW → ADMITTED → PROPOSED_TO_EMPLOYER → INTERVIEW →
    EMPLOYER_AGREED → CONTRACT_DRAFTED → CONTRACT_SIGNED → CONTRACT_DEPOSITED → PLACED

COMMON-SYNTAX.md names the side exits without saying from where they leave; the demo reads
them as follows (terminal, like PLACED):

- ``REJECTED_BY_CFA`` from SUBMITTED or UNDER_REVIEW (the centre decides on admission);
- ``REJECTED_BY_EMPLOYER`` from PROPOSED_TO_EMPLOYER or INTERVIEW;
- ``WITHDRAWN`` from any state before the contract is signed (the young person changes plans);
- ``ABANDONED`` from SUBMITTED up to CONTRACT_DEPOSITED (the young person stops answering).

The graph is the hub's (reference/lifecycle.py): every seeded history is a path of it starting
at DRAFT (:func:`is_valid_path`). What stays here is the partners' own words for the statuses.
"""

from __future__ import annotations

from typing import Final

from reference.lifecycle import (
    CONTRACT_STAGES,
    MAIN_PATH,
    SIDE_EXITS,
    STATUSES,
    TERMINAL,
    TRANSITIONS,
    is_valid_path,
)

__all__ = [
    "CONTRACT_STAGES",
    "MAIN_PATH",
    "SIDE_EXITS",
    "STATUSES",
    "TERMINAL",
    "TRANSITIONS",
    "is_valid_path",
    "path_to",
]


def path_to(final: str, exit_from: str | None = None) -> tuple[str, ...]:
    """The history ending at ``final``: the main path up to it, or up to ``exit_from`` then the
    side exit ``final``."""
    if final in MAIN_PATH:
        return MAIN_PATH[: MAIN_PATH.index(final) + 1]
    if exit_from is None or exit_from not in SIDE_EXITS.get(final, ()):
        raise ValueError(f"{final} cannot be reached from {exit_from}")
    return (*MAIN_PATH[: MAIN_PATH.index(exit_from) + 1], final)


# -- the partners' own words for the same statuses -----------------------------------------------

ERP_STATUS: Final = {
    "DRAFT": "brouillon",
    "SUBMITTED": "soumise",
    "UNDER_REVIEW": "en_etude",
    "ADMITTED": "admis",
    "PROPOSED_TO_EMPLOYER": "propose_entreprise",
    "INTERVIEW": "entretien",
    "EMPLOYER_AGREED": "accord_employeur",
    "CONTRACT_DRAFTED": "contrat_redige",
    "CONTRACT_SIGNED": "contrat_signe",
    "CONTRACT_DEPOSITED": "contrat_depose",
    "PLACED": "place",
    "REJECTED_BY_CFA": "refus_cfa",
    "REJECTED_BY_EMPLOYER": "refus_employeur",
    "WITHDRAWN": "desistement",
    "ABANDONED": "abandon",
}
"""Common status -> the label both CFA ERPs store in ``candidatures.statut``."""

HUB3E_PLACEMENT_STATUS: Final = {
    "PROPOSED_TO_EMPLOYER": "SENT_TO_COMPANY",
    "INTERVIEW": "MEETING",
    "EMPLOYER_AGREED": "HIRED",
    "CONTRACT_DRAFTED": "HIRED",
    "CONTRACT_SIGNED": "HIRED",
    "CONTRACT_DEPOSITED": "HIRED",
    "PLACED": "HIRED",
    "REJECTED_BY_EMPLOYER": "LOST",
    "WITHDRAWN": "LOST",
    "ABANDONED": "LOST",
}
"""Common status of an application sent to a Hub3E mission -> Hub3E's placement status.
Hub3E's own NEW and QUALIFIED come before a company is chosen (placements it alone knows)."""
HUB3E_STATUSES: Final = ("NEW", "QUALIFIED", "SENT_TO_COMPANY", "MEETING", "HIRED", "LOST")

ROLE_LABELS: Final = {
    "CANDIDATE": "candidat",
    "TRAINING_CENTRE": "cfa",
    "EMPLOYER": "employeur",
    "OPCO": "opco",
}
"""Who acted, as the ERPs write it in ``historique_candidature.role_acteur``."""

FOLLOW_UP_NATURE: Final = {
    "FOLLOW_UP_INTERVIEW": "entretien_suivi",
    "COMPANY_VISIT": "visite_entreprise",
    "TRIAL_PERIOD_REVIEW": "bilan_periode_essai",
    "ABSENCE_ALERT": "alerte_absence",
    "DIFFICULTY_ALERT": "alerte_difficulte",
    "MEDIATION": "mediation",
    "RUPTURE": "rupture",
    "EXAM": "examen",
    "END_OF_TRAINING": "fin_formation",
}
"""FollowUpEvent kind -> the ERPs' ``suivis.nature``."""
FOLLOW_UP_VISIBILITY: Final = {
    "TRAINING_CENTRE_ONLY": "cfa_seul",
    "CONTRACT_PARTIES": "parties_contrat",
}
