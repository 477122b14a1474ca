"""The one deterministic dataset every simulated partner renders, built once per process.

Usage::

    from demo.data import dataset
    data = dataset()
    offers = data.offers_published_on("francetravail")
    employer = data.employer_by_siret(offers[0].employer_siret)

The same real-world offer (or programme) is one seed; its ``publishers`` say which partners
publish it and under which of their own ids. Identical in every process (see ``SEED``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from demo.generate import (
    ANCHOR,
    CATALOGUE_YEAR_START,
    PAST_SEPTEMBER_STARTS,
    SEED,
    build_centres,
    build_employers,
    build_offers,
    build_programs,
    new_territory,
    read_labels,
)
from demo.seeds import (
    Address,
    ContractKind,
    Establishment,
    OfferSeed,
    ProgramSeed,
    RemoteMode,
    SessionSeed,
    TrainingCentre,
)

__all__ = [
    "ANCHOR",
    "CATALOGUE_YEAR_START",
    "PAST_SEPTEMBER_STARTS",
    "SEED",
    "Address",
    "ContractKind",
    "Dataset",
    "Establishment",
    "OfferSeed",
    "ProgramSeed",
    "RemoteMode",
    "SessionSeed",
    "TrainingCentre",
    "dataset",
]


@dataclass(frozen=True, slots=True)
class Dataset:
    employers: tuple[Establishment, ...]
    centres: tuple[TrainingCentre, ...]
    offers: tuple[OfferSeed, ...]
    programs: tuple[ProgramSeed, ...]
    # The Sirene records of the training centres (the company directory knows them too).
    centre_establishments: tuple[Establishment, ...] = ()
    _by_siret: dict[str, Establishment] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _by_uai: dict[str, TrainingCentre] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for record in (*self.employers, *self.centre_establishments):
            self._by_siret[record.siret] = record
        for centre in self.centres:
            self._by_uai[centre.uai] = centre

    def employer_by_siret(self, siret: str) -> Establishment | None:
        """An employer (or a training centre's directory record) by SIRET."""
        return self._by_siret.get(siret)

    def centre_by_uai(self, uai: str) -> TrainingCentre | None:
        return self._by_uai.get(uai)

    def establishments(self) -> tuple[Establishment, ...]:
        """Every SIRET of the company directory: employers, then training centres."""
        return (*self.employers, *self.centre_establishments)

    def centre_with_erp(self, erp: str) -> TrainingCentre:
        """The training centre whose own ERP is the partner ``erp`` ("cfa-btp")."""
        for centre in self.centres:
            if centre.erp == erp:
                return centre
        raise KeyError(erp)

    def offers_published_on(self, partner: str) -> tuple[OfferSeed, ...]:
        return tuple(o for o in self.offers if partner in o.publishers)

    def programs_published_on(self, partner: str) -> tuple[ProgramSeed, ...]:
        return tuple(p for p in self.programs if partner in p.publishers)


@functools.cache
def dataset() -> Dataset:
    territory = new_territory()
    naf_labels = read_labels("naf.csv")
    rome_labels = read_labels("rome.csv")
    employers = build_employers(territory, naf_labels)
    centres, centre_records = build_centres(territory, naf_labels)
    offers = build_offers(territory, employers, rome_labels)
    programs = build_programs(territory, centres)
    return Dataset(
        employers=tuple(employers),
        centres=tuple(centres),
        offers=tuple(offers),
        programs=tuple(programs),
        centre_establishments=tuple(centre_records),
    )
