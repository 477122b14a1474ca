"""AKTO's DECA-shaped contracts API: pages, filters, the same apprentices as the ERPs, the
parties' rules and the signed principal."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from demo import akto, akto_contracts
from demo import people as fixtures
from demo.personal import personal_dataset
from tests.demo.assertions import Signer, bad_assertions
from tests.demo.conftest import ClientFor

PATH = "/api/v1/contrats"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def as_(signer: Signer, role: str, org: str = "", sub: str = "user-1") -> dict[str, str]:
    return signer.headers(akto_contracts.AUDIENCE, role, org, sub)


async def every_contract(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **filters: str
) -> list[Any]:
    found: list[Any] = []
    page = 1
    while True:
        answer = await client.get(
            PATH, params={"page": page, "taille": 25, **filters}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        meta = body["metadonnees"]
        assert meta["page"] == page
        assert meta["totalPages"] == math.ceil(meta["totalElements"] / 25)
        found.extend(body["contrats"])
        if page >= meta["totalPages"]:
            assert len(found) == meta["totalElements"]
            return found
        assert len(body["contrats"]) == 25
        page += 1


async def test_every_contract_is_served_in_the_deca_shape(client_for: ClientFor) -> None:
    client = client_for(akto.create_app())
    contracts = await every_contract(client)
    people = personal_dataset()
    assert len(contracts) == len(people.contracts)
    numbers = [c["numeroDeca"] for c in contracts]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    first = contracts[0]
    assert set(first) == {
        "numeroDeca", "nature", "dateConclusion", "dateDebutExecution", "dateFinExecution",
        "statut", "alternant", "employeur", "formation", "organismeFormation", "rupture",
        "financement",
    }  # fmt: skip
    assert set(first["alternant"]) == {"nom", "prenom", "dateNaissance", "ine", "courriel"}
    assert set(first["employeur"]) == {"siret", "denomination", "idcc"}
    assert set(first["formation"]) == {"codeDiplome", "rncp", "intitule"}
    broken = [c for c in contracts if c["statut"] == "rompu"]
    assert broken and all(set(c["rupture"]) == {"dateEffet", "motif"} for c in broken)
    assert {c["financement"]["decision"] for c in contracts} == {"EN_ATTENTE", "ACCORDE", "REFUSE"}
    past = await client.get(PATH, params={"page": 99, "taille": 25})
    assert past.json()["contrats"] == []
    assert past.json()["metadonnees"]["totalElements"] == len(contracts)


async def test_each_apprentice_is_the_erp_candidate(client_for: ClientFor) -> None:
    client = client_for(akto.create_app())
    people = personal_dataset()
    erp_people = {
        p.ine: p
        for erp in ("cfa-btp", "cfa-hotellerie")
        for p in (people.persons[c.person_key] for c in people.candidates[erp])
        if p.ine
    }
    centres = {
        (fixtures.BTP_UAI, fixtures.BTP_SIRET),
        (fixtures.HOTELLERIE_UAI, fixtures.HOTELLERIE_SIRET),
    }
    for contract in await every_contract(client):
        apprentice = contract["alternant"]
        person = erp_people[apprentice["ine"]]
        assert (apprentice["nom"], apprentice["prenom"], apprentice["courriel"]) == (
            person.last_name,
            person.first_name,
            person.email,
        )
        assert apprentice["dateNaissance"] == person.birth_date.isoformat()
        centre = contract["organismeFormation"]
        assert (centre["uai"], centre["siret"]) in centres


async def test_filters_and_one_by_number(client_for: ClientFor) -> None:
    client = client_for(akto.create_app())
    mine = await every_contract(client, siret=fixtures.WALKTHROUGH_EMPLOYER_SIRET)
    assert len({c["organismeFormation"]["uai"] for c in mine}) == 2
    assert {c["employeur"]["siret"] for c in mine} == {fixtures.WALKTHROUGH_EMPLOYER_SIRET}
    btp = await every_contract(client, uai=fixtures.BTP_UAI)
    assert btp and {c["organismeFormation"]["uai"] for c in btp} == {fixtures.BTP_UAI}
    ine = personal_dataset().person_of(fixtures.WALKTHROUGH_ERP, 1).ine or ""
    assert [c["numeroDeca"] for c in await every_contract(client, ine=ine)] == [
        fixtures.WALKTHROUGH_DECA_NUMBER
    ]
    one = await client.get(f"{PATH}/{fixtures.WALKTHROUGH_DECA_NUMBER}")
    assert one.status_code == 200 and one.json()["statut"] == "en cours"
    assert one.json()["financement"]["opco"] == "AKTO"
    assert (await client.get(f"{PATH}/000000000000000")).status_code == 404
    for bad in ({"siret": "123"}, {"uai": "x"}, {"taille": "500"}, {"page": "0"}, {"nom": "a"}):
        assert (await client.get(PATH, params=bad)).status_code == 400, bad


async def test_with_a_jwks_no_assertion_or_a_bad_one_is_401(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(akto.create_app(assertion_jwks=signer.jwks))
    paths = (PATH, f"{PATH}/{fixtures.WALKTHROUGH_DECA_NUMBER}")
    for path in paths:
        assert (await client.get(path)).status_code == 401
        for case, token in bad_assertions(signer, akto_contracts.AUDIENCE, "OPCO", "AKTO").items():
            answer = await client.get(path, headers={"X-Hub-Principal": token})
            assert answer.status_code == 401, (path, case)
    hub3e_audience = signer.headers("hub3e", "OPCO", "AKTO")  # another partner's assertion
    assert (await client.get(PATH, headers=hub3e_audience)).status_code == 401
    exports = await client.get(akto.COMPANIES_PATH)  # the public exports stay public
    assert exports.status_code == 200


async def test_each_role_sees_its_own_contracts(client_for: ClientFor, signer: Signer) -> None:
    client = client_for(akto.create_app(assertion_jwks=signer.jwks))
    everything = personal_dataset().contracts
    opco = await every_contract(client, as_(signer, "OPCO", "AKTO"))
    assert opco and len(opco) < len(everything)
    assert {c["financement"]["opco"] for c in opco} == {"AKTO"}
    assert len(opco) == sum(1 for c in everything if c.opco == "AKTO")
    centre = await every_contract(client, as_(signer, "TRAINING_CENTRE", fixtures.BTP_SIRET))
    assert centre and {c["organismeFormation"]["siret"] for c in centre} == {fixtures.BTP_SIRET}
    employer = await every_contract(
        client, as_(signer, "EMPLOYER", fixtures.WALKTHROUGH_EMPLOYER_SIRET)
    )
    assert employer and {c["employeur"]["siret"] for c in employer} == {
        fixtures.WALKTHROUGH_EMPLOYER_SIRET
    }
    ine = personal_dataset().person_of(fixtures.WALKTHROUGH_ERP, 1).ine or ""
    candidate = await every_contract(client, as_(signer, "CANDIDATE", "", ine))
    assert [c["numeroDeca"] for c in candidate] == [fixtures.WALKTHROUGH_DECA_NUMBER]
    for role in ("OBSERVATORY", "ADMIN"):
        assert await every_contract(client, as_(signer, role)) == []
    assert await every_contract(client, as_(signer, "OPCO", "CONSTRUCTYS"))  # its own


async def test_a_contract_of_another_party_looks_missing(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(akto.create_app(assertion_jwks=signer.jwks))
    other = as_(signer, "TRAINING_CENTRE", fixtures.HOTELLERIE_UAI)
    hidden = await client.get(f"{PATH}/{fixtures.WALKTHROUGH_DECA_NUMBER}", headers=other)
    missing = await client.get(f"{PATH}/000000000000000", headers=other)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    mine = as_(signer, "TRAINING_CENTRE", fixtures.BTP_UAI)
    seen = await client.get(f"{PATH}/{fixtures.WALKTHROUGH_DECA_NUMBER}", headers=mine)
    assert seen.status_code == 200
