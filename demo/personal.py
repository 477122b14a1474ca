"""Builds the demo's personal half: candidates, applications, follow-up, contracts, Hub3E files.

Usage::

    from demo.personal import personal_dataset
    people = personal_dataset()            # canary from HUB_DEMO_CANARY, if set
    people.candidates["cfa-btp"][0]        # the walkthrough's apprentice (demo.people)

Deterministic: drawn from its own ``random.Random`` and Faker (seeded from ``SEED`` but apart
from the public dataset's stream, so adding people changes no offer or programme), anchored on
``ANCHOR``. The same person is one :class:`Person` every partner renders:

- each centre's ERP holds its candidates, their 1-3 applications (every history a path of
  :mod:`demo.lifecycle`) and the follow-up of those placed;
- AKTO holds one contract for every application that reached CONTRACT_SIGNED or beyond (the
  apprentice always has an INE then), some broken, some completed;
- Hub3E holds a file for every candidate proposed on one of its missions and some others: with
  the INE for some, without it (same e-mail and birth date) for the others, plus people only it
  knows, and one placement per application proposed on a mission.

**Canary**: ``personal_dataset(canary="...")`` (or ``HUB_DEMO_CANARY`` in the environment of the
demo's seeding and partner apps) plants the string in one person per centre (last name,
e-mail, a follow-up summary), the same person at the ERP, Hub3E and AKTO: hub tests then check
it never reaches a log or a cache. The canary people are chosen before the canary is known, so
their ids are stable (:data:`demo.people.CANARY_CANDIDATES`).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import random
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta

from faker import Faker

from demo import population
from demo.data import (
    ANCHOR,
    CATALOGUE_YEAR_START,
    PAST_SEPTEMBER_STARTS,
    SEED,
    Dataset,
    OfferSeed,
    ProgramSeed,
    TrainingCentre,
    dataset,
)
from demo.lifecycle import (
    CONTRACT_STAGES,
    HUB3E_PLACEMENT_STATUS,
    MAIN_PATH,
    SIDE_EXITS,
    path_to,
)
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
    DIPLOMAS,
    PLACED_ELSEWHERE,
    REASONS,
    RUPTURE_CAUSES,
    add_months,
    moment,
    weighted,
)
from demo.territory import Commune, communes

CANARY_ENV = "HUB_DEMO_CANARY"
ERPS = ("cfa-btp", "cfa-hotellerie")
WALKTHROUGH_CANDIDATES_PER_ERP = {"cfa-btp": 120, "cfa-hotellerie": 90}
"""The walkthrough's candidates at each ERP, ids 1 to 120 and 1 to 90 (the population follows)."""
HUB3E_ONLY_PER_CENTRE = 12
CANDIDATES_PER_ERP = {
    erp: count + population.CANDIDATES_PER_ERP[erp]
    for erp, count in WALKTHROUGH_CANDIDATES_PER_ERP.items()
}
HUB3E_ONLY = HUB3E_ONLY_PER_CENTRE * len(ERPS) + sum(population.HUB3E_ONLY_PER_ERP.values())
"""The files of people only Hub3E knows, walkthrough's and population's."""
_TODAY = ANCHOR.date()
_FIRST_FINALS: tuple[tuple[str, int], ...] = (
    ("PLACED", 24),
    ("CONTRACT_DEPOSITED", 5),
    ("CONTRACT_SIGNED", 4),
    ("CONTRACT_DRAFTED", 4),
    ("EMPLOYER_AGREED", 4),
    ("INTERVIEW", 6),
    ("PROPOSED_TO_EMPLOYER", 7),
    ("ADMITTED", 8),
    ("UNDER_REVIEW", 6),
    ("SUBMITTED", 5),
    ("DRAFT", 3),
    ("REJECTED_BY_CFA", 5),
    ("REJECTED_BY_EMPLOYER", 7),
    ("WITHDRAWN", 6),
    ("ABANDONED", 6),
)
_OTHER_FINALS = tuple(item for item in _FIRST_FINALS if item[0] not in CONTRACT_STAGES)
_AFTER_A_CONTRACT = (("WITHDRAWN", 3), ("REJECTED_BY_CFA", 1), ("REJECTED_BY_EMPLOYER", 1))
_SUMMARIES = {
    "TRIAL_PERIOD_REVIEW": "Bilan de période d'essai : intégration satisfaisante, objectifs fixés.",
    "FOLLOW_UP_INTERVIEW": "Entretien de suivi : progression conforme au livret d'apprentissage.",
    "COMPANY_VISIT": "Visite en entreprise avec le maître d'apprentissage : missions conformes.",
    "ABSENCE_ALERT": "Absences répétées en centre signalées à l'employeur.",
    "DIFFICULTY_ALERT": "Difficultés signalées en enseignement général ; soutien proposé.",
    "MEDIATION": "Médiation entre l'apprenti et l'employeur sur l'organisation des horaires.",
    "RUPTURE": "Rupture du contrat notifiée ; accompagnement vers un nouvel employeur.",
    "EXAM": "Épreuves finales passées.",
    "END_OF_TRAINING": "Fin de formation ; attestation remise.",
}
_PARTIES = "CONTRACT_PARTIES"
_CENTRE_ONLY = "TRAINING_CENTRE_ONLY"


def canary_from_env() -> str | None:
    return os.environ.get(CANARY_ENV) or None


def personal_dataset(canary: str | None = None) -> PersonalDataset:
    """The personal half; ``canary`` None reads ``HUB_DEMO_CANARY`` (unset: no canary)."""
    return _built(canary if canary is not None else canary_from_env())


def build_personal_dataset(data: Dataset, canary: str | None = None) -> PersonalDataset:
    """A fresh build (no cache, no environment): what :func:`personal_dataset` caches.

    The walkthrough's people first, then the observatory's population (demo.population), drawn
    on a stream of its own: growing or reshaping it moves none of the walkthrough's ids.
    """
    builder = _Builder(data)
    people = population.grow(builder, builder.build())
    return people if canary is None else _with_canary(people, canary)


def build_walkthrough_people(data: Dataset) -> PersonalDataset:
    """The walkthrough's people alone, as they are drawn before the population is added."""
    return _Builder(data).build()


@functools.cache
def _built(canary: str | None) -> PersonalDataset:
    return build_personal_dataset(dataset(), canary)


def _with_canary(people: PersonalDataset, canary: str) -> PersonalDataset:
    persons = dict(people.persons)
    follow_ups = dict(people.follow_ups)
    for erp, candidate_id in people.canary_candidates.items():
        person = people.person_of(erp, candidate_id)
        persons[person.key] = dataclasses.replace(
            person, last_name=canary, email=f"{canary}@example.org"
        )
        events = list(follow_ups[erp])
        index = next(i for i, e in enumerate(events) if e.candidate_id == candidate_id)
        events[index] = dataclasses.replace(
            events[index], summary=f"{events[index].summary} {canary}"
        )
        follow_ups[erp] = tuple(events)
    return dataclasses.replace(people, persons=persons, follow_ups=follow_ups)


def walkthrough_employer(data: Dataset) -> str:
    """An AKTO-funded hotel of Haute-Savoie with Hub3E missions: the walkthrough's employer.

    A hotel's technical service hires a building-trades apprentice (the walkthrough, at
    cfa-btp) as well as hotel-trade ones (cfa-hotellerie): one SIRET with applications and
    contracts at both centres, funded by AKTO, so the OPCO credential sees them too.
    """
    missions: dict[str, int] = {}
    for offer in data.offers_published_on("hub3e"):
        employer = data.employer_by_siret(offer.employer_siret)
        if (
            employer is not None
            and employer.active
            and employer.opco == "AKTO"
            and employer.naf_code == "55.10Z"
            and employer.address.departement == "74"
        ):
            missions[employer.siret] = missions.get(employer.siret, 0) + 1
    return min(missions, key=lambda siret: (-missions[siret], siret))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c == "-")


class _Builder:
    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.rng = random.Random(f"{SEED}:personal")
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(SEED + 1)
        self.persons: dict[str, Person] = {}
        self.used_ines: set[str] = set()
        self.used_emails: set[str] = set()
        self.employer_siret = walkthrough_employer(data)
        self.hub3e_missions = sorted(
            data.offers_published_on("hub3e"), key=lambda o: o.publishers["hub3e"]
        )
        self.deca_sequence = 0
        self.contracts: list[ContractSeed] = []

    # -- people ----------------------------------------------------------------------------

    def ine(self) -> str:
        while True:
            value = f"{self.rng.randrange(10**9):09d}" + "".join(
                self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)
            )
            if value not in self.used_ines:
                self.used_ines.add(value)
                return value

    def person(self, departement: str, with_ine: bool) -> Person:
        places = [c for c in communes().values() if c.departement == departement]
        cum_weights = list(itertools.accumulate(c.population for c in places))
        return self.person_in(places, cum_weights, with_ine)

    def person_in(
        self,
        places: Sequence[Commune],
        cum_weights: Sequence[float],
        with_ine: bool,
        diplomas: Sequence[tuple[str, int]] = DIPLOMAS,
        ages: tuple[int, int] = (16, 27),
    ) -> Person:
        """A new person living in one of ``places`` (drawn by ``cum_weights``), aged
        ``ages`` years, with a unique e-mail (and INE, when ``with_ine``)."""
        first, last = self.fake.first_name(), self.fake.last_name()
        while True:
            local = f"{_ascii(first)}.{_ascii(last)}"
            if self.rng.random() < 0.6:
                local += str(self.rng.randint(1, 99))
            email = f"{local}@{self.rng.choice(('example.org', 'example.net', 'example.com'))}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                break
        commune = self.rng.choices(places, cum_weights=cum_weights)[0]
        age_days = self.rng.randint(ages[0] * 365, ages[1] * 365)
        key = f"person-{len(self.persons) + 1:04d}"
        person = Person(
            key=key,
            first_name=first,
            last_name=last,
            birth_date=_TODAY - timedelta(days=age_days),
            email=email,
            phone=f"06 39 98 {self.rng.randrange(100):02d} {self.rng.randrange(100):02d}",
            commune_insee=commune.insee_code,
            highest_diploma=weighted(self.rng, diplomas),
            ine=self.ine() if with_ine else None,
        )
        self.persons[key] = person
        return person

    def give_ine(self, key: str) -> None:
        if self.persons[key].ine is None:
            self.persons[key] = dataclasses.replace(self.persons[key], ine=self.ine())

    # -- applications ------------------------------------------------------------------------

    def mission_for(self, program: ProgramSeed, departement: str) -> OfferSeed | None:
        fitting = [
            m
            for m in self.hub3e_missions
            if m.rome_code in program.rome_codes and m.address.departement == departement
        ]
        return self.rng.choice(fitting) if fitting and self.rng.random() < 0.7 else None

    def employer_for(self, program: ProgramSeed, departement: str) -> str:
        fitting = [
            o.employer_siret
            for o in self.data.offers
            if o.rome_code in program.rome_codes and o.address.departement == departement
        ]
        return self.rng.choice(fitting) if fitting else self.employer_siret

    def cohort(self, program: ProgramSeed, final: str) -> date:
        """The session applied to: this training year's (placed: the one begun, else a past
        September's), every one a session of the programme."""
        current = program.sessions_from(CATALOGUE_YEAR_START)
        started = [s.start for s in current if s.start <= _TODAY]
        upcoming = [s.start for s in current if s.start > _TODAY]
        if final == "PLACED":
            if started and self.rng.random() < 0.65:
                return started[0]
            return self.rng.choice(PAST_SEPTEMBER_STARTS)
        return upcoming[0] if upcoming else current[-1].start

    def history(
        self, path: Sequence[str], last_day: date, reason: str | None
    ) -> tuple[HistoryStep, ...]:
        moments = [moment(last_day, self.rng)]
        for _ in path[1:]:
            moments.append(moments[-1] - timedelta(days=self.rng.randint(1, 14), hours=3))
        moments.reverse()
        steps = [
            HistoryStep(status, at, ACTOR[status], None)
            for status, at in zip(path, moments, strict=True)
        ]
        steps[-1] = dataclasses.replace(steps[-1], reason=reason)
        return tuple(steps)

    def application(
        self,
        erp: str,
        app_id: int,
        candidate: CandidateSeed,
        program: ProgramSeed,
        final: str,
        employer: str | None = None,
        reason: str | None = None,
        session: date | None = None,
    ) -> ApplicationSeed:
        centre = program.responsible
        departement = centre.address.departement
        if final in MAIN_PATH:
            path = path_to(final)
        else:
            path = path_to(final, self.rng.choice(SIDE_EXITS[final]))
        if final in REASONS and reason is None:
            reason = self.rng.choice(REASONS[final])
        session = session or self.cohort(program, final)
        if final == "PLACED":
            last_day = min(session - timedelta(days=self.rng.randint(0, 21)), _TODAY)
        elif final in CONTRACT_STAGES:
            last_day = _TODAY - timedelta(days=self.rng.randint(1, 40))
        else:
            last_day = _TODAY - timedelta(days=self.rng.randint(1, 120))
        mission, siret = None, None
        if "PROPOSED_TO_EMPLOYER" in path:
            if employer is not None:
                own = [m for m in self.hub3e_missions if m.employer_siret == employer]
                mission, siret = (own[0] if own else None), employer
            else:
                mission = self.mission_for(program, departement)
                siret = (
                    mission.employer_siret if mission else self.employer_for(program, departement)
                )
        channel = "hub3e" if mission is not None else weighted(self.rng, CHANNELS[:-1])
        return ApplicationSeed(
            erp=erp,
            id=app_id,
            candidate_id=candidate.id,
            program=program,
            session=session,
            mission=mission,
            employer_siret=siret,
            channel=channel,
            history=self.history(path, last_day, reason),
        )

    # -- contracts and follow-up ---------------------------------------------------------------

    def contract(self, application: ApplicationSeed, person_key: str) -> ContractSeed:
        assert application.employer_siret is not None
        signed = application.reached("CONTRACT_SIGNED")
        assert signed is not None
        deposited = application.reached("CONTRACT_DEPOSITED")
        placed = application.reached("PLACED")
        start = (
            placed.at.date()
            if placed
            else application.session - timedelta(days=self.rng.randint(0, 14))
        )
        end = add_months(start, application.program.duration_months) - timedelta(days=1)
        rupture: Rupture | None = None
        decided: date | None = None
        if placed is not None:
            assert deposited is not None
            decision, status = "ACCORDE", "en cours"
            decided = min(deposited.at.date() + timedelta(days=self.rng.randint(3, 20)), _TODAY)
            last = min(end, _TODAY)
            if (last - start).days > 45 and self.rng.random() < 0.18:
                rupture = Rupture(
                    start + timedelta(days=self.rng.randint(20, (last - start).days)),
                    self.rng.choice(RUPTURE_CAUSES),
                )
                status = "rompu"
            elif end < _TODAY:
                status = "terminé"
        elif deposited is not None:
            decision = weighted(self.rng, (("EN_ATTENTE", 13), ("ACCORDE", 6), ("REFUSE", 1)))
            status = "annulé" if decision == "REFUSE" else "déposé"
            if decision != "EN_ATTENTE":
                decided = min(deposited.at.date() + timedelta(days=self.rng.randint(3, 20)), _TODAY)
        else:
            decision, status = "EN_ATTENTE", "transmis"
        return self.sealed_contract(
            self.rng, application, person_key, (start, end), status, rupture, decision, decided
        )

    def sealed_contract(
        self,
        rng: random.Random,
        application: ApplicationSeed,
        person_key: str,
        dates: tuple[date, date],
        status: str,
        rupture: Rupture | None,
        decision: str,
        decided: date | None,
    ) -> ContractSeed:
        """The contract of ``application`` once its dates and decision are drawn: its DECA
        number (département, month concluded, the next of the OPCO's sequence, drawn from
        ``rng``: the walkthrough's stream or the population's) and its seed."""
        employer = self.data.employer_by_siret(application.employer_siret or "")
        signed = application.reached("CONTRACT_SIGNED")
        assert employer is not None and signed is not None
        self.deca_sequence += rng.randint(1, 40)
        concluded = signed.at.date()
        number = (
            f"0{employer.address.departement}{concluded.year}{concluded.month:02d}"
            f"{self.deca_sequence:06d}"
        )
        start, end = dates
        return ContractSeed(
            deca_number=number,
            erp=application.erp,
            application_id=application.id,
            person_key=person_key,
            employer_siret=employer.siret,
            program=application.program,
            concluded=concluded,
            start=start,
            end=end,
            status=status,
            rupture=rupture,
            opco=employer.opco or "AKTO",
            decision=decision,
            decided_on=decided,
        )

    def follow_ups(
        self,
        contract: ContractSeed,
        centre: TrainingCentre,
        candidate_id: int,
        first_id: int,
        first_interview_after: int | None = None,
    ) -> list[FollowUpSeed]:
        if contract.status not in ("en cours", "rompu", "terminé"):
            return []
        last = min(contract.end, _TODAY, contract.rupture.day if contract.rupture else _TODAY)
        plan: list[tuple[str, date, str, str]] = [
            ("TRIAL_PERIOD_REVIEW", contract.start + timedelta(days=40), _PARTIES, centre.uai)
        ]
        after = first_interview_after or self.rng.randint(60, 100)
        day = contract.start + timedelta(days=after)
        while day < last:
            plan.append(("FOLLOW_UP_INTERVIEW", day, _CENTRE_ONLY, centre.uai))
            if self.rng.random() < 0.5:
                plan.append(("COMPANY_VISIT", day + timedelta(days=9), _PARTIES, centre.uai))
            if self.rng.random() < 0.12:
                plan.append(("ABSENCE_ALERT", day + timedelta(days=17), _CENTRE_ONLY, centre.uai))
            if self.rng.random() < 0.1:
                plan.append(
                    ("DIFFICULTY_ALERT", day + timedelta(days=23), _CENTRE_ONLY, centre.uai)
                )
                plan.append(("MEDIATION", day + timedelta(days=30), _PARTIES, centre.uai))
            day += timedelta(days=self.rng.randint(90, 130))
        if contract.rupture is not None:
            plan.append(("RUPTURE", contract.rupture.day, _PARTIES, contract.employer_siret))
        elif contract.end < _TODAY:
            plan.append(("EXAM", contract.end - timedelta(days=30), _PARTIES, centre.uai))
            plan.append(("END_OF_TRAINING", contract.end, _PARTIES, centre.uai))
        kept = sorted((p for p in plan if p[1] <= last), key=lambda p: (p[1], p[0]))
        return [
            FollowUpSeed(
                erp=contract.erp,
                id=first_id + index,
                candidate_id=candidate_id,
                kind=kind,
                day=day,
                author_org=org,
                author_role="EMPLOYER" if org == contract.employer_siret else "TRAINING_CENTRE",
                summary=_SUMMARIES[kind],
                visibility=visibility,
            )
            for index, (kind, day, visibility, org) in enumerate(kept)
        ]

    # -- one centre ----------------------------------------------------------------------------

    def centre(
        self, erp: str
    ) -> tuple[list[CandidateSeed], list[ApplicationSeed], list[FollowUpSeed]]:
        centre = self.data.centre_with_erp(erp)
        programs = sorted(self.data.programs_published_on(erp), key=lambda p: p.publishers[erp])
        departement = centre.address.departement
        candidates: list[CandidateSeed] = []
        applications: list[ApplicationSeed] = []
        follow_ups: list[FollowUpSeed] = []
        for number in range(1, WALKTHROUGH_CANDIDATES_PER_ERP[erp] + 1):
            walkthrough = erp == "cfa-btp" and number == 1
            person = self.person(departement, with_ine=walkthrough or self.rng.random() < 0.75)
            count = 2 if walkthrough else self.rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
            chosen = self.rng.sample(programs, min(count, len(programs)))
            if walkthrough:  # a programme whose first cohort has started: follow-up exists
                chosen[0] = next(
                    p for p in programs if p.sessions_from(CATALOGUE_YEAR_START)[0].start <= _TODAY
                )
            candidate = CandidateSeed(
                erp, number, person.key, tuple(r for p in chosen for r in p.rome_codes)
            )
            candidates.append(candidate)
            contracted = False
            for rank, program in enumerate(chosen):
                app_id = len(applications) + 1
                employer = None
                reason = None
                if walkthrough:
                    final = "PLACED" if rank == 0 else "WITHDRAWN"
                    employer = self.employer_siret if rank == 0 else None
                    reason = None if rank == 0 else PLACED_ELSEWHERE
                elif contracted:
                    final = weighted(self.rng, _AFTER_A_CONTRACT)
                    reason = PLACED_ELSEWHERE if final == "WITHDRAWN" else None
                else:
                    final = weighted(self.rng, _FIRST_FINALS if rank == 0 else _OTHER_FINALS)
                    if erp == "cfa-hotellerie" and number % 6 == 0:
                        employer = self.employer_siret  # the walkthrough employer hires here too
                current = program.sessions_from(CATALOGUE_YEAR_START)
                cohort = current[0].start if walkthrough and rank == 0 else None
                application = self.application(
                    erp, app_id, candidate, program, final, employer, reason, cohort
                )
                if walkthrough and rank == 0:
                    assert application.status == "PLACED"
                applications.append(application)
                if application.status in CONTRACT_STAGES:
                    contracted = True
                    self.give_ine(person.key)
                    contract = self.contract(application, person.key)
                    if walkthrough:  # the walkthrough's contract is running, not broken
                        contract = dataclasses.replace(contract, status="en cours", rupture=None)
                    self.contracts.append(contract)
                    # The walkthrough's apprentice has a centre-only interview as well as
                    # events the contract's parties share: the roles see different timelines.
                    follow_ups.extend(
                        self.follow_ups(
                            contract,
                            centre,
                            number,
                            len(follow_ups) + 1,
                            first_interview_after=55 if walkthrough else None,
                        )
                    )
        return candidates, applications, follow_ups

    # -- Hub3E ---------------------------------------------------------------------------------

    def hub3e(
        self,
        candidates: dict[str, list[CandidateSeed]],
        applications: dict[str, list[ApplicationSeed]],
    ) -> tuple[list[Hub3eCandidate], list[Hub3ePlacement]]:
        numbers = iter(self.rng.sample(range(100_000, 1_000_000), 2000))
        files: list[Hub3eCandidate] = []
        placements: list[Hub3ePlacement] = []
        for erp in ERPS:
            centre = self.data.centre_with_erp(erp)
            by_candidate: dict[int, list[ApplicationSeed]] = {}
            for application in applications[erp]:
                by_candidate.setdefault(application.candidate_id, []).append(application)
            for candidate in candidates[erp]:
                own = by_candidate.get(candidate.id, [])
                on_missions = [a for a in own if a.mission is not None]
                walkthrough = erp == "cfa-btp" and candidate.id == 1
                if not (walkthrough or on_missions or self.rng.random() < 0.2):
                    continue
                person = self.persons[candidate.person_key]
                knows_ine = person.ine is not None and (walkthrough or self.rng.random() < 0.55)
                file = Hub3eCandidate(
                    id=f"CAN-{next(numbers)}",
                    person_key=person.key,
                    knows_ine=knows_ine,
                    centre_uai=centre.uai,
                    centre_siret=centre.siret,
                    erp_candidate=(erp, candidate.id),
                    created_at=own[0].created_at + timedelta(hours=2),
                )
                files.append(file)
                for application in on_missions:
                    placements.append(self.mirrored(file, application, f"PLC-{next(numbers)}"))
            departement = centre.address.departement
            local = [m for m in self.hub3e_missions if m.address.departement == departement]
            for _ in range(HUB3E_ONLY_PER_CENTRE):
                person = self.person(departement, with_ine=self.rng.random() < 0.5)
                created = moment(_TODAY - timedelta(days=self.rng.randint(2, 60)), self.rng)
                file = Hub3eCandidate(
                    id=f"CAN-{next(numbers)}",
                    person_key=person.key,
                    knows_ine=person.ine is not None,
                    centre_uai=centre.uai,
                    centre_siret=centre.siret,
                    erp_candidate=None,
                    created_at=created,
                )
                files.append(file)
                steps = [PlacementStep("NEW", created + timedelta(hours=1))]
                if self.rng.random() < 0.5:
                    steps.append(PlacementStep("QUALIFIED", created + timedelta(days=2)))
                placements.append(
                    Hub3ePlacement(
                        f"PLC-{next(numbers)}", file.id, self.rng.choice(local), tuple(steps), None
                    )
                )
        return files, placements

    def mirrored(
        self, file: Hub3eCandidate, application: ApplicationSeed, placement_id: str
    ) -> Hub3ePlacement:
        assert application.mission is not None
        proposed = application.reached("PROPOSED_TO_EMPLOYER")
        assert proposed is not None
        steps = [
            PlacementStep("NEW", proposed.at - timedelta(days=2)),
            PlacementStep("QUALIFIED", proposed.at - timedelta(days=1)),
        ]
        for step in application.history:
            status = HUB3E_PLACEMENT_STATUS.get(step.status)
            if status is not None and status != steps[-1].status:
                steps.append(PlacementStep(status, step.at))
        return Hub3ePlacement(
            placement_id,
            file.id,
            application.mission,
            tuple(steps),
            (application.erp, application.id),
        )

    # -- everything ------------------------------------------------------------------------------

    def build(self) -> PersonalDataset:
        candidates: dict[str, list[CandidateSeed]] = {}
        applications: dict[str, list[ApplicationSeed]] = {}
        follow_ups: dict[str, list[FollowUpSeed]] = {}
        for erp in ERPS:
            candidates[erp], applications[erp], follow_ups[erp] = self.centre(erp)
        files, placements = self.hub3e(candidates, applications)
        in_hub3e = {f.erp_candidate for f in files}
        canaries: dict[str, int] = {}
        for erp in ERPS:
            with_follow_up = {e.candidate_id for e in follow_ups[erp]}
            canaries[erp] = next(
                c.id
                for c in candidates[erp]
                if c.id != 1 and c.id in with_follow_up and (erp, c.id) in in_hub3e
            )
        return PersonalDataset(
            persons=dict(self.persons),
            candidates={erp: tuple(rows) for erp, rows in candidates.items()},
            applications={erp: tuple(rows) for erp, rows in applications.items()},
            follow_ups={erp: tuple(rows) for erp, rows in follow_ups.items()},
            contracts=tuple(self.contracts),
            hub3e_candidates=tuple(files),
            hub3e_placements=tuple(placements),
            walkthrough_employer_siret=self.employer_siret,
            canary_candidates=canaries,
        )


__all__ = [
    "CANARY_ENV",
    "CANDIDATES_PER_ERP",
    "ERPS",
    "HUB3E_ONLY",
    "WALKTHROUGH_CANDIDATES_PER_ERP",
    "PersonalDataset",
    "add_months",
    "build_personal_dataset",
    "build_walkthrough_people",
    "canary_from_env",
    "personal_dataset",
    "walkthrough_employer",
]
