"""Builds the deterministic territory of the demo: employers, centres, offers, programmes.

Everything is drawn from one ``random.Random(SEED)`` (and one seeded Faker) in a fixed order,
and nothing iterates a ``set`` or depends on the clock, so two processes build equal data.
Dates are anchored on :data:`ANCHOR`, not on today.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from faker import Faker
from stdnum import luhn

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
from demo.territory import Commune, communes
from demo.vocabulary import (
    CENTRES,
    CERTIFICATIONS,
    KIND_LEVELS,
    OCCUPATIONS,
    PLACE_SUFFIXES,
    SECTORS,
    STREET_NAMES,
    STREET_TYPES,
    CentreBlueprint,
    Certification,
    Sector,
)

SEED = 7374
ANCHOR = datetime(2026, 11, 15, 8, 0, tzinfo=UTC)  # "now" of the simulated territory
EMPLOYER_COUNT = 600
# Offers by the partners publishing them (hub3e is added on top of some of these).
ONLY_FRANCETRAVAIL, ONLY_APPRENTISSAGE, ON_BOTH, ONLY_HUB3E, HUB3E_OVERLAP = 880, 880, 220, 25, 125
CHAMBERY = "73065"
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DATA = Path(__file__).resolve().parent.parent / "reference" / "data"
_KIND_NAF = {
    "CFA": "85.59A",
    "CFA d'entreprise": "85.59A",
    "Lycée professionnel": "85.32Z",
    "Université": "85.42Z",
}
_PUBLIC_KINDS = ("Lycée professionnel", "Université")


def read_labels(filename: str) -> dict[str, str]:
    with (_DATA / filename).open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["label"] for row in csv.DictReader(handle)}


def uai_letter(digits: str) -> str:
    return UAI_LETTERS[int(digits) % 23]


@dataclass(slots=True)
class Territory:
    """The building state: one random stream and the identifiers already handed out."""

    rng: random.Random
    fake: Faker
    used_sirens: set[str]
    used_uais: set[str]

    def siren(self, public: bool) -> str:
        while True:
            body = (
                "19" + f"{self.rng.randrange(10**6):06d}"
                if public
                else str(self.rng.randint(3, 9)) + f"{self.rng.randrange(10**7):07d}"
            )
            siren = body + luhn.calc_check_digit(body)
            if siren not in self.used_sirens:
                self.used_sirens.add(siren)
                return siren

    def siret(self, siren: str) -> str:
        nic = f"{self.rng.randint(1, 120):04d}"
        return siren + nic + luhn.calc_check_digit(siren + nic)

    def uai(self, departement: str) -> str:
        while True:
            digits = f"0{departement}{self.rng.randint(1000, 2999)}"
            uai = digits + uai_letter(digits)
            if uai not in self.used_uais:
                self.used_uais.add(uai)
                return uai

    def address(self, commune: Commune) -> Address:
        word, _ = self.rng.choice(STREET_TYPES)
        label = f"{self.rng.randint(1, 120)} {word} {self.rng.choice(STREET_NAMES)}"
        return Address(
            label=label,
            postal_code=self.rng.choice(commune.postal_codes),
            insee_code=commune.insee_code,
            city=commune.name,
            latitude=round(commune.latitude + self.rng.uniform(-0.006, 0.006), 5),
            longitude=round(commune.longitude + self.rng.uniform(-0.008, 0.008), 5),
        )

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))


def weighted_choice(rng: random.Random, items: Sequence[tuple[str, int]]) -> str:
    return rng.choices([item for item, _ in items], weights=[w for _, w in items])[0]


def build_employers(t: Territory, naf_labels: dict[str, str]) -> list[Establishment]:
    places = list(communes().values())
    weights = [c.population for c in places]
    employers = []
    for _ in range(EMPLOYER_COUNT):
        sector = t.rng.choices(SECTORS, weights=[s.weight for s in SECTORS])[0]
        commune = t.rng.choices(places, weights=weights)[0]
        siren = t.siren(public=False)
        suffix = t.rng.choice((*PLACE_SUFFIXES, f"de {commune.name}"))
        trade_name = f"{t.rng.choice(sector.trade_prefixes)} {suffix}"
        band = t.rng.choice(sector.bands)
        idcc = "1597" if sector.idcc == "1596" and band >= "12" else sector.idcc
        employers.append(
            Establishment(
                siret=t.siret(siren),
                siren=siren,
                name=t.fake.company(),
                trade_name=trade_name if t.rng.random() < 0.85 else None,
                naf_code=sector.naf,
                naf_label=naf_labels[sector.naf],
                address=t.address(commune),
                idcc=idcc,
                opco=sector.opco,
                active=t.rng.random() < 0.97,
                created=t.day_between(date(1972, 1, 1), date(2024, 6, 30)),
                headcount_band=band,
            )
        )
    return employers


def build_centres(
    t: Territory, naf_labels: dict[str, str]
) -> tuple[list[TrainingCentre], list[Establishment]]:
    centres, records = [], []
    for blueprint in CENTRES:
        commune = communes()[blueprint.insee_code]
        public = blueprint.kind in _PUBLIC_KINDS
        siren = t.siren(public)
        siret = t.siret(siren)
        if blueprint.uai:
            t.used_uais.add(blueprint.uai)
        address = t.address(commune)
        centre = TrainingCentre(
            uai=blueprint.uai or t.uai(commune.departement),
            siret=siret,
            name=blueprint.name,
            address=address,
            kind=blueprint.kind,
            qualiopi=public or t.rng.random() < 0.95,
            erp=blueprint.erp,
        )
        naf = _KIND_NAF[blueprint.kind]
        records.append(
            Establishment(
                siret=siret,
                siren=siren,
                name=blueprint.name,
                trade_name=None,
                naf_code=naf,
                naf_label=naf_labels[naf],
                address=address,
                idcc=None if public else "1516",  # organismes de formation
                opco=None if public else "AKTO",
                active=True,
                created=t.day_between(date(1965, 1, 1), date(2020, 12, 31)),
                headcount_band=t.rng.choice(("12", "21", "22")),
            )
        )
        centres.append(centre)
    return centres, records


def offer_weight(employer: Establishment) -> int:
    band = employer.headcount_band
    return 1 if band <= "03" else 2 if band <= "12" else 3 if band <= "22" else 4


def _publisher_plan(rng: random.Random) -> list[tuple[str, ...]]:
    only_ft: tuple[str, ...] = ("francetravail",)
    only_lba: tuple[str, ...] = ("apprentissage",)
    both: tuple[str, ...] = ("francetravail", "apprentissage")
    only_hub3e: tuple[str, ...] = ("hub3e",)
    plan = (
        [only_ft] * ONLY_FRANCETRAVAIL
        + [only_lba] * ONLY_APPRENTISSAGE
        + [both] * ON_BOTH
        + [only_hub3e] * ONLY_HUB3E
    )
    rng.shuffle(plan)
    published = [i for i, partners in enumerate(plan) if partners != ("hub3e",)]
    for index in rng.sample(published, HUB3E_OVERLAP):
        plan[index] = (*plan[index], "hub3e")
    return plan


def offer_description(
    employer: Establishment,
    appellation: str,
    kind: ContractKind,
    level: int,
    skills: tuple[str, ...],
) -> str:
    contract = (
        "contrat d'apprentissage"
        if kind == "APPRENTICESHIP"
        else ("contrat de professionnalisation")
    )
    who = employer.trade_name or employer.name
    return (
        f"{who} ({employer.naf_label.lower()}, {employer.address.city}) recrute en {contract} "
        f"un ou une {appellation.lower()} préparant une certification de niveau {level}. "
        f"Vous serez accompagné(e) par un tuteur ou une tutrice tout au long de votre formation. "
        f"Qualités attendues : {', '.join(s.lower() for s in skills)}."
    )


def build_offers(
    t: Territory, employers: list[Establishment], rome_labels: dict[str, str]
) -> list[OfferSeed]:
    active = [e for e in employers if e.active]
    weights = [offer_weight(e) for e in active]
    sector_of = {s.naf: s for s in SECTORS}
    occupation_of = {o.rome: o for o in OCCUPATIONS}
    plan = _publisher_plan(t.rng)
    ft_ids = _unique_ids(t.rng, len(plan), _francetravail_id)
    hub3e_numbers = iter(t.rng.sample(range(1, 100_000), len(plan)))
    seen: set[tuple[str, str, str]] = set()
    offers = []
    for number, partners in enumerate(plan, start=1):
        while True:
            employer = t.rng.choices(active, weights=weights)[0]
            sector: Sector = sector_of[employer.naf_code]
            occupation = occupation_of[weighted_choice(t.rng, sector.romes)]
            title = t.rng.choice(occupation.titles)
            if (employer.siret, occupation.rome, title) not in seen:
                seen.add((employer.siret, occupation.rome, title))
                break
        level = t.rng.choice(occupation.levels)
        kind: ContractKind = "PROFESSIONALISATION" if t.rng.random() < 0.2 else "APPRENTICESHIP"
        published = ANCHOR - timedelta(minutes=t.rng.randint(60, 120 * 24 * 60))
        desk_job = occupation.rome[0] in "CEM"
        remote: RemoteMode = (
            t.rng.choices(("ONSITE", "HYBRID", "REMOTE"), weights=(5, 4, 1))[0]
            if desk_job
            else "ONSITE"
        )
        publishers: dict[str, str] = {}
        for partner in partners:
            if partner == "francetravail":
                publishers[partner] = ft_ids[number - 1]
            elif partner == "apprentissage":
                publishers[partner] = _object_id(t.rng, published)
            else:
                publishers[partner] = f"M-{next(hub3e_numbers):05d}"
        offers.append(
            OfferSeed(
                key=f"offer-{number:05d}",
                title=title,
                description=offer_description(
                    employer, occupation.appellation, kind, level, occupation.skills
                ),
                rome_code=occupation.rome,
                rome_label=rome_labels[occupation.rome],
                contract_kind=kind,
                level=level,
                start_date=(ANCHOR + timedelta(days=t.rng.randint(20, 300))).date(),
                duration_months=offer_duration(t.rng, kind, level),
                positions=t.rng.choices((1, 2, 3), weights=(85, 11, 4))[0],
                published_at=published,
                expires_at=published + timedelta(days=t.rng.choice((120, 150, 180, 240))),
                employer_siret=employer.siret,
                address=employer.address,
                remote=remote,
                accessible_to_disabled_workers=t.rng.random() < 0.3,
                publishers=publishers,
            )
        )
    return offers


def offer_duration(rng: random.Random, kind: ContractKind, level: int) -> int:
    if kind == "PROFESSIONALISATION":
        return rng.choice((6, 12, 12, 18, 24))
    return {3: 24, 4: rng.choice((24, 36)), 5: 24, 6: 12, 7: 24}[level]


def _object_id(rng: random.Random, moment: datetime) -> str:
    """A MongoDB ObjectId as API Apprentissage shows it: creation time, then random bytes."""
    return f"{int(moment.timestamp()):08x}{rng.getrandbits(64):016x}"


def _francetravail_id(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
    return f"{rng.randint(180, 199)}{letters}"


def _unique_ids(rng: random.Random, count: int, make: Callable[[random.Random], str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        value = make(rng)
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


CATALOGUE_YEAR_START = date(2026, 9, 1)
"""The training year the catalogues are recruiting for: a programme's sessions from then on
are its coming ones (:func:`_sessions`), the earlier ones its past cohorts."""
_SESSION_STARTS = (date(2026, 9, 7), date(2027, 1, 11), date(2027, 9, 6))
PAST_SEPTEMBER_STARTS = (date(2024, 9, 2), date(2025, 9, 1))
"""Every programme ran a September cohort in each of the two years before."""
PAST_JANUARY_START = date(2026, 1, 12)
"""The January cohort of the year before, at the programmes that recruit in January."""
_CAPACITIES = (8, 10, 12, 15, 16, 20, 24, 30)


def _session(rng: random.Random, start: date, duration_months: int) -> SessionSeed:
    capacity = rng.choice(_CAPACITIES)
    begun = start < ANCHOR.date()
    enrolled = rng.randint(capacity // 2, capacity) if begun else rng.randint(0, capacity)
    return SessionSeed(
        start=start,
        end=_add_months(start, duration_months) - timedelta(days=5),
        capacity=capacity,
        enrolled=enrolled,
        recruitment_open=enrolled < capacity and start >= (ANCHOR - timedelta(days=90)).date(),
    )


def _sessions(rng: random.Random, duration_months: int) -> tuple[SessionSeed, ...]:
    starts = sorted(rng.sample(_SESSION_STARTS, rng.choice((1, 1, 2))))
    return tuple(_session(rng, start, duration_months) for start in starts)


def _past_sessions(
    rng: random.Random, coming: Sequence[SessionSeed], duration_months: int
) -> tuple[SessionSeed, ...]:
    """The cohorts a programme ran before its coming ``sessions``: each September, and the
    January before when it recruits in January. Without them the candidates of the 18 months
    before ANCHOR applied to sessions no catalogue listed, with no places to fill."""
    starts = [*PAST_SEPTEMBER_STARTS]
    if any(s.start.month == 1 for s in coming):
        starts.append(PAST_JANUARY_START)
    return tuple(_session(rng, start, duration_months) for start in starts)


def _with_past(
    rng: random.Random, coming: tuple[SessionSeed, ...], duration_months: int
) -> tuple[SessionSeed, ...]:
    return (*_past_sessions(rng, coming, duration_months), *coming)


def _program_duration(rng: random.Random, level: int) -> int:
    return {3: rng.choice((12, 24, 24)), 4: 24, 5: 24, 6: 12, 7: 24}[level]


def _candidates(blueprint: CentreBlueprint) -> list[Certification]:
    low, high = KIND_LEVELS[blueprint.kind]
    return [c for c in CERTIFICATIONS if c.family in blueprint.families and low <= c.level <= high]


def build_programs(t: Territory, centres: list[TrainingCentre]) -> list[ProgramSeed]:
    programs: list[ProgramSeed] = []
    carif_numbers = iter(t.rng.sample(range(10_000, 100_000), 1000))
    erp_numbers: dict[str, int] = {}
    keys: set[str] = set()
    # The past cohorts on a stream of their own: every other draw (and so every programme's
    # id, title and coming sessions, and the walkthrough's people) stays where it was.
    past = random.Random(f"{SEED}:past-sessions")
    for blueprint, centre in zip(CENTRES, centres, strict=True):
        candidates = _candidates(blueprint)
        count = len(candidates) if centre.erp else min(len(candidates), t.rng.randint(7, 13))
        partners = [
            other
            for other_bp, other in zip(CENTRES, centres, strict=True)
            if other is not centre
            and other.address.departement == centre.address.departement
            and set(other_bp.families) & set(blueprint.families)
        ]
        for cert in t.rng.sample(candidates, count):
            provider = t.rng.choice(partners) if partners and t.rng.random() < 0.2 else centre
            kinds: tuple[ContractKind, ...] = (
                ("APPRENTICESHIP", "PROFESSIONALISATION")
                if t.rng.random() < 0.25
                else ("APPRENTICESHIP",)
            )
            duration = _program_duration(t.rng, cert.level)
            publishers: dict[str, str] = {}
            while True:
                key = (
                    f"{t.rng.randint(10**5, 10**6 - 1)}P{t.rng.randint(10**7, 10**8 - 1)}"
                    f"{cert.cfd}{centre.siret}{provider.siret}-{provider.address.insee_code}#L01"
                )
                if key not in keys:
                    keys.add(key)
                    break
            publishers["apprentissage"] = key
            if t.rng.random() < 0.6:
                publishers["carif"] = f"AF_{next(carif_numbers)}"
            if centre.erp:
                erp_numbers[centre.erp] = erp_numbers.get(centre.erp, 0) + 1
                publishers[centre.erp] = f"FORM-{erp_numbers[centre.erp]:04d}"
            suffix = "en apprentissage" if len(kinds) == 1 else "en alternance"
            programs.append(
                ProgramSeed(
                    key=f"program-{len(programs) + 1:04d}",
                    title=f"{cert.title} {suffix}",
                    rncp=cert.rncp,
                    cfd=cert.cfd,
                    level=cert.level,
                    certification_title=cert.title,
                    rome_codes=cert.romes,
                    responsible=centre,
                    provider=provider,
                    address=provider.address,
                    contract_kinds=kinds,
                    duration_months=duration,
                    fully_remote=cert.family in ("IT", "MGMT") and t.rng.random() < 0.08,
                    sessions=_with_past(past, _sessions(t.rng, duration), duration),
                    publishers=publishers,
                )
            )
    return programs


def new_territory() -> Territory:
    fake = Faker("fr_FR")
    fake.seed_instance(SEED)
    return Territory(random.Random(SEED), fake, set(), set())
