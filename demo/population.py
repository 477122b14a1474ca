"""The observatory's population: a few thousand synthetic candidates with a territory's shape.

The walkthrough's people (:mod:`demo.personal`) are a few hundred, enough to read one by one
but not to count: every cell of an observatory table would fall under the threshold. This
population adds, after them and without moving any of their ids, the candidates of both centres
over the 18 months before :data:`demo.data.ANCHOR`, their applications, Hub3E's files and
placements of them, and AKTO's contracts, with contrasts the dashboard can show:

- **where they live**: mostly in their centre's département (:data:`OWN_DEPARTEMENT_SHARE`),
  in a commune drawn by population and closeness to the centre (:func:`residence_weights`):
  towns count hundreds, many villages 1 to 10 (cells under the threshold), remote ones none;
- **when they apply**: by month, with the spring peak of the September cohorts and the autumn
  one of January's (:data:`SEASON`);
- **how far they go, how fast, and how often it breaks**: by ROME domain (:data:`SHAPES`).
  Hotels and restaurants (G15-G18) place most candidates, within weeks, and lose the most
  apprentices to ruptures; the building trades (F11-F17) refuse more, take months and break
  fewer contracts; their higher levels (F12) least;
- **tension**: the offers are the territory's (:mod:`demo.generate`); the sizes below give
  Haute-Savoie's hotel school few candidates for many hospitality positions and Savoie's
  building-trades CFA many candidates for few construction positions;
- **places**: every application is for a session its programme lists (past cohorts included),
  and a session holds no more contracts than its places (:mod:`demo.places`). The first
  contract a candidate signs takes a place on the session nearest its start, else on another
  within :data:`CONTRACT_SLACK_DAYS`; finding them all full, the application is turned away
  (rejected as "formation complète" or withdrawn, in its domain's proportions) and the
  candidate's next contract tries. Both centres have more candidates than places, so fewer
  applications end placed than their domain's shape plans, and FILL_RATE stays at most 1.

Deterministic: its own random stream and Faker seed, drawn after the walkthrough's people.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from demo import people as fixed_ids
from demo.data import ANCHOR, SEED, OfferSeed, ProgramSeed, TrainingCentre
from demo.lifecycle import CONTRACT_STAGES, MAIN_PATH, SIDE_EXITS, path_to
from demo.person_seeds import (
    ApplicationSeed,
    CandidateSeed,
    ContractSeed,
    FollowUpSeed,
    HistoryStep,
    Hub3eCandidate,
    Hub3ePlacement,
    Person,
    PersonalDataset,
    PlacementStep,
    Rupture,
)
from demo.personal_words import (
    ACTOR,
    CHANNELS,
    PLACED_ELSEWHERE,
    REASONS,
    RUPTURE_CAUSES,
    SESSION_FULL,
    add_months,
    moment,
)
from demo.places import Places
from demo.territory import Commune, communes, distance_km

if TYPE_CHECKING:
    from demo.personal import _Builder

CANDIDATES_PER_ERP = {"cfa-btp": 1600, "cfa-hotellerie": 700}
"""Candidates each centre's ERP holds on top of the walkthrough's people."""
HUB3E_ONLY_PER_ERP = {"cfa-btp": 40, "cfa-hotellerie": 80}
"""People only Hub3E knows, in each centre's files, on top of the walkthrough's."""
OWN_DEPARTEMENT_SHARE = 0.82
WINDOW_MONTHS = 18
TODAY = ANCHOR.date()
WINDOW_START = add_months(TODAY, -WINDOW_MONTHS)
SEASON = {1: 6, 2: 8, 3: 11, 4: 12, 5: 12, 6: 11, 7: 8, 8: 6, 9: 7, 10: 6, 11: 5, 12: 3}
"""Applications created per calendar month, relative: spring for September, autumn for
January."""
CONTRACT_SLACK_DAYS = 92
"""A contract may start up to three months before or after its session: how far from the
nearest session a full one's placement may go to another."""
MISSION_SHARE = 0.15
"""Of the proposals to an employer, the share made on a Hub3E mission (when one fits)."""
_HALF_DISTANCE_KM = 18.0  # a commune this far from the centre sends half as many per head
_APPLICATIONS_PER_CANDIDATE = (1, 2, 3)
_APPLICATIONS_WEIGHTS = (60, 28, 12)
_LEVEL_WEIGHT = {3: 1.4, 4: 1.0, 5: 0.7, 6: 0.5, 7: 0.4}
_AGES = {3: (16, 20), 4: (17, 22), 5: (19, 25), 6: (20, 26), 7: (20, 27)}
_DIPLOMAS_BEFORE = {
    3: (("aucun", 3), ("brevet", 6), ("CAP", 1)),
    4: (("brevet", 2), ("CAP", 5), ("bac pro", 1)),
    5: (("bac", 5), ("bac pro", 4), ("BTS", 1)),
    6: (("bac", 2), ("BTS", 5)),
    7: (("bac", 2), ("BTS", 5)),
}
# Relative duration of each step of the main path after SUBMITTED: finding an employer and
# the paperwork after it take longest.
_PACE = {
    "UNDER_REVIEW": 1.0,
    "ADMITTED": 2.0,
    "PROPOSED_TO_EMPLOYER": 2.5,
    "INTERVIEW": 1.5,
    "EMPLOYER_AGREED": 1.0,
    "CONTRACT_DRAFTED": 1.0,
    "CONTRACT_SIGNED": 1.0,
    "CONTRACT_DEPOSITED": 1.0,
    "PLACED": 2.0,
}
_PACE_TOTAL = sum(_PACE.values())
_TRIAL_DAYS = 45  # the trial period: ruptures cluster in it


@dataclass(frozen=True, slots=True)
class Weighted:
    """Values drawn by weight, the cumulative weights computed once (thousands of draws)."""

    values: tuple[str, ...]
    cum_weights: tuple[int, ...]

    @classmethod
    def of(cls, *items: tuple[str, int]) -> Weighted:
        return cls(tuple(v for v, _ in items), tuple(itertools.accumulate(w for _, w in items)))

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]

    def weight(self, value: str) -> int:
        index = self.values.index(value)
        return self.cum_weights[index] - (self.cum_weights[index - 1] if index else 0)


@dataclass(frozen=True, slots=True)
class DomainShape:
    """How the applications of one ROME domain (letter + two digits) end, and how fast."""

    finals: Weighted  # the planned end of an application
    days_to_placement: tuple[int, int, int]  # SUBMITTED -> PLACED: low, mode, high
    rupture_rate: float  # share of started contracts broken (most in the first year)


_HOSPITALITY = DomainShape(
    Weighted.of(
        ("PLACED", 48),
        ("REJECTED_BY_CFA", 4),
        ("REJECTED_BY_EMPLOYER", 6),
        ("WITHDRAWN", 18),
        ("ABANDONED", 20),
        ("DRAFT", 4),
    ),
    (12, 25, 70),
    0.40,
)
_BUILDING = DomainShape(
    Weighted.of(
        ("PLACED", 28),
        ("REJECTED_BY_CFA", 10),
        ("REJECTED_BY_EMPLOYER", 24),
        ("WITHDRAWN", 18),
        ("ABANDONED", 16),
        ("DRAFT", 4),
    ),
    (30, 80, 170),
    0.16,
)
SHAPES: dict[str, DomainShape] = {
    "G16": _HOSPITALITY,
    "G18": dataclasses.replace(_HOSPITALITY, days_to_placement=(10, 20, 60), rupture_rate=0.44),
    "G15": dataclasses.replace(_HOSPITALITY, rupture_rate=0.30),
    "G17": dataclasses.replace(_HOSPITALITY, days_to_placement=(15, 35, 80), rupture_rate=0.25),
    "F16": _BUILDING,
    "F17": dataclasses.replace(_BUILDING, rupture_rate=0.20),
    "F11": dataclasses.replace(_BUILDING, days_to_placement=(35, 90, 180), rupture_rate=0.10),
    "F12": DomainShape(
        Weighted.of(
            ("PLACED", 35),
            ("REJECTED_BY_CFA", 14),
            ("REJECTED_BY_EMPLOYER", 18),
            ("WITHDRAWN", 18),
            ("ABANDONED", 10),
            ("DRAFT", 5),
        ),
        (40, 100, 200),
        0.06,
    ),
}
_OTHER_SHAPE = _BUILDING
_CHANNELS = Weighted.of(*CHANNELS[:-1])  # "hub3e" is the channel of a mission
_DECISIONS = Weighted.of(("EN_ATTENTE", 13), ("ACCORDE", 6), ("REFUSE", 1))


def rome_domain(rome: str) -> str:
    """The observatory's ROME_DOMAIN: the letter and two digits (``F1602`` -> ``F16``)."""
    return rome[:3]


def shape_of(program: ProgramSeed) -> DomainShape:
    """A programme's shape is that of its first ROME code's domain."""
    return SHAPES.get(rome_domain(program.rome_codes[0]), _OTHER_SHAPE)


def residence_weights(centre: TrainingCentre, places: Sequence[Commune]) -> list[float]:
    """Cumulative weights of ``places`` for the home of a centre's candidate: population,
    halved at :data:`_HALF_DISTANCE_KM` from the centre and falling with the square after."""
    here = centre.address
    weights = []
    for commune in places:
        away = distance_km(commune.latitude, commune.longitude, here.latitude, here.longitude)
        weights.append(commune.population / (1 + (away / _HALF_DISTANCE_KM) ** 2))
    return list(itertools.accumulate(weights))


def _days_of_window() -> tuple[list[date], list[float]]:
    days = [
        WINDOW_START + timedelta(days=n) for n in range((TODAY - WINDOW_START).days)
    ]  # the day before ANCHOR is the last
    return days, list(itertools.accumulate(SEASON[d.month] for d in days))


class Population:
    """Grows a walkthrough dataset with the observatory's population.

    Reuses the walkthrough builder's unique identifiers (e-mails, INEs, the person keys, the
    DECA sequence) and its follow-up and Hub3E mirroring, on a random stream of its own.
    """

    def __init__(self, builder: _Builder, core: PersonalDataset) -> None:
        self.builder = builder
        self.core = core
        self.data = builder.data
        self.rng = random.Random(f"{SEED}:population")
        builder.rng = self.rng  # the builder's draws (INEs, follow-up) come from this stream
        builder.fake.seed_instance(SEED + 2)
        self.days, self.day_weights = _days_of_window()
        # The walkthrough's contracts hold their places first.
        self.places = Places.left(self.data.programs, core.applications.values())
        # The walkthrough's employer hires none of the population: what its credential lists
        # stays the walkthrough's, readable in GraphiQL.
        walkthrough = core.walkthrough_employer_siret
        self.missions: dict[tuple[str, str], list[OfferSeed]] = {}
        for mission in builder.hub3e_missions:
            if mission.employer_siret != walkthrough:
                key = (mission.rome_code, mission.address.departement)
                self.missions.setdefault(key, []).append(mission)
        self.employers: dict[tuple[str, str], list[str]] = {}
        for offer in self.data.offers:
            if offer.employer_siret != walkthrough:
                key = (offer.rome_code, offer.address.departement)
                self.employers.setdefault(key, []).append(offer.employer_siret)
        ids = [f.id for f in core.hub3e_candidates] + [p.id for p in core.hub3e_placements]
        used = {int(hub3e_id.split("-")[1]) for hub3e_id in ids}
        # Files after the walkthrough's, which must stay among the first 100 of its centre's
        # (sorted by id) for the Dossier to find it (resolvers.dossier reads that many);
        # placements below 900000, where Hub3E numbers the ones a hub creates.
        after_walkthrough = int(fixed_ids.WALKTHROUGH_HUB3E_ID.split("-")[1]) + 1
        self.file_numbers = self._unused_numbers(used, after_walkthrough, 1_000_000)
        self.placement_numbers = self._unused_numbers(used, 100_000, 900_000)

    def _unused_numbers(self, used: set[int], low: int, high: int) -> Iterator[int]:
        while True:
            number = self.rng.randrange(low, high)
            if number not in used:
                used.add(number)
                yield number

    # -- people ----------------------------------------------------------------------------

    def residents(self, centre: TrainingCentre) -> dict[str, tuple[list[Commune], list[float]]]:
        by_departement: dict[str, tuple[list[Commune], list[float]]] = {}
        for departement in ("73", "74"):
            places = [c for c in communes().values() if c.departement == departement]
            by_departement[departement] = (places, residence_weights(centre, places))
        return by_departement

    def person(
        self,
        centre: TrainingCentre,
        homes: dict[str, tuple[list[Commune], list[float]]],
        level: int,
        with_ine: bool,
    ) -> Person:
        own = centre.address.departement
        other = "74" if own == "73" else "73"
        departement = own if self.rng.random() < OWN_DEPARTEMENT_SHARE else other
        places, cum_weights = homes[departement]
        return self.builder.person_in(
            places, cum_weights, with_ine, _DIPLOMAS_BEFORE[level], _AGES[level]
        )

    def created_at(self) -> datetime:
        day = self.rng.choices(self.days, cum_weights=self.day_weights)[0]
        return moment(day, self.rng)

    # -- applications ------------------------------------------------------------------------

    def planned_path(self, shape: DomainShape) -> tuple[str, ...]:
        final = shape.finals.draw(self.rng)
        if final in MAIN_PATH:
            return path_to(final)
        sources = SIDE_EXITS[final]
        # Earlier states are likelier exits: most who leave, leave before an employer is met.
        exit_from = self.rng.choices(sources, weights=range(len(sources), 0, -1))[0]
        return path_to(final, exit_from)

    def planned_moments(
        self, path: Sequence[str], created: datetime, shape: DomainShape
    ) -> list[datetime]:
        low, mode, high = shape.days_to_placement
        total_days = self.rng.triangular(low, high, mode)
        moments = [created]
        for status in path[1:]:
            if status == "SUBMITTED":
                days = self.rng.uniform(0.05, 4)
            elif status in SIDE_EXITS:
                days = self.rng.uniform(2, 30)
            else:
                days = total_days * _PACE[status] / _PACE_TOTAL * self.rng.uniform(0.6, 1.4)
            moments.append(moments[-1] + timedelta(minutes=max(60, round(days * 1440))))
        return moments

    def sessions_for(self, program: ProgramSeed, created: date, placed: date | None) -> list[date]:
        """The sessions an application may be for, likeliest first: placed, the nearest to
        the contract's start, then the others within :data:`CONTRACT_SLACK_DAYS` of it; else
        the first starting 45 days after the application (the last, when none does)."""
        starts = [s.start for s in program.sessions]
        if placed is not None:
            by_distance = sorted(starts, key=lambda start: (abs((start - placed).days), start))
            reach = max(CONTRACT_SLACK_DAYS, abs((by_distance[0] - placed).days))
            return [start for start in by_distance if abs((start - placed).days) <= reach]
        after = created + timedelta(days=45)
        return [start for start in starts if start >= after] or starts[-1:]

    def session(self, program: ProgramSeed, created: date, placed: date | None) -> date:
        return self.sessions_for(program, created, placed)[0]

    def place_for(
        self, program: ProgramSeed, path: Sequence[str], moments: Sequence[datetime]
    ) -> tuple[date, bool] | None:
        """The session of a contract following ``path`` and whether it took a place there:
        the first of :meth:`sessions_for` with a place left, or, all full, the first (the
        one refused). None when the contract is signed after ANCHOR: it holds no place yet."""
        reached = path[: sum(1 for at in moments if at <= ANCHOR)]
        if "CONTRACT_SIGNED" not in reached:
            return None
        placed = moments[path.index("PLACED")].date() if "PLACED" in reached else None
        starts = self.sessions_for(program, moments[0].date(), placed)
        taken = next((start for start in starts if self.places.take(program, start)), None)
        return (starts[0], False) if taken is None else (taken, True)

    def turned_away(
        self, program: ProgramSeed, created: datetime
    ) -> tuple[list[str], list[datetime], str]:
        """An application its sessions had no place for: the centre rejects it (session
        full) or the candidate withdraws, in the proportions of its domain's own exits."""
        finals = shape_of(program).finals
        rejected = finals.weight("REJECTED_BY_CFA")
        if self.rng.random() < rejected / (rejected + finals.weight("WITHDRAWN")):
            path = list(path_to("REJECTED_BY_CFA", "UNDER_REVIEW"))
            reason = SESSION_FULL
        else:
            path = list(path_to("WITHDRAWN", "ADMITTED"))
            reason = self.rng.choice(REASONS["WITHDRAWN"])
        return path, self.planned_moments(path, created, shape_of(program)), reason

    def employer(
        self, program: ProgramSeed, departement: str
    ) -> tuple[OfferSeed | None, str | None]:
        missions = [m for r in program.rome_codes for m in self.missions.get((r, departement), ())]
        if missions and self.rng.random() < MISSION_SHARE:
            mission = self.rng.choice(missions)
            return mission, mission.employer_siret
        sirets = [s for r in program.rome_codes for s in self.employers.get((r, departement), ())]
        if not sirets:  # no offer of the trade near the centre: one farther
            sirets = [
                s
                for r in program.rome_codes
                for d in ("73", "74")
                for s in self.employers.get((r, d), ())
            ]
        return None, self.rng.choice(sirets)

    def candidate_applications(
        self,
        erp: str,
        candidate: CandidateSeed,
        programs: Sequence[ProgramSeed],
        first_id: int,
    ) -> list[ApplicationSeed]:
        """The candidate's applications, at most one of which reaches a contract: the first
        signed wins, the others still open are withdrawn a few days later."""
        first = self.created_at()
        plans: list[tuple[ProgramSeed, list[str], list[datetime]]] = []
        for rank, program in enumerate(programs):
            created = first + timedelta(days=rank * self.rng.uniform(0, 21))
            if created >= ANCHOR:
                break
            path = list(self.planned_path(shape_of(program)))
            plans.append((program, path, self.planned_moments(path, created, shape_of(program))))
        # The first contract signed wins, if its sessions have a place left; else that
        # application is turned away and the next signed one tries.
        sessions: dict[int, date] = {}
        reasons: dict[int, str] = {}
        while (winner := self.first_signed(plans)) is not None:
            program, path, moments = plans[winner]
            place = self.place_for(program, path, moments)
            if place is None:
                break
            sessions[winner], taken = place
            if taken:
                break
            turned, turned_at, reasons[winner] = self.turned_away(program, moments[0])
            plans[winner] = (program, turned, turned_at)
        won = None
        if winner is not None:
            _, path, moments = plans[winner]
            won = moments[path.index("CONTRACT_SIGNED")]
        applications: list[ApplicationSeed] = []
        for index, (program, planned, planned_at) in enumerate(plans):
            path, moments, reason = planned, planned_at, reasons.get(index)
            if won is not None and index != winner and moments[-1] >= won:
                if moments[0] >= won:
                    continue  # it would have been made after signing elsewhere: never made
                path, moments, reason = self.withdrawn(path, moments, won)
            kept = sum(1 for at in moments if at <= ANCHOR)
            if kept < len(moments):  # still under way at ANCHOR
                path, moments, reason = path[:kept], moments[:kept], None
            elif path[-1] in REASONS and reason is None:
                reason = self.rng.choice(REASONS[path[-1]])
            applications.append(
                self.application(
                    erp,
                    first_id + len(applications),
                    candidate,
                    program,
                    (path, moments, reason),
                    sessions.get(index),
                )
            )
        return applications

    @staticmethod
    def first_signed(plans: Sequence[tuple[ProgramSeed, list[str], list[datetime]]]) -> int | None:
        """The index of the plan whose contract is signed first (None: no plan signs)."""
        signing = [
            (moments[path.index("CONTRACT_SIGNED")], index)
            for index, (_, path, moments) in enumerate(plans)
            if "CONTRACT_SIGNED" in path
        ]
        return min(signing)[1] if signing else None

    def withdrawn(
        self, path: list[str], moments: list[datetime], won: datetime
    ) -> tuple[list[str], list[datetime], str]:
        kept = sum(1 for at in moments if at < won)
        out = moments[:kept]
        return (
            [*path[:kept], "WITHDRAWN"],
            [*out, won + timedelta(minutes=self.rng.randint(1440, 14400))],
            PLACED_ELSEWHERE,
        )

    def application(
        self,
        erp: str,
        app_id: int,
        candidate: CandidateSeed,
        program: ProgramSeed,
        story: tuple[Sequence[str], Sequence[datetime], str | None],
        session: date | None,
    ) -> ApplicationSeed:
        """``story``: its statuses, their moments and the last one's reason; ``session``: the
        one whose place it holds or was refused (None: :meth:`session`'s)."""
        path, moments, reason = story
        last = len(path) - 1
        history = tuple(
            HistoryStep(status, at, ACTOR[status], reason if index == last else None)
            for index, (status, at) in enumerate(zip(path, moments, strict=True))
        )
        mission, siret = None, None
        if "PROPOSED_TO_EMPLOYER" in path:
            mission, siret = self.employer(program, program.responsible.address.departement)
        placed = moments[-1].date() if path[-1] == "PLACED" else None
        if session is None:
            session = self.session(program, moments[0].date(), placed)
        return ApplicationSeed(
            erp=erp,
            id=app_id,
            candidate_id=candidate.id,
            program=program,
            session=session,
            mission=mission,
            employer_siret=siret,
            channel="hub3e" if mission is not None else _CHANNELS.draw(self.rng),
            history=history,
        )

    # -- contracts ---------------------------------------------------------------------------

    def contract(self, application: ApplicationSeed, person_key: str) -> ContractSeed:
        assert application.employer_siret is not None
        signed = application.reached("CONTRACT_SIGNED")
        assert signed is not None
        deposited = application.reached("CONTRACT_DEPOSITED")
        placed = application.reached("PLACED")
        if placed is not None:
            start = placed.at.date()
        else:  # not started yet: it starts within weeks
            start = max(signed.at.date() + timedelta(days=self.rng.randint(7, 30)), TODAY)
            start += timedelta(days=self.rng.randint(1, 20))
        end = add_months(start, application.program.duration_months) - timedelta(days=1)
        rupture: Rupture | None = None
        decided: date | None = None
        if placed is not None:
            assert deposited is not None
            decision, status = "ACCORDE", "en cours"
            decided = min(deposited.at.date() + timedelta(days=self.rng.randint(3, 20)), TODAY)
            rupture = self.rupture(start, end, shape_of(application.program))
            if rupture is not None:
                status = "rompu"
            elif end < TODAY:
                status = "terminé"
        elif deposited is not None:
            decision = _DECISIONS.draw(self.rng)
            status = "annulé" if decision == "REFUSE" else "déposé"
            if decision != "EN_ATTENTE":
                decided = min(deposited.at.date() + timedelta(days=self.rng.randint(3, 20)), TODAY)
        else:
            decision, status = "EN_ATTENTE", "transmis"
        return self.builder.sealed_contract(
            self.rng, application, person_key, (start, end), status, rupture, decision, decided
        )

    def rupture(self, start: date, end: date, shape: DomainShape) -> Rupture | None:
        """A rupture with the domain's probability, nearly half in the trial period; none
        when its day would come after ANCHOR or the contract's end (not broken yet)."""
        if self.rng.random() >= shape.rupture_rate:
            return None
        in_trial = self.rng.random() < 0.45
        after = self.rng.randint(1, _TRIAL_DAYS) if in_trial else self.rng.randint(46, 365)
        day = start + timedelta(days=after)
        if day > min(end, TODAY):
            return None
        cause = RUPTURE_CAUSES[0] if in_trial else self.rng.choice(RUPTURE_CAUSES[1:])
        return Rupture(day, cause)

    # -- one centre ----------------------------------------------------------------------------

    def centre(
        self, erp: str
    ) -> tuple[list[CandidateSeed], list[ApplicationSeed], list[FollowUpSeed], list[ContractSeed]]:
        centre = self.data.centre_with_erp(erp)
        programs = sorted(self.data.programs_published_on(erp), key=lambda p: p.publishers[erp])
        weights = [sum(s.capacity for s in p.sessions) * _LEVEL_WEIGHT[p.level] for p in programs]
        homes = self.residents(centre)
        first_candidate = max(c.id for c in self.core.candidates[erp]) + 1
        next_application = max(a.id for a in self.core.applications[erp]) + 1
        next_follow_up = len(self.core.follow_ups[erp]) + 1
        candidates: list[CandidateSeed] = []
        applications: list[ApplicationSeed] = []
        follow_ups: list[FollowUpSeed] = []
        contracts: list[ContractSeed] = []
        for number in range(first_candidate, first_candidate + CANDIDATES_PER_ERP[erp]):
            count = self.rng.choices(_APPLICATIONS_PER_CANDIDATE, weights=_APPLICATIONS_WEIGHTS)[0]
            chosen: list[ProgramSeed] = []
            while len(chosen) < count:  # distinct programmes, by places and level
                program = self.rng.choices(programs, weights=weights)[0]
                if program not in chosen:
                    chosen.append(program)
            person = self.person(centre, homes, chosen[0].level, self.rng.random() < 0.75)
            candidate = CandidateSeed(
                erp, number, person.key, tuple(r for p in chosen for r in p.rome_codes)
            )
            candidates.append(candidate)
            made = self.candidate_applications(erp, candidate, chosen, next_application)
            next_application += len(made)
            applications.extend(made)
            for application in made:
                if application.status not in CONTRACT_STAGES:
                    continue
                self.builder.give_ine(person.key)
                contract = self.contract(application, person.key)
                contracts.append(contract)
                events = self.builder.follow_ups(contract, centre, number, next_follow_up)
                next_follow_up += len(events)
                follow_ups.extend(events)
        return candidates, applications, follow_ups, contracts

    # -- Hub3E ---------------------------------------------------------------------------------

    def hub3e(
        self,
        erp: str,
        candidates: Sequence[CandidateSeed],
        applications: Sequence[ApplicationSeed],
    ) -> tuple[list[Hub3eCandidate], list[Hub3ePlacement]]:
        """A file for each candidate proposed on a mission (and a few others), its mirrored
        placements; then the people only Hub3E knows, seeking or lost."""
        centre = self.data.centre_with_erp(erp)
        by_candidate: dict[int, list[ApplicationSeed]] = {}
        for application in applications:
            by_candidate.setdefault(application.candidate_id, []).append(application)
        files: list[Hub3eCandidate] = []
        placements: list[Hub3ePlacement] = []
        for candidate in candidates:
            own = by_candidate.get(candidate.id, [])
            on_missions = [a for a in own if a.mission is not None]
            if not own or not (on_missions or self.rng.random() < 0.03):
                continue
            person = self.builder.persons[candidate.person_key]
            file = Hub3eCandidate(
                id=f"CAN-{next(self.file_numbers)}",
                person_key=person.key,
                knows_ine=person.ine is not None and self.rng.random() < 0.55,
                centre_uai=centre.uai,
                centre_siret=centre.siret,
                erp_candidate=(erp, candidate.id),
                created_at=own[0].created_at + timedelta(hours=2),
            )
            files.append(file)
            for application in on_missions:
                placement_id = f"PLC-{next(self.placement_numbers)}"
                placements.append(self.builder.mirrored(file, application, placement_id))
        homes = self.residents(centre)
        romes = {r for p in self.data.programs_published_on(erp) for r in p.rome_codes}
        departement = centre.address.departement
        trades = [m for m in self.builder.hub3e_missions if m.rome_code in romes]
        # A mission of the centre's trades near it, else farther (Savoie has few in building).
        fitting = [m for m in trades if m.address.departement == departement] or trades
        for _ in range(HUB3E_ONLY_PER_ERP[erp]):
            person = self.person(centre, homes, 3, self.rng.random() < 0.5)
            file = Hub3eCandidate(
                id=f"CAN-{next(self.file_numbers)}",
                person_key=person.key,
                knows_ine=person.ine is not None,
                centre_uai=centre.uai,
                centre_siret=centre.siret,
                erp_candidate=None,
                created_at=self.created_at(),
            )
            files.append(file)
            placements.append(
                Hub3ePlacement(
                    f"PLC-{next(self.placement_numbers)}",
                    file.id,
                    self.rng.choice(fitting),
                    self.hub3e_steps(file.created_at),
                    None,
                )
            )
        return files, placements

    def hub3e_steps(self, created: datetime) -> tuple[PlacementStep, ...]:
        """Hub3E's own steps up to a meeting, or lost; those not reached by ANCHOR are cut."""
        at = created + timedelta(hours=1)
        steps = [PlacementStep("NEW", at)]
        for status, share in (("QUALIFIED", 0.7), ("SENT_TO_COMPANY", 0.5), ("MEETING", 0.5)):
            if self.rng.random() >= share:
                break
            at += timedelta(minutes=self.rng.randint(1440, 20 * 1440))
            steps.append(PlacementStep(status, at))
        if self.rng.random() < 0.6:
            at += timedelta(minutes=self.rng.randint(15 * 1440, 90 * 1440))
            steps.append(PlacementStep("LOST", at))
        return tuple(s for s in steps if s.at <= ANCHOR)

    # -- everything ------------------------------------------------------------------------------

    def grow(self) -> PersonalDataset:
        core = self.core
        candidates = {erp: list(rows) for erp, rows in core.candidates.items()}
        applications = {erp: list(rows) for erp, rows in core.applications.items()}
        follow_ups = {erp: list(rows) for erp, rows in core.follow_ups.items()}
        contracts = list(core.contracts)
        files, placements = list(core.hub3e_candidates), list(core.hub3e_placements)
        for erp in CANDIDATES_PER_ERP:
            new_candidates, new_applications, new_follow_ups, new_contracts = self.centre(erp)
            new_files, new_placements = self.hub3e(erp, new_candidates, new_applications)
            candidates[erp].extend(new_candidates)
            applications[erp].extend(new_applications)
            follow_ups[erp].extend(new_follow_ups)
            contracts.extend(new_contracts)
            files.extend(new_files)
            placements.extend(new_placements)
        return dataclasses.replace(
            core,
            persons=dict(self.builder.persons),
            candidates={erp: tuple(rows) for erp, rows in candidates.items()},
            applications={erp: tuple(rows) for erp, rows in applications.items()},
            follow_ups={erp: tuple(rows) for erp, rows in follow_ups.items()},
            contracts=tuple(contracts),
            hub3e_candidates=tuple(files),
            hub3e_placements=tuple(placements),
        )


def grow(builder: _Builder, core: PersonalDataset) -> PersonalDataset:
    """``core`` (what ``builder`` built: the walkthrough's people) with the population."""
    return Population(builder, core).grow()


__all__ = [
    "CANDIDATES_PER_ERP",
    "HUB3E_ONLY_PER_ERP",
    "SHAPES",
    "WINDOW_START",
    "DomainShape",
    "Population",
    "grow",
    "rome_domain",
    "shape_of",
]
