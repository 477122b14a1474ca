"""Who the demo's credentials act as: one persona per role of COMMON-SYNTAX.md.

The organisations and the candidate are the walkthrough's (demo/people.py: the apprentice
known to the cfa-btp ERP, Hub3E and AKTO, the employer with applications and contracts at both
centres, its OPCO); the other subjects are demo user ids. The candidate's credential names its
owner as organisation (the cfa-btp ERP's UAI) and its id there as subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo import people
from identity.principal import Role

__all__ = ["CANDIDATE_SUBJECT", "Persona", "personas"]

CANDIDATE_SUBJECT = str(people.WALKTHROUGH_CANDIDATE_ID)
OPCO = people.OPCO_CODE


@dataclass(frozen=True, slots=True)
class Persona:
    name: str  # the credential's name in the banner and the credentials file
    role: Role
    organisation: str
    subject: str


def personas() -> tuple[Persona, ...]:
    return (
        Persona("CANDIDATE", Role.CANDIDATE, people.BTP_UAI, CANDIDATE_SUBJECT),
        Persona("TRAINING_CENTRE", Role.TRAINING_CENTRE, people.BTP_UAI, "staff-cfa-btp-01"),
        Persona(
            "TRAINING_CENTRE_OTHER", Role.TRAINING_CENTRE, people.HOTELLERIE_UAI, "staff-cfa-hot-01"
        ),
        Persona("EMPLOYER", Role.EMPLOYER, people.WALKTHROUGH_EMPLOYER_SIRET, "employer-user-01"),
        Persona("OPCO", Role.OPCO, OPCO, "akto-agent-01"),
        Persona("OBSERVATORY", Role.OBSERVATORY, "", "observatory-analyst-01"),
        Persona("ADMIN", Role.ADMIN, "", "hub-admin-01"),
    )
