"""The personal half is consistent across its owners: lifecycle, people, contracts, Hub3E."""

from __future__ import annotations

from collections import Counter

import pytest

from demo import people as fixtures
from demo.data import ANCHOR, dataset
from demo.lifecycle import (
    CONTRACT_STAGES,
    ERP_STATUS,
    FOLLOW_UP_NATURE,
    MAIN_PATH,
    STATUSES,
    TRANSITIONS,
    is_valid_path,
    path_to,
)
from demo.personal import (
    CANDIDATES_PER_ERP,
    ERPS,
    HUB3E_ONLY,
    WALKTHROUGH_CANDIDATES_PER_ERP,
    PersonalDataset,
    build_personal_dataset,
)

TODAY = ANCHOR.date()


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())


def test_the_lifecycle_graph() -> None:
    assert is_valid_path(MAIN_PATH)
    assert is_valid_path(path_to("REJECTED_BY_EMPLOYER", "INTERVIEW"))
    assert not is_valid_path(("DRAFT", "ADMITTED"))  # skips SUBMITTED and UNDER_REVIEW
    assert not is_valid_path(("SUBMITTED", "UNDER_REVIEW"))  # does not start at DRAFT
    assert not is_valid_path(("DRAFT", "SUBMITTED", "REJECTED_BY_EMPLOYER"))
    assert not is_valid_path(("DRAFT", "WITHDRAWN", "SUBMITTED"))  # exits are terminal
    assert TRANSITIONS["PLACED"] == frozenset()
    assert set(ERP_STATUS) == set(STATUSES)
    with pytest.raises(ValueError):
        path_to("WITHDRAWN", "CONTRACT_SIGNED")


def test_every_history_is_a_valid_lifecycle_path_in_time_order(people: PersonalDataset) -> None:
    for erp in ERPS:
        for application in people.applications[erp]:
            statuses = [step.status for step in application.history]
            assert is_valid_path(statuses), (erp, application.id, statuses)
            moments = [step.at for step in application.history]
            assert moments == sorted(moments) and len(set(moments)) == len(moments)
            assert application.updated_at <= ANCHOR


def test_the_lifecycle_is_covered(people: PersonalDataset) -> None:
    reached = Counter(a.status for erp in ERPS for a in people.applications[erp])
    assert set(reached) == set(STATUSES)


def test_centres_have_their_size_and_applications_their_own_programmes(
    people: PersonalDataset,
) -> None:
    for erp in ERPS:
        assert len(people.candidates[erp]) == CANDIDATES_PER_ERP[erp]
        assert [c.id for c in people.candidates[erp]] == list(range(1, CANDIDATES_PER_ERP[erp] + 1))
        assert 60 <= WALKTHROUGH_CANDIDATES_PER_ERP[erp] <= 150  # readable one by one
        programmes = {p.publishers[erp] for p in dataset().programs_published_on(erp)}
        per_candidate = Counter(a.candidate_id for a in people.applications[erp])
        assert set(per_candidate) == {c.id for c in people.candidates[erp]}
        assert set(per_candidate.values()) <= {1, 2, 3}
        for application in people.applications[erp]:
            assert application.program.publishers[erp] in programmes
            if application.reached("PROPOSED_TO_EMPLOYER"):
                assert dataset().employer_by_siret(application.employer_siret or "") is not None
            else:
                assert application.employer_siret is None and application.mission is None


def test_one_contract_per_application_at_contract_stage(people: PersonalDataset) -> None:
    contracted = {
        (erp, a.id) for erp in ERPS for a in people.applications[erp] if a.status in CONTRACT_STAGES
    }
    assert {(c.erp, c.application_id) for c in people.contracts} == contracted
    numbers = [c.deca_number for c in people.contracts]
    assert len(set(numbers)) == len(numbers)
    per_candidate = Counter(
        (erp, a.candidate_id)
        for erp in ERPS
        for a in people.applications[erp]
        if a.status in CONTRACT_STAGES
    )
    assert max(per_candidate.values()) == 1  # one contract at a time


def test_every_contract_apprentice_is_the_erp_candidate(people: PersonalDataset) -> None:
    applications = {(erp, a.id): a for erp in ERPS for a in people.applications[erp]}
    centres = {erp: dataset().centre_with_erp(erp) for erp in ERPS}
    for contract in people.contracts:
        application = applications[(contract.erp, contract.application_id)]
        person = people.person_of(contract.erp, application.candidate_id)
        assert person.key == contract.person_key
        assert person.ine is not None and len(person.ine) == 11
        assert contract.employer_siret == application.employer_siret
        assert contract.program.responsible == centres[contract.erp]
        employer = dataset().employer_by_siret(contract.employer_siret)
        assert employer is not None and contract.opco == employer.opco
        assert contract.start <= contract.end


def test_contracts_are_running_broken_completed_and_pending(people: PersonalDataset) -> None:
    statuses = Counter(c.status for c in people.contracts)
    assert {"en cours", "rompu", "terminé", "transmis", "déposé"} <= set(statuses)
    for contract in people.contracts:
        assert (contract.status == "rompu") == (contract.rupture is not None)
        if contract.rupture is not None:
            assert contract.start < contract.rupture.day <= min(contract.end, TODAY)
        if contract.status == "terminé":
            assert contract.end < TODAY
        if contract.decision == "EN_ATTENTE":
            assert contract.decided_on is None
        else:
            assert contract.decided_on is not None and contract.decided_on <= TODAY
    assert {c.opco for c in people.contracts} >= {"AKTO", "CONSTRUCTYS"}


def test_follow_up_only_for_started_contracts(people: PersonalDataset) -> None:
    contracts = {(c.erp, c.person_key): c for c in people.contracts}
    for erp in ERPS:
        events = people.follow_ups[erp]
        assert events and [e.id for e in events] == list(range(1, len(events) + 1))
        for event in events:
            assert event.kind in FOLLOW_UP_NATURE
            contract = contracts[(erp, people.person_of(erp, event.candidate_id).key)]
            assert contract.status in ("en cours", "rompu", "terminé")
            assert contract.start <= event.day <= TODAY
    kinds = {e.kind for erp in ERPS for e in people.follow_ups[erp]}
    assert {"TRIAL_PERIOD_REVIEW", "RUPTURE", "EXAM", "END_OF_TRAINING"} <= kinds


def test_hub3e_knows_the_same_people_by_ine_or_by_email_and_birth_date(
    people: PersonalDataset,
) -> None:
    by_ine, by_email_and_birth = 0, 0
    erp_people = {
        (erp, c.id): people.persons[c.person_key] for erp in ERPS for c in people.candidates[erp]
    }
    for file in people.hub3e_candidates:
        if file.erp_candidate is None:
            continue
        person = people.persons[file.person_key]
        same = erp_people[file.erp_candidate]
        if file.knows_ine:
            assert person.ine is not None and same.ine == person.ine
            by_ine += 1
        else:
            assert (same.email, same.birth_date) == (person.email, person.birth_date)
            by_email_and_birth += 1
    assert by_ine >= 10 and by_email_and_birth >= 10
    only_hub3e = [f for f in people.hub3e_candidates if f.erp_candidate is None]
    assert len(only_hub3e) == HUB3E_ONLY
    erp_keys = {p.key for p in erp_people.values()}
    assert not any(f.person_key in erp_keys for f in only_hub3e)


def test_hub3e_placements_mirror_the_applications_sent_to_its_missions(
    people: PersonalDataset,
) -> None:
    applications = {(erp, a.id): a for erp in ERPS for a in people.applications[erp]}
    files = {f.id: f for f in people.hub3e_candidates}
    mirrored = {p.application for p in people.hub3e_placements if p.application}
    sent = {key for key, a in applications.items() if a.mission is not None}
    assert mirrored == sent
    for placement in people.hub3e_placements:
        assert placement.history[0].status == "NEW"
        if placement.application is None:
            continue
        application = applications[placement.application]
        assert files[placement.candidate_id].erp_candidate == (
            application.erp,
            application.candidate_id,
        )
        assert placement.mission == application.mission
        if application.status in CONTRACT_STAGES:
            assert placement.status == "HIRED"


def test_identifiers_are_unique_and_synthetic(people: PersonalDataset) -> None:
    persons = list(people.persons.values())
    ines = [p.ine for p in persons if p.ine]
    assert len(set(ines)) == len(ines) and all(len(i) == 11 for i in ines)
    emails = [p.email for p in persons]
    assert len(set(emails)) == len(emails)
    assert all(e.rsplit("@", 1)[1] in ("example.org", "example.net", "example.com") for e in emails)
    assert all(p.phone.startswith("06 39 98 ") for p in persons)  # ARCEP's fiction range
    ages = [(TODAY - p.birth_date).days / 365.25 for p in persons]
    assert min(ages) > 15 and max(ages) < 30


def test_the_build_is_deterministic(people: PersonalDataset) -> None:
    again = build_personal_dataset(dataset())
    assert again.persons == people.persons
    assert again.applications == people.applications
    assert again.contracts == people.contracts
    assert again.hub3e_candidates == people.hub3e_candidates


def test_the_canary_is_planted_in_one_person_per_centre(people: PersonalDataset) -> None:
    canary = "CANARY-d41d8c"
    planted = build_personal_dataset(dataset(), canary=canary)
    assert planted.canary_candidates == people.canary_candidates == fixtures.CANARY_CANDIDATES
    carriers = [p for p in planted.persons.values() if canary in p.last_name]
    assert len(carriers) == 2 and all(canary in p.email for p in carriers)
    for erp, candidate_id in planted.canary_candidates.items():
        summaries = [e.summary for e in planted.follow_ups[erp] if canary in e.summary]
        assert len(summaries) == 1
        key = planted.person_of(erp, candidate_id).key
        assert any(c.person_key == key for c in planted.contracts)
        assert any(f.person_key == key for f in planted.hub3e_candidates)
    assert not any(canary in p.last_name for p in people.persons.values())
