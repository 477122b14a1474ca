"""The demo's fixed personal ids (demo/people.py) are what the data really holds."""

from __future__ import annotations

from demo import people as fixtures
from demo.data import dataset
from demo.personal import build_personal_dataset


def test_the_centres() -> None:
    btp, hotellerie = (dataset().centre_with_erp(e) for e in ("cfa-btp", "cfa-hotellerie"))
    assert (btp.uai, btp.siret) == (fixtures.BTP_UAI, fixtures.BTP_SIRET)
    assert (hotellerie.uai, hotellerie.siret) == (
        fixtures.HOTELLERIE_UAI,
        fixtures.HOTELLERIE_SIRET,
    )


def test_the_walkthrough_apprentice_is_known_to_the_erp_hub3e_and_akto() -> None:
    people = build_personal_dataset(dataset())
    erp = fixtures.WALKTHROUGH_ERP
    person = people.person_of(erp, fixtures.WALKTHROUGH_CANDIDATE_ID)
    assert person.ine is not None
    applications = {
        a.id: a
        for a in people.applications[erp]
        if a.candidate_id == fixtures.WALKTHROUGH_CANDIDATE_ID
    }
    placed = applications[fixtures.WALKTHROUGH_APPLICATION_ID]
    assert placed.status == "PLACED"
    assert placed.program.publishers[erp] == fixtures.WALKTHROUGH_PROGRAM_ID
    assert placed.mission is not None
    assert placed.mission.publishers["hub3e"] == fixtures.WALKTHROUGH_MISSION_ID
    assert placed.employer_siret == fixtures.WALKTHROUGH_EMPLOYER_SIRET
    assert applications[fixtures.WALKTHROUGH_WITHDRAWN_APPLICATION_ID].status == "WITHDRAWN"

    file = next(f for f in people.hub3e_candidates if f.id == fixtures.WALKTHROUGH_HUB3E_ID)
    assert file.person_key == person.key and file.knows_ine

    contract = next(
        c for c in people.contracts if c.deca_number == fixtures.WALKTHROUGH_DECA_NUMBER
    )
    assert (contract.erp, contract.application_id) == (erp, placed.id)
    assert (contract.status, contract.opco, contract.decision) == ("en cours", "AKTO", "ACCORDE")

    events = [
        e for e in people.follow_ups[erp] if e.candidate_id == fixtures.WALKTHROUGH_CANDIDATE_ID
    ]
    assert {e.visibility for e in events} == {"CONTRACT_PARTIES", "TRAINING_CENTRE_ONLY"}


def test_the_walkthrough_employer_has_applications_and_contracts_at_both_centres() -> None:
    people = build_personal_dataset(dataset())
    siret = fixtures.WALKTHROUGH_EMPLOYER_SIRET
    assert people.walkthrough_employer_siret == siret
    employer = dataset().employer_by_siret(siret)
    assert employer is not None and employer.opco == fixtures.OPCO_CODE
    for erp in ("cfa-btp", "cfa-hotellerie"):
        assert any(a.employer_siret == siret for a in people.applications[erp])
        assert any(c.employer_siret == siret and c.erp == erp for c in people.contracts)


def test_the_other_centre_candidate_and_the_canaries_exist() -> None:
    people = build_personal_dataset(dataset())
    assert people.person_of(fixtures.OTHER_CENTRE_ERP, fixtures.OTHER_CENTRE_CANDIDATE_ID)
    assert people.canary_candidates == fixtures.CANARY_CANDIDATES
