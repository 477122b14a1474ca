"""The records of the simulated territory, before any partner renders them in its own shape.

One seed is one real-world thing (an employer, a training centre, an offer, a programme); each
partner that publishes it holds it under its own identifier (``publishers``: partner -> id), so
the same offer published twice is two partner records that the gateway must merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ContractKind = Literal["APPRENTICESHIP", "PROFESSIONALISATION"]
RemoteMode = Literal["ONSITE", "HYBRID", "REMOTE"]


@dataclass(frozen=True, slots=True)
class Address:
    label: str  # "12 rue de la République": number, street type, street name
    postal_code: str
    insee_code: str
    city: str
    latitude: float
    longitude: float

    @property
    def departement(self) -> str:
        return self.insee_code[:2]


@dataclass(frozen=True, slots=True)
class Establishment:
    """One SIRET of the company directory (an employer, or a training centre's own record)."""

    siret: str
    siren: str
    name: str  # dénomination of the legal unit
    trade_name: str | None  # enseigne
    naf_code: str  # "56.10A"
    naf_label: str
    address: Address
    idcc: str | None
    opco: str | None
    active: bool
    created: date
    headcount_band: str  # INSEE tranche d'effectifs code ("03" = 6 to 9 employees)


@dataclass(frozen=True, slots=True)
class TrainingCentre:
    uai: str
    siret: str
    name: str
    address: Address
    kind: str  # "CFA", "CFA d'entreprise", "Lycée professionnel", "Université"
    qualiopi: bool
    erp: str | None = None  # the partner name of the centre's own ERP ("cfa-btp"), if any


@dataclass(frozen=True, slots=True)
class OfferSeed:
    key: str
    title: str
    description: str
    rome_code: str
    rome_label: str
    contract_kind: ContractKind
    level: int  # European framework, 3..7
    start_date: date
    duration_months: int
    positions: int
    published_at: datetime  # UTC
    expires_at: datetime  # UTC
    employer_siret: str
    address: Address
    remote: RemoteMode
    accessible_to_disabled_workers: bool
    publishers: dict[str, str] = field(hash=False)  # partner -> that partner's id


@dataclass(frozen=True, slots=True)
class SessionSeed:
    start: date
    end: date
    capacity: int
    enrolled: int
    recruitment_open: bool


@dataclass(frozen=True, slots=True)
class ProgramSeed:
    key: str
    title: str
    rncp: str
    cfd: str
    level: int
    certification_title: str
    rome_codes: tuple[str, ...]
    responsible: TrainingCentre
    provider: TrainingCentre
    address: Address
    contract_kinds: tuple[ContractKind, ...]
    duration_months: int
    fully_remote: bool
    sessions: tuple[SessionSeed, ...]  # by start: the past cohorts, then the coming ones
    publishers: dict[str, str] = field(hash=False)  # partner -> that partner's id

    def sessions_from(self, day: date) -> tuple[SessionSeed, ...]:
        """The sessions starting on ``day`` or after, by start."""
        return tuple(s for s in self.sessions if s.start >= day)
