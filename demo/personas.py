"""Who the demo's credentials act as: one persona per role of COMMON-SYNTAX.md.

The organisations come from the demo dataset (the two training centres with their own ERP, an
employer, its OPCO); the subjects are demo user ids. ``CANDIDATE_SUBJECT`` is the candidate id
at its owner (the cfa-btp ERP) that the candidate's credential acts as: the personal data of
the demo must hold a candidate with this id.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.data import dataset
from identity.principal import Role

__all__ = ["CANDIDATE_SUBJECT", "Persona", "personas"]

# Placeholder until the centres' ERPs hold candidates: the id the cfa-btp ERP gives its first.
CANDIDATE_SUBJECT = "cand-btp-0001"
OPCO = "AKTO"


@dataclass(frozen=True, slots=True)
class Persona:
    name: str  # the credential's name in the banner and the credentials file
    role: Role
    organisation: str
    subject: str


def personas() -> tuple[Persona, ...]:
    data = dataset()
    btp = data.centre_with_erp("cfa-btp")
    hotellerie = data.centre_with_erp("cfa-hotellerie")
    employer = next(e for e in data.employers if e.opco == OPCO and e.active)
    return (
        Persona("CANDIDATE", Role.CANDIDATE, "", CANDIDATE_SUBJECT),
        Persona("TRAINING_CENTRE", Role.TRAINING_CENTRE, btp.uai, "staff-cfa-btp-01"),
        Persona("TRAINING_CENTRE_OTHER", Role.TRAINING_CENTRE, hotellerie.uai, "staff-cfa-hot-01"),
        Persona("EMPLOYER", Role.EMPLOYER, employer.siret, "employer-user-01"),
        Persona("OPCO", Role.OPCO, OPCO, "akto-agent-01"),
        Persona("OBSERVATORY", Role.OBSERVATORY, "", "observatory-analyst-01"),
        Persona("ADMIN", Role.ADMIN, "", "hub-admin-01"),
    )
