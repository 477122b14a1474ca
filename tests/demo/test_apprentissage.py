"""The simulated API Apprentissage: Bearer key, unpaged job search, paged programmes, centres."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from demo import apprentissage
from demo.data import dataset
from demo.territory import distance_km
from tests.demo.conftest import ClientFor


@pytest.fixture
def app() -> Starlette:
    return apprentissage.create_app()


@pytest.fixture
def client(app: Starlette, client_for: ClientFor) -> httpx.AsyncClient:
    return client_for(app, headers={"Authorization": f"Bearer {apprentissage.API_KEY}"})


@pytest.mark.parametrize("path", ["/job/v1/search", "/formation/v1/search", "/organisme/v1/search"])
async def test_a_wrong_or_missing_key_is_refused(
    app: Starlette, client_for: ClientFor, path: str
) -> None:
    assert (await client_for(app).get(path)).status_code == 401
    wrong = client_for(app, headers={"Authorization": "Bearer demo-key-other"})
    assert (await wrong.get(path)).status_code == 401


async def test_job_search_returns_every_match_at_once(client: httpx.AsyncClient) -> None:
    seeds = dataset().offers_published_on("apprentissage")
    answer = await client.get("/job/v1/search")
    assert answer.status_code == 200
    jobs = answer.json()["jobs"]
    assert len(jobs) == len(seeds) > 900
    assert answer.json()["warnings"] == []


async def test_job_search_near_a_point(client: httpx.AsyncClient) -> None:
    params = {"latitude": "45.5646", "longitude": "5.9178", "radius": "15", "romes": "G1602"}
    jobs = (await client.get("/job/v1/search", params=params)).json()["jobs"]
    assert len(jobs) >= 10
    for job in jobs:
        lon, lat = job["workplace"]["location"]["geopoint"]["coordinates"]
        assert distance_km(45.5646, 5.9178, lat, lon) <= 15
        assert job["offer"]["rome_codes"] == ["G1602"]
        assert job["identifier"]["partner_label"] == "La bonne alternance"
        assert job["contract"]["remote"] in ("onsite", "hybrid", "remote")


async def test_default_radius_is_30_km(client: httpx.AsyncClient) -> None:
    near = {"latitude": "45.9088", "longitude": "6.1257"}
    default = (await client.get("/job/v1/search", params=near)).json()["jobs"]
    explicit = (await client.get("/job/v1/search", params={**near, "radius": "30"})).json()
    assert len(default) == len(explicit["jobs"]) > 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/job/v1/search", {"latitude": "45.5"}),
        ("/job/v1/search", {"radius": "10"}),
        ("/job/v1/search", {"latitude": "95", "longitude": "5"}),
        ("/job/v1/search", {"latitude": "nan", "longitude": "5"}),
        ("/job/v1/search", {"romes": "cuisine"}),
        ("/job/v1/search", {"page": "2"}),
        ("/formation/v1/search", {"page_size": "101"}),
        ("/formation/v1/search", {"page_index": "-1"}),
        ("/formation/v1/search", {"rncp": "36629"}),
        ("/organisme/v1/search", {"uai": "0731549"}),
    ],
)
async def test_invalid_query_values_are_400(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    answer = await client.get(path, params=params)
    assert answer.status_code == 400
    assert answer.json()["statusCode"] == 400


async def test_job_by_id(client: httpx.AsyncClient) -> None:
    seed = dataset().offers_published_on("apprentissage")[5]
    job_id = seed.publishers["apprentissage"]
    job = (await client.get(f"/job/v1/offer/{job_id}")).json()
    assert job["identifier"]["id"] == job_id
    assert job["workplace"]["siret"] == seed.employer_siret
    assert job["workplace"]["location"]["insee_code"] == seed.address.insee_code
    assert (await client.get("/job/v1/offer/ffffffffffffffffffffffff")).status_code == 404


async def test_formations_are_paged(client: httpx.AsyncClient) -> None:
    total = len(dataset().programs_published_on("apprentissage"))
    seen: list[str] = []
    for index in range(5):
        body = (
            await client.get("/formation/v1/search", params={"page_index": index, "page_size": 100})
        ).json()
        assert body["pagination"]["total"] == total
        assert body["pagination"]["page_count"] == -(-total // 100)
        seen += [f["identifiant"]["cle_ministere_educatif"] for f in body["data"]]
    assert len(seen) == len(set(seen)) == total


async def test_formation_filters(client: httpx.AsyncClient) -> None:
    params = {"departements": "74", "romes": "G1602"}
    data = (await client.get("/formation/v1/search", params=params)).json()["data"]
    assert data
    for formation in data:
        assert formation["lieu"]["adresse"]["code_postal"].startswith("74")
        assert "G1602" in [r["code"] for r in formation["romes"]]
    by_uai = (
        await client.get("/formation/v1/search", params={"uai_responsable": "0731549M"})
    ).json()["data"]
    assert by_uai
    assert {f["responsable"]["organisme"]["identifiant"]["uai"] for f in by_uai} == {"0731549M"}


async def test_formation_by_id_with_a_hash_in_it(client: httpx.AsyncClient) -> None:
    seed = dataset().programs[0]
    key = seed.publishers["apprentissage"]
    assert "#" in key
    answer = await client.get(f"/formation/v1/{quote(key, safe='')}")
    assert answer.status_code == 200
    formation = answer.json()
    assert formation["identifiant"]["cle_ministere_educatif"] == key
    assert formation["certification"]["valeur"]["identifiant"]["rncp"] == seed.rncp
    assert formation["modalite"]["duree_indicative"] * 12 == seed.duration_months
    assert (await client.get("/formation/v1/unknown")).status_code == 404


async def test_organisations_by_uai_and_siret(client: httpx.AsyncClient) -> None:
    centre = dataset().centre_by_uai("0741451A")
    assert centre is not None
    by_uai = (await client.get("/organisme/v1/search", params={"uai": "0741451A,0731549M"})).json()[
        "data"
    ]
    assert {o["identifiant"]["uai"] for o in by_uai} == {"0741451A", "0731549M"}
    by_siret = (await client.get("/organisme/v1/search", params={"siret": centre.siret})).json()[
        "data"
    ]
    assert [o["identifiant"]["uai"] for o in by_siret] == ["0741451A"]
    assert by_siret[0]["adresse"]["commune"]["code_insee"] == centre.address.insee_code
