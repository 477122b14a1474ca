"""The catalogue of the two regional job boards: a large one (Alpes Emploi) and a smaller one
(Jobs Montagne) that republishes a fifth of it.

Usage::

    from demo.job_boards import catalogue, ALPES_EMPLOI, JOBS_MONTAGNE
    offers = catalogue().published_on(ALPES_EMPLOI)      # 5,000 offers
    shared = catalogue().shared()                          # the 600 on both boards

Sizes are those of a real regional board, not of the demo's hand-sized partners: the benchmark
needs a partner whose catalogue is much larger than a page. The offers are drawn like the rest
of the demo (real communes of 73/74 from ``reference/``, real ROME codes, the demo's employers,
so that the company directory knows every SIRET), but from a random stream of their own
(``SEED``): adding or resizing the boards never changes the rest of the demo's data.

Each offer is an :class:`~demo.seeds.OfferSeed` whose ``publishers`` say which board holds it
under which id. An offer on both boards is the same real offer (same employer, ROME, commune,
title and publication instant); no two offers share all five, but many offers of one board
share the first four (an employer hiring twice for the same post, weeks apart): they are
distinct offers, which a de-duplication applied inside one partner's answer would wrongly fold.
The same holds against the demo's other offer partners: a board offer may share employer,
ROME, commune and title with a France Travail offer, never its instant too.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from demo.data import ANCHOR, ContractKind, Establishment, OfferSeed, RemoteMode, dataset
from demo.generate import (
    offer_description,
    offer_duration,
    offer_weight,
    read_labels,
    weighted_choice,
)
from demo.vocabulary import OCCUPATIONS, SECTORS

ALPES_EMPLOI = "alpes-emploi"
JOBS_MONTAGNE = "jobs-montagne"
SEED = 7375  # not the demo's SEED: this stream is the boards' own
ALPES_EMPLOI_OFFERS = 5_000
JOBS_MONTAGNE_OFFERS = 3_000
SHARED_OFFERS = 600  # a fifth of Jobs Montagne's offers are also on Alpes Emploi
_PUBLISHED_WITHIN_MINUTES = 150 * 24 * 60  # published over the last five months


@dataclass(frozen=True, slots=True)
class Catalogue:
    offers: tuple[OfferSeed, ...]

    def published_on(self, board: str) -> tuple[OfferSeed, ...]:
        return tuple(o for o in self.offers if board in o.publishers)

    def shared(self) -> tuple[OfferSeed, ...]:
        return tuple(o for o in self.offers if len(o.publishers) == 2)


def identity(seed: OfferSeed) -> tuple[str, str, str, str, datetime]:
    """What makes two board records the same real offer (unique within the catalogue)."""
    where = seed.address.insee_code
    return (seed.employer_siret, seed.rome_code, where, seed.title, seed.published_at)


def _alpes_numbers(rng: random.Random) -> list[int]:
    # Six digits, so that ordering its ids as numbers or as text is the same order.
    return rng.sample(range(100_000, 1_000_000), ALPES_EMPLOI_OFFERS)


def _montagne_uids(rng: random.Random) -> list[str]:
    uids: list[str] = []
    seen: set[str] = set()
    while len(uids) < JOBS_MONTAGNE_OFFERS:
        uid = f"jm-{rng.getrandbits(40):010x}"
        if uid not in seen:
            seen.add(uid)
            uids.append(uid)
    return uids


def _publisher_plan(rng: random.Random) -> list[dict[str, str]]:
    """Who publishes each offer, under which id: Alpes Emploi's offers, then Jobs Montagne's."""
    numbers = _alpes_numbers(rng)
    uids = iter(_montagne_uids(rng))
    plan = [{ALPES_EMPLOI: str(number)} for number in numbers]
    for index in sorted(rng.sample(range(ALPES_EMPLOI_OFFERS), SHARED_OFFERS)):
        plan[index][JOBS_MONTAGNE] = next(uids)
    plan += [{JOBS_MONTAGNE: uid} for uid in uids]
    return plan


def _offer(
    rng: random.Random,
    number: int,
    employer: Establishment,
    publishers: dict[str, str],
    published: datetime,
    rome_labels: dict[str, str],
    title_and_rome: tuple[str, str],
) -> OfferSeed:
    title, rome = title_and_rome
    occupation = next(o for o in OCCUPATIONS if o.rome == rome)
    level = rng.choice(occupation.levels)
    kind: ContractKind = "PROFESSIONALISATION" if rng.random() < 0.2 else "APPRENTICESHIP"
    remote: RemoteMode = (
        rng.choices(("ONSITE", "HYBRID", "REMOTE"), weights=(5, 4, 1))[0]
        if rome[0] in "CEM"
        else "ONSITE"
    )
    return OfferSeed(
        key=f"board-offer-{number:05d}",
        title=title,
        description=offer_description(
            employer, occupation.appellation, kind, level, occupation.skills
        ),
        rome_code=rome,
        rome_label=rome_labels[rome],
        contract_kind=kind,
        level=level,
        start_date=(ANCHOR + timedelta(days=rng.randint(20, 300))).date(),
        duration_months=offer_duration(rng, kind, level),
        positions=rng.choices((1, 2, 3), weights=(85, 11, 4))[0],
        published_at=published,
        expires_at=published + timedelta(days=rng.choice((90, 120, 180))),
        employer_siret=employer.siret,
        address=employer.address,
        remote=remote,
        accessible_to_disabled_workers=rng.random() < 0.3,
        publishers=publishers,
    )


@functools.cache
def catalogue() -> Catalogue:
    rng = random.Random(SEED)
    rome_labels = read_labels("rome.csv")
    employers = [e for e in dataset().employers if e.active]
    weights = [offer_weight(e) for e in employers]
    sector_of = {s.naf: s for s in SECTORS}
    occupation_of = {o.rome: o for o in OCCUPATIONS}
    # Drawn from the same employers and titles as the other partners' offers: some board
    # offers look like one of theirs but for the instant; none is one of theirs.
    seen: set[tuple[str, str, str, str, datetime]] = {identity(o) for o in dataset().offers}
    offers = []
    for number, publishers in enumerate(_publisher_plan(rng), start=1):
        while True:
            employer = rng.choices(employers, weights=weights)[0]
            occupation = occupation_of[weighted_choice(rng, sector_of[employer.naf_code].romes)]
            title = rng.choice(occupation.titles)
            minutes = rng.randint(60, _PUBLISHED_WITHIN_MINUTES)
            published = ANCHOR - timedelta(minutes=minutes)
            key = (employer.siret, occupation.rome, employer.address.insee_code, title, published)
            if key not in seen:
                seen.add(key)
                break
        offers.append(
            _offer(
                rng,
                number,
                employer,
                publishers,
                published,
                rome_labels,
                (title, occupation.rome),
            )
        )
    return Catalogue(tuple(offers))
