"""A session holds no more contracts than its places, and every application is for a session
its programme lists (issue 9, item 5: FILL_RATE read 2.6 and 5.0 at the ERP centres).

Read from the data the partners serve (``build_personal_dataset(dataset())``), the walkthrough's
people and the population together; nothing here hard-codes a count of the data.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import pytest

from demo.data import ANCHOR, CATALOGUE_YEAR_START, dataset
from demo.lifecycle import CONTRACT_STAGES
from demo.person_seeds import PersonalDataset
from demo.personal import ERPS, build_personal_dataset
from demo.personal_words import SESSION_FULL
from demo.places import Places

WINDOW = (date(2025, 12, 1), date(2026, 12, 1))  # FILL_RATE's 2025-12..2026-11


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())


def capacities() -> dict[tuple[str, date], int]:
    return {(p.key, s.start): s.capacity for p in dataset().programs for s in p.sessions}


def contracts_by_session(people: PersonalDataset, erp: str) -> Counter[tuple[str, date]]:
    return Counter(
        (a.program.key, a.session) for a in people.applications[erp] if a.status in CONTRACT_STAGES
    )


def test_every_application_is_for_a_session_of_its_programme(people: PersonalDataset) -> None:
    listed = capacities()
    for erp in ERPS:
        for application in people.applications[erp]:
            assert (application.program.key, application.session) in listed, application.id
    # The programmes list their past cohorts, which the population's applications were for.
    assert all(p.sessions[0].start < CATALOGUE_YEAR_START for p in dataset().programs)
    past = {a.session for erp in ERPS for a in people.applications[erp]}
    assert min(past) < CATALOGUE_YEAR_START <= max(past)


def test_no_session_holds_more_contracts_than_its_places(people: PersonalDataset) -> None:
    listed = capacities()
    full = 0
    for erp in ERPS:
        for key, held in contracts_by_session(people, erp).items():
            assert held <= listed[key], (erp, key)
            full += held == listed[key]
    assert full > 0  # the places bind: without them some sessions would overflow
    turned_away = Counter(
        a.program.responsible.uai
        for erp in ERPS
        for a in people.applications[erp]
        if a.status == "REJECTED_BY_CFA" and a.reason == SESSION_FULL
    )
    assert len(turned_away) == len(ERPS)  # both centres refuse for want of a place


def test_the_fill_rate_of_each_erp_centre_is_in_zero_one(people: PersonalDataset) -> None:
    """Placed apprentices of the sessions starting in the window over those sessions' places,
    from the seeds (the engine's reading: tests/sources/test_counting_by_session.py)."""
    start, end = WINDOW
    for erp in ERPS:
        uai = dataset().centre_with_erp(erp).uai
        places = sum(
            s.capacity
            for p in dataset().programs
            if p.responsible.uai == uai
            for s in p.sessions
            if start <= s.start < end
        )
        placed = sum(
            1 for a in people.applications[erp] if a.status == "PLACED" and start <= a.session < end
        )
        assert 0 < placed <= places, erp


def test_past_sessions_are_begun_and_closed_to_recruitment() -> None:
    for program in dataset().programs:
        for session in program.sessions:
            if session.start < CATALOGUE_YEAR_START:
                assert session.start < ANCHOR.date() and not session.recruitment_open
                assert session.capacity // 2 <= session.enrolled <= session.capacity
        starts = [s.start for s in program.sessions]
        assert starts == sorted(set(starts))


def test_places_refuse_an_overfull_or_unlisted_session(people: PersonalDataset) -> None:
    erp = ERPS[0]
    placed = next(a for a in people.applications[erp] if a.status == "PLACED")
    program = placed.program
    session = next(s for s in program.sessions if s.start == placed.session)
    places = Places.left([program], [[placed]])
    assert places.left_on[(program.key, session.start)] == session.capacity - 1
    for _ in range(session.capacity - 1):
        assert places.take(program, session.start)
    assert not places.take(program, session.start) and not places.has(program, session.start)
    too_many = [dataclasses.replace(placed, id=n) for n in range(session.capacity + 1)]
    with pytest.raises(ValueError, match="more contracts than places"):
        Places.left([program], [too_many])
    elsewhere = dataclasses.replace(placed, session=date(2020, 1, 6))
    with pytest.raises(ValueError, match="sessions no programme lists"):
        Places.left([program], [[elsewhere]])
