"""The records of the demo's personal half, before any partner renders them in its own shape.

One :class:`Person` is one young person; the partners that know them (a centre's ERP, Hub3E,
AKTO) each hold their own record of them, under their own ids, pointing back here by
``person_key`` so that the same person reads the same everywhere (INE, name, birth date,
e-mail). Every value is synthetic (Faker, seeded); no NIR and no disability status exist here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from demo.seeds import OfferSeed, ProgramSeed


@dataclass(frozen=True, slots=True)
class Person:
    key: str  # "person-0001", the demo's own join key, never shown by a partner
    first_name: str
    last_name: str
    birth_date: date
    email: str
    phone: str  # in ARCEP's range reserved for fiction (06 39 98 xx xx)
    commune_insee: str
    highest_diploma: str
    ine: str | None  # 11 characters; some young people have none on file


@dataclass(frozen=True, slots=True)
class HistoryStep:
    status: str  # common lifecycle status (demo.lifecycle)
    at: datetime  # UTC
    actor_role: str  # CANDIDATE, TRAINING_CENTRE, EMPLOYER, OPCO
    reason: str | None


@dataclass(frozen=True, slots=True)
class CandidateSeed:
    erp: str
    id: int  # the ERP's own id
    person_key: str
    target_romes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApplicationSeed:
    erp: str
    id: int
    candidate_id: int
    program: ProgramSeed
    session: date  # the start of the cohort applied to
    mission: OfferSeed | None  # the Hub3E mission it was proposed on, if any
    employer_siret: str | None
    channel: str
    history: tuple[HistoryStep, ...]

    @property
    def status(self) -> str:
        return self.history[-1].status

    @property
    def reason(self) -> str | None:
        return self.history[-1].reason

    @property
    def created_at(self) -> datetime:
        return self.history[0].at

    @property
    def updated_at(self) -> datetime:
        return self.history[-1].at

    def reached(self, status: str) -> HistoryStep | None:
        return next((step for step in self.history if step.status == status), None)


@dataclass(frozen=True, slots=True)
class FollowUpSeed:
    erp: str
    id: int
    candidate_id: int
    kind: str  # FollowUpEvent kind
    day: date
    author_org: str  # UAI of the centre or SIRET of the employer
    author_role: str  # TRAINING_CENTRE or EMPLOYER
    summary: str
    visibility: str  # TRAINING_CENTRE_ONLY or CONTRACT_PARTIES


@dataclass(frozen=True, slots=True)
class Rupture:
    day: date
    cause: str


@dataclass(frozen=True, slots=True)
class ContractSeed:
    deca_number: str
    erp: str  # the centre whose application it concludes
    application_id: int
    person_key: str
    employer_siret: str
    program: ProgramSeed
    concluded: date
    start: date
    end: date
    status: str  # AKTO's French label: transmis, déposé, en cours, rompu, terminé, annulé
    rupture: Rupture | None
    opco: str  # the employer's OPCO, which funds it
    decision: str  # EN_ATTENTE, ACCORDE, REFUSE
    decided_on: date | None


@dataclass(frozen=True, slots=True)
class PlacementStep:
    status: str  # Hub3E's own: NEW .. LOST
    at: datetime


@dataclass(frozen=True, slots=True)
class Hub3ePlacement:
    id: str  # "PLC-123456"
    candidate_id: str
    mission: OfferSeed
    history: tuple[PlacementStep, ...]
    application: tuple[str, int] | None  # (erp, application id) it mirrors, if any

    @property
    def status(self) -> str:
        return self.history[-1].status


@dataclass(frozen=True, slots=True)
class Hub3eCandidate:
    id: str  # "CAN-123456"
    person_key: str
    knows_ine: bool  # Hub3E holds the INE; otherwise the hub matches on e-mail + birth date
    centre_uai: str
    centre_siret: str
    erp_candidate: tuple[str, int] | None  # (erp, id) of the same person at a centre, if any
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PersonalDataset:
    """Every personal record of the demo, each owner's share by its partner name."""

    persons: dict[str, Person]
    candidates: dict[str, tuple[CandidateSeed, ...]]  # by ERP partner name
    applications: dict[str, tuple[ApplicationSeed, ...]]
    follow_ups: dict[str, tuple[FollowUpSeed, ...]]
    contracts: tuple[ContractSeed, ...]
    hub3e_candidates: tuple[Hub3eCandidate, ...]
    hub3e_placements: tuple[Hub3ePlacement, ...]
    walkthrough_employer_siret: str
    canary_candidates: dict[str, int]  # ERP -> candidate id carrying the canary
    _person_keys: dict[tuple[str, int], str] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        # Thousands of candidates: looking one up must not scan them (tests and partners do).
        for erp, candidates in self.candidates.items():
            for candidate in candidates:
                self._person_keys[(erp, candidate.id)] = candidate.person_key

    def person_of(self, erp: str, candidate_id: int) -> Person:
        return self.persons[self._person_keys[(erp, candidate_id)]]
