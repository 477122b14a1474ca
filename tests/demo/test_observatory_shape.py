"""The demo's personal data has an observatory's shape (issue 9, item 5), read from the data.

Counted here the way the observatory's grid reads it: a candidate's département is that of
their commune; an application's ROME domain (letter + two digits) is that of its programme's
first ROME code, a Hub3E placement's that of its mission; open positions are the positions of
the offers published at ANCHOR. Nothing here hard-codes a count of the data: each assertion
compares numbers computed from it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from statistics import median

import pytest

from demo.akto_contracts import render_contract
from demo.data import ANCHOR, dataset
from demo.lifecycle import SIDE_EXITS, TERMINAL
from demo.person_seeds import ApplicationSeed, PersonalDataset
from demo.personal import ERPS, build_personal_dataset, build_walkthrough_people
from demo.personal_words import RUPTURE_CAUSES
from demo.population import WINDOW_START, rome_domain
from demo.territory import communes
from observatory import Count, CountTable, DisclosureRules, Hierarchy, Reason, Unit, publish

TODAY = ANCHOR.date()
HOSPITALITY = ("G16", "G18")
CONSTRUCTION = ("F16", "F17")


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())  # what the partners serve, without a canary


def every_application(people: PersonalDataset) -> list[ApplicationSeed]:
    return [a for erp in ERPS for a in people.applications[erp]]


def domain_of(application: ApplicationSeed) -> str:
    return rome_domain(application.program.rome_codes[0])


def departement_of(people: PersonalDataset, erp: str, candidate_id: int) -> str:
    return people.person_of(erp, candidate_id).commune_insee[:2]


def tension(people: PersonalDataset) -> dict[tuple[str, str], float]:
    """Open positions / candidates seeking, by ROME domain x département (seeking: an
    application submitted and not ended at ANCHOR, or a Hub3E placement still open)."""
    positions: Counter[tuple[str, str]] = Counter()
    for offer in dataset().offers:
        if offer.published_at <= ANCHOR < offer.expires_at:
            positions[(rome_domain(offer.rome_code), offer.address.departement)] += offer.positions
    seeking: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for erp in ERPS:
        for application in people.applications[erp]:
            if application.status not in TERMINAL and application.status != "DRAFT":
                person = people.person_of(erp, application.candidate_id)
                seeking[(domain_of(application), person.commune_insee[:2])].add(person.key)
    files = {file.id: file for file in people.hub3e_candidates}
    for placement in people.hub3e_placements:
        if placement.application is None and placement.status != "LOST":
            person = people.persons[files[placement.candidate_id].person_key]
            key = (rome_domain(placement.mission.rome_code), person.commune_insee[:2])
            seeking[key].add(person.key)
    return {key: positions[key] / len(keys) for key, keys in seeking.items() if keys}


def test_both_departements_several_domains_levels_and_18_months(people: PersonalDataset) -> None:
    applications = every_application(people)
    assert {p.commune_insee[:2] for p in people.persons.values()} == {"73", "74"}
    for erp in ERPS:
        homes = Counter(departement_of(people, erp, c.id) for c in people.candidates[erp])
        own = dataset().centre_with_erp(erp).address.departement
        assert homes[own] > 3 * sum(n for d, n in homes.items() if d != own) > 0
    assert len({domain_of(a) for a in applications}) >= 6
    assert {"F", "G"} == {domain_of(a)[0] for a in applications}
    assert len({a.program.level for a in applications}) >= 3
    months = Counter(
        a.created_at.strftime("%Y-%m") for a in applications if a.created_at.date() >= WINDOW_START
    )
    assert len(months) >= 18 and min(months.values()) >= 20
    # Seasonal: the spring before a September cohort brings more than the winter after it.
    assert months["2026-05"] > 2 * months["2025-12"]


def test_cells_under_the_threshold_and_communes_with_nobody(people: PersonalDataset) -> None:
    cells: Counter[tuple[str, str]] = Counter()
    for erp in ERPS:
        for candidate in people.candidates[erp]:
            commune = people.persons[candidate.person_key].commune_insee
            cells[(commune, rome_domain(candidate.target_romes[0]))] += 1
    assert sum(1 for n in cells.values() if 1 <= n <= 10) >= 100
    assert sum(1 for n in cells.values() if n >= 11) >= 10  # and cells that are published
    living = {commune for commune, _ in cells}
    for departement in ("73", "74"):
        nobody = [c for c in communes().values() if c.departement == departement]
        assert sum(1 for c in nobody if c.insee_code not in living) >= 20


def test_hospitality_is_in_tension_in_74_and_construction_the_reverse_in_73(
    people: PersonalDataset,
) -> None:
    ratios = tension(people)
    hospitality_74 = [ratios[(domain, "74")] for domain in HOSPITALITY]
    construction_73 = [ratios[(domain, "73")] for domain in CONSTRUCTION]
    assert min(hospitality_74) > 1 > max(construction_73)  # more positions than seekers, or not
    assert min(hospitality_74) > 4 * max(construction_73)


def test_the_lifecycle_at_realistic_rates(people: PersonalDataset) -> None:
    statuses = Counter(a.status for a in every_application(people))
    total = statuses.total()
    # Fewer than a domain's shape plans: both centres have more candidates than places, and
    # a session's places cap its contracts (tests/demo/test_places.py).
    assert 0.15 < statuses["PLACED"] / total < 0.4
    for exit_status in SIDE_EXITS:
        assert statuses[exit_status] / total > 0.05, exit_status
    under_way = sum(n for status, n in statuses.items() if status not in TERMINAL)
    assert 0.05 < under_way / total < 0.3
    assert statuses["REJECTED_BY_CFA"] < statuses["WITHDRAWN"]  # most leave of their own accord


def test_placement_is_faster_and_ruptures_commoner_in_hospitality(
    people: PersonalDataset,
) -> None:
    days: defaultdict[str, list[int]] = defaultdict(list)
    for application in every_application(people):
        placed, submitted = application.reached("PLACED"), application.reached("SUBMITTED")
        if placed is not None and submitted is not None:
            days[domain_of(application)[0]].append((placed.at - submitted.at).days)
    assert 2 * median(days["G"]) < median(days["F"])
    started: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    for contract in people.contracts:
        if contract.status in ("en cours", "rompu", "terminé"):
            family = rome_domain(contract.program.rome_codes[0])[0]
            started[family] += 1
            broken[family] += contract.rupture is not None
    assert min(started.values()) >= 100
    assert broken["G"] / started["G"] > 2 * broken["F"] / started["F"] > 0


def test_akto_serves_ruptures_dated_after_their_contract_s_start(people: PersonalDataset) -> None:
    bodies = [render_contract(c, dataset(), people) for c in people.contracts]
    ruptures = [b for b in bodies if b["rupture"] is not None]
    assert len(ruptures) >= 50
    for body in ruptures:
        start = date.fromisoformat(body["dateDebutExecution"])
        effect = date.fromisoformat(body["rupture"]["dateEffet"])
        assert start < effect <= min(date.fromisoformat(body["dateFinExecution"]), TODAY)
        assert body["statut"] == "rompu"
    causes = Counter(b["rupture"]["motif"] for b in ruptures)
    assert set(causes) <= set(RUPTURE_CAUSES) and len(causes) >= 3
    in_trial = [
        b
        for b in ruptures
        if (
            date.fromisoformat(b["rupture"]["dateEffet"])
            - date.fromisoformat(b["dateDebutExecution"])
        ).days
        <= 45
    ]
    assert len(in_trial) > len(ruptures) / 4  # the trial period is when most contracts break


def test_secondary_suppression_has_work_to_do(people: PersonalDataset) -> None:
    """Half a year's new candidates by domain and département, through the observatory's own
    disclosure control: some cells are under the threshold, and protecting them takes more."""
    counts: Counter[tuple[str, str]] = Counter()
    for erp in ERPS:
        firsts: dict[int, ApplicationSeed] = {}
        for application in people.applications[erp]:
            firsts.setdefault(application.candidate_id, application)
        for candidate_id, first in firsts.items():
            if date(2026, 4, 1) <= first.created_at.date() < date(2026, 10, 1):
                counts[(domain_of(first), departement_of(people, erp, candidate_id))] += 1
    domains = Hierarchy.flat("domain", sorted({domain for domain, _ in counts}))
    departements = Hierarchy.flat("departement", ("73", "74"))
    table = CountTable(
        Unit.PERSONS, (domains, departements), {k: Count(n) for k, n in counts.items()}
    )
    published = publish(table, DisclosureRules(perturb=False))
    reasons = Counter(cell.suppressed for cell in published.cells.values())
    assert reasons[Reason.PRIMARY] >= 2 and reasons[Reason.SECONDARY] >= 1
    assert reasons[None] > reasons[Reason.PRIMARY] + reasons[Reason.SECONDARY]


def test_the_walkthrough_s_people_come_first_unchanged() -> None:
    walkthrough = build_walkthrough_people(dataset())
    grown = build_personal_dataset(dataset())
    for key, person in walkthrough.persons.items():
        assert grown.persons[key] == person
    for erp in ERPS:
        for part in ("candidates", "applications", "follow_ups"):
            before, after = getattr(walkthrough, part)[erp], getattr(grown, part)[erp]
            assert after[: len(before)] == before and len(after) > 5 * len(before), part
    for part in ("contracts", "hub3e_candidates", "hub3e_placements"):
        before, after = getattr(walkthrough, part), getattr(grown, part)
        assert after[: len(before)] == before and len(after) > 2 * len(before), part
    assert grown.canary_candidates == walkthrough.canary_candidates


def test_two_generations_are_equal(people: PersonalDataset) -> None:
    assert build_personal_dataset(dataset()) == people


DIGEST = """
import hashlib
from demo.data import dataset
from demo.personal import build_personal_dataset
print(hashlib.sha256(repr(build_personal_dataset(dataset())).encode()).hexdigest())
"""


def test_another_process_with_another_hash_seed_draws_the_same(people: PersonalDataset) -> None:
    """No set order, no clock: the demo's two processes (and every run) serve one dataset."""
    environment = {**os.environ, "PYTHONHASHSEED": "4242"}
    other = subprocess.run(
        [sys.executable, "-c", DIGEST], env=environment, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == hashlib.sha256(repr(people).encode()).hexdigest()
