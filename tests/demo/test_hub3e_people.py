"""Hub3E's candidate files and placements over HTTP: pages, rules of who sees what, the
signed principal, idempotent creation by client reference."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from demo import hub3e
from demo import people as fixtures
from demo.data import dataset
from demo.personal import personal_dataset
from tests.demo.assertions import Signer, bad_assertions
from tests.demo.conftest import ClientFor

KEY = {hub3e.API_KEY_HEADER: hub3e.API_KEY}
PERSONAL_GETS = (
    "/api/v2/candidats",
    f"/api/v2/candidats/{fixtures.WALKTHROUGH_HUB3E_ID}",
    "/api/v2/placements",
)


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def as_(signer: Signer, role: str, org: str = "", sub: str = "user-1") -> dict[str, str]:
    return {**KEY, **signer.headers("hub3e", role, org, sub)}


async def every_page(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    offset = 0
    while True:
        answer = await client.get(path, params={"offset": offset, "limit": 40}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["offset"] == offset and body["limit"] == 40
        items.extend(body["items"])
        offset += 40
        if offset >= body["total"]:
            assert len(items) == body["total"]
            return items


async def test_unfiltered_without_a_jwks_and_paged_like_the_missions(
    client_for: ClientFor,
) -> None:
    client = client_for(hub3e.create_app(), headers=KEY)
    people = personal_dataset()
    files = await every_page(client, "/api/v2/candidats", {})
    assert len(files) == len(people.hub3e_candidates)
    assert [f["id"] for f in files] == sorted(f["id"] for f in files)
    placements = await every_page(client, "/api/v2/placements", {})
    assert len(placements) == len(people.hub3e_placements)
    statuses = {p["statut"] for p in placements}
    assert statuses == {"NEW", "QUALIFIED", "SENT_TO_COMPANY", "MEETING", "HIRED", "LOST"}
    past_the_end = await client.get("/api/v2/candidats", params={"offset": 10_000})
    assert past_the_end.json()["items"] == [] and past_the_end.json()["total"] == len(files)
    assert (await client.get("/api/v2/candidats", params={"limit": 0})).status_code == 400
    assert (await client.get("/api/v2/candidats", params={"nom": "x"})).status_code == 400


async def test_the_walkthrough_file_shows_its_ine_and_placement(client_for: ClientFor) -> None:
    client = client_for(hub3e.create_app(), headers=KEY)
    answer = await client.get(f"/api/v2/candidats/{fixtures.WALKTHROUGH_HUB3E_ID}")
    assert answer.status_code == 200
    body = answer.json()
    person = personal_dataset().person_of(fixtures.WALKTHROUGH_ERP, 1)
    assert body["ine"] == person.ine
    assert body["date_naissance"] == person.birth_date.strftime("%d/%m/%Y")
    assert body["cfa"] == {"uai": fixtures.BTP_UAI, "siret": fixtures.BTP_SIRET}
    assert body["statut"] == "HIRED"
    assert [p["mission_id"] for p in body["placements"]] == [fixtures.WALKTHROUGH_MISSION_ID]


async def test_the_api_key_is_still_required(client_for: ClientFor) -> None:
    client = client_for(hub3e.create_app())
    for path in PERSONAL_GETS:
        assert (await client.get(path)).status_code == 401


async def test_with_a_jwks_no_assertion_or_a_bad_one_is_401(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(hub3e.create_app(assertion_jwks=signer.jwks))
    bad = bad_assertions(signer, "hub3e", "TRAINING_CENTRE", fixtures.BTP_UAI)
    for path in PERSONAL_GETS:
        assert (await client.get(path, headers=KEY)).status_code == 401
        for case, token in bad.items():
            answer = await client.get(path, headers={**KEY, "X-Hub-Principal": token})
            assert answer.status_code == 401, (path, case)
            assert token not in answer.text
    post = await client.post(
        "/api/v2/placements",
        json={
            "candidat_id": fixtures.WALKTHROUGH_HUB3E_ID,
            "mission_id": "M-00001",
            "reference_client": "r-1",
        },
        headers={**KEY, "X-Hub-Principal": bad["alg none"]},
    )
    assert post.status_code == 401
    missions = await client.get("/api/v2/missions", headers=KEY)  # the public half is open
    assert missions.status_code == 200


async def test_a_centre_sees_its_own_files_only(client_for: ClientFor, signer: Signer) -> None:
    client = client_for(hub3e.create_app(assertion_jwks=signer.jwks))
    btp = as_(signer, "TRAINING_CENTRE", fixtures.BTP_UAI)
    files = await every_page(client, "/api/v2/candidats", btp)
    assert files and {f["cfa"]["uai"] for f in files} == {fixtures.BTP_UAI}
    by_siret = await every_page(
        client, "/api/v2/candidats", as_(signer, "TRAINING_CENTRE", fixtures.BTP_SIRET)
    )
    assert [f["id"] for f in by_siret] == [f["id"] for f in files]
    other = as_(signer, "TRAINING_CENTRE", fixtures.HOTELLERIE_UAI)
    hidden = await client.get(f"/api/v2/candidats/{fixtures.WALKTHROUGH_HUB3E_ID}", headers=other)
    missing = await client.get("/api/v2/candidats/CAN-000000", headers=other)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    placements = await every_page(client, "/api/v2/placements", other)
    assert placements and {p["cfa"]["uai"] for p in placements} == {fixtures.HOTELLERIE_UAI}


async def test_an_employer_sees_placements_on_its_missions_without_birth_dates(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(hub3e.create_app(assertion_jwks=signer.jwks))
    employer = as_(signer, "EMPLOYER", fixtures.WALKTHROUGH_EMPLOYER_SIRET)
    placements = await every_page(client, "/api/v2/placements", employer)
    assert placements
    assert {p["entreprise"]["siret"] for p in placements} == {fixtures.WALKTHROUGH_EMPLOYER_SIRET}
    files = await every_page(client, "/api/v2/candidats", employer)
    assert {f["id"] for f in files} == {p["candidat_id"] for p in placements}
    assert all("date_naissance" not in f for f in files)


async def test_a_candidate_sees_its_own_file_by_id_or_ine(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(hub3e.create_app(assertion_jwks=signer.jwks))
    ine = personal_dataset().person_of(fixtures.WALKTHROUGH_ERP, 1).ine
    assert ine is not None
    for sub in (fixtures.WALKTHROUGH_HUB3E_ID, ine):
        files = await every_page(client, "/api/v2/candidats", as_(signer, "CANDIDATE", "", sub))
        assert [f["id"] for f in files] == [fixtures.WALKTHROUGH_HUB3E_ID]
    for role, org in (("OPCO", "AKTO"), ("OBSERVATORY", ""), ("ADMIN", "")):
        assert await every_page(client, "/api/v2/candidats", as_(signer, role, org)) == []


async def test_search_matches_on_declared_keys_in_the_body(client_for: ClientFor) -> None:
    client = client_for(hub3e.create_app(), headers=KEY)
    people = personal_dataset()
    without_ine = next(
        f for f in people.hub3e_candidates if not f.knows_ine and f.erp_candidate is not None
    )
    erp, candidate_id = without_ine.erp_candidate or ("", 0)
    same = people.person_of(erp, candidate_id)  # as the ERP knows them
    found = await client.post(
        "/api/v2/candidats/recherche",
        json={"email": same.email.upper(), "date_naissance": same.birth_date.strftime("%d/%m/%Y")},
    )
    assert [f["id"] for f in found.json()["items"]] == [without_ine.id]
    ine = people.person_of(fixtures.WALKTHROUGH_ERP, 1).ine
    by_ine = await client.post("/api/v2/candidats/recherche", json={"ine": ine})
    assert [f["id"] for f in by_ine.json()["items"]] == [fixtures.WALKTHROUGH_HUB3E_ID]
    assert (await client.post("/api/v2/candidats/recherche", json=["x"])).status_code == 400
    assert (await client.post("/api/v2/candidats/recherche", content=b"{")).status_code == 400


def placement_request(reference: str) -> dict[str, str]:
    mission = next(o for o in dataset().offers_published_on("hub3e")).publishers["hub3e"]
    return {
        "candidat_id": fixtures.WALKTHROUGH_HUB3E_ID,
        "mission_id": mission,
        "reference_client": reference,
    }


async def test_creating_a_placement_is_idempotent_on_the_client_reference(
    client_for: ClientFor, signer: Signer
) -> None:
    app = hub3e.create_app(assertion_jwks=signer.jwks)
    client = client_for(app)
    centre = as_(signer, "TRAINING_CENTRE", fixtures.BTP_UAI)
    unknown = await client.get("/api/v2/placements/reference/hub-ref-42", headers=centre)
    assert unknown.status_code == 404
    first = await client.post(
        "/api/v2/placements", json=placement_request("hub-ref-42"), headers=centre
    )
    assert first.status_code == 201
    created = first.json()
    assert created["statut"] == "NEW" and created["reference_client"] == "hub-ref-42"
    again = await client.post(
        "/api/v2/placements", json=placement_request("hub-ref-42"), headers=centre
    )
    assert again.status_code == 200 and again.json() == created
    found = await client.get("/api/v2/placements/reference/hub-ref-42", headers=centre)
    assert found.status_code == 200 and found.json() == created
    one = await client.get(f"/api/v2/placements/{created['id']}", headers=centre)
    assert one.json() == created
    mine = await client.get(
        "/api/v2/placements",
        params={"candidat": fixtures.WALKTHROUGH_HUB3E_ID},
        headers=centre,
    )
    assert created["id"] in [p["id"] for p in mine.json()["items"]]
    assert app.state.calls["creation_placement"] == 2


async def test_concurrent_retries_create_one_placement(client_for: ClientFor) -> None:
    client = client_for(hub3e.create_app(), headers=KEY)
    answers = await asyncio.gather(
        *(client.post("/api/v2/placements", json=placement_request("r-50")) for _ in range(20))
    )
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


async def test_a_placement_for_someone_else_s_candidate_is_refused(
    client_for: ClientFor, signer: Signer
) -> None:
    client = client_for(hub3e.create_app(assertion_jwks=signer.jwks))
    other = as_(signer, "TRAINING_CENTRE", fixtures.HOTELLERIE_UAI)
    answer = await client.post("/api/v2/placements", json=placement_request("r-7"), headers=other)
    assert answer.status_code == 404
    employer = as_(signer, "EMPLOYER", fixtures.WALKTHROUGH_EMPLOYER_SIRET)
    answer = await client.post(
        "/api/v2/placements", json=placement_request("r-8"), headers=employer
    )
    assert answer.status_code == 404
    btp = as_(signer, "TRAINING_CENTRE", fixtures.BTP_UAI)
    assert (
        await client.post("/api/v2/placements", json=placement_request("r-9"), headers=btp)
    ).status_code == 201
    stolen = await client.post("/api/v2/placements", json=placement_request("r-9"), headers=other)
    assert stolen.status_code == 409  # another principal's reference: never its placement
    assert "candidat_id" not in stolen.text


@pytest.mark.parametrize(
    "body",
    [
        {"candidat_id": "CAN-1", "mission_id": "M-00001", "reference_client": "r"},
        {"candidat_id": fixtures.WALKTHROUGH_HUB3E_ID, "mission_id": "M-00001"},
        {"candidat_id": fixtures.WALKTHROUGH_HUB3E_ID, "mission_id": 5, "reference_client": "r"},
        {
            "candidat_id": fixtures.WALKTHROUGH_HUB3E_ID,
            "mission_id": "M-00001",
            "reference_client": "has spaces",
        },
    ],
)
async def test_a_malformed_placement_is_a_400(client_for: ClientFor, body: dict[str, Any]) -> None:
    client = client_for(hub3e.create_app(), headers=KEY)
    answer = await client.post("/api/v2/placements", json=body)
    assert answer.status_code == 400 and "erreur" in answer.json()
