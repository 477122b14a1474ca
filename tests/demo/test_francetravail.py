"""The simulated France Travail: OAuth2, range pagination, 204, filters, 400s."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette

from demo import francetravail
from demo.data import OfferSeed, dataset
from demo.territory import communes, distance_km
from tests.demo.conftest import ClientFor

SEARCH = francetravail.SEARCH_PATH
TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": francetravail.CLIENT_ID,
    "client_secret": francetravail.CLIENT_SECRET,
    "scope": "api_offresdemploiv2",
}


@pytest.fixture
def app() -> Starlette:
    return francetravail.create_app()


@pytest.fixture
async def client(app: Starlette, client_for: ClientFor) -> httpx.AsyncClient:
    client = client_for(app)
    answer = await client.post(francetravail.TOKEN_PATH, data=TOKEN_FORM)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1499
    client.headers["Authorization"] = f"Bearer {body['access_token']}"
    return client


def ft_seeds(departement: str | None = None) -> list[OfferSeed]:
    return [
        s
        for s in dataset().offers_published_on("francetravail")
        if departement is None or s.address.departement == departement
    ]


async def test_wrong_client_secret_is_refused(app: Starlette, client_for: ClientFor) -> None:
    answer = await client_for(app).post(
        francetravail.TOKEN_PATH, data={**TOKEN_FORM, "client_secret": "guess"}
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


async def test_search_needs_a_valid_token(app: Starlette, client_for: ClientFor) -> None:
    anonymous = client_for(app)
    assert (await anonymous.get(SEARCH)).status_code == 401
    forged = client_for(app, headers={"Authorization": "Bearer not-a-token"})
    assert (await forged.get(SEARCH)).status_code == 401


async def test_range_pagination_with_content_range(client: httpx.AsyncClient) -> None:
    total = len(ft_seeds())
    first = await client.get(SEARCH, params={"range": "0-149"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"offres 0-149/{total}"
    assert len(first.json()["resultats"]) == 150
    last_start = (total // 150) * 150
    last = await client.get(SEARCH, params={"range": f"{last_start}-{last_start + 149}"})
    assert last.headers["content-range"] == f"offres {last_start}-{total - 1}/{total}"
    assert len(last.json()["resultats"]) == total - last_start
    ids_first = {o["id"] for o in first.json()["resultats"]}
    ids_last = {o["id"] for o in last.json()["resultats"]}
    assert not ids_first & ids_last


async def test_whole_answer_is_200_and_nothing_is_204(client: httpx.AsyncClient) -> None:
    some = await client.get(SEARCH, params={"codeROME": "G1602", "commune": "73065"})
    assert some.status_code == 200
    found = some.json()["resultats"]
    assert found and all(o["lieuTravail"]["commune"] == "73065" for o in found)
    assert all(o["lieuTravail"]["libelle"] == "73 - CHAMBERY" for o in found)
    none = await client.get(SEARCH, params={"codeROME": "L1101"})
    assert none.status_code == 204
    assert none.content == b""


@pytest.mark.parametrize(
    "params",
    [
        {"range": "0-150"},
        {"range": "3001-3100"},
        {"range": "20-10"},
        {"range": "abc"},
        {"codeROME": "G160"},
        {"departement": "7"},
        {"commune": "73065,abc"},
        {"distance": "ten"},
        {"natureContrat": "ZZ"},
        {"minCreationDate": "yesterday"},
        {"motsCles": "cuisine"},
    ],
)
async def test_invalid_query_values_are_400(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    answer = await client.get(SEARCH, params=params)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["codeHttp"] == 400


async def test_filters_match_the_dataset(client: httpx.AsyncClient) -> None:
    params = {"departement": "73", "natureContrat": "FS", "range": "0-149"}
    answer = await client.get(SEARCH, params=params)
    expected = {
        s.publishers["francetravail"]
        for s in ft_seeds("73")
        if s.contract_kind == "PROFESSIONALISATION"
    }
    assert answer.headers["content-range"].endswith(f"/{len(expected)}")
    got = answer.json()["resultats"]
    assert {o["id"] for o in got} <= expected
    assert all(o["natureContrat"] == "Cont. professionnalisation" for o in got)


async def test_distance_around_a_single_commune(client: httpx.AsyncClient) -> None:
    centre = communes()["73065"]
    answer = await client.get(
        SEARCH, params={"commune": "73065", "distance": "10", "codeROME": "G1602,G1803"}
    )
    got = answer.json()["resultats"]
    assert any(o["lieuTravail"]["commune"] != "73065" for o in got)
    for offer in got:
        place = offer["lieuTravail"]
        assert (
            distance_km(centre.latitude, centre.longitude, place["latitude"], place["longitude"])
            <= 10
        )


async def test_offer_by_id_and_its_real_field_names(client: httpx.AsyncClient) -> None:
    seed = ft_seeds()[0]
    offer_id = seed.publishers["francetravail"]
    answer = await client.get(f"/partenaire/offresdemploi/v2/offres/{offer_id}")
    assert answer.status_code == 200
    offer = answer.json()
    assert offer["id"] == offer_id and offer["intitule"] == seed.title
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", offer["dateCreation"])
    assert offer["typeContrat"] == "CDD" and offer["alternance"] is True
    assert offer["typeContratLibelle"] == f"CDD - {seed.duration_months} Mois"
    assert offer["origineOffre"]["urlOrigine"].endswith(offer_id)
    missing = await client.get("/partenaire/offresdemploi/v2/offres/000AAAA")
    assert missing.status_code == 404


async def test_some_offers_have_no_siret(client: httpx.AsyncClient) -> None:
    pages = [await client.get(SEARCH, params={"range": f"{p}-{p + 149}"}) for p in (0, 150)]
    offers = [o for page in pages for o in page.json()["resultats"]]
    without = [o for o in offers if "siret" not in o["entreprise"]]
    assert 0 < len(without) < len(offers) / 5


async def test_calls_are_counted(app: Starlette, client: httpx.AsyncClient) -> None:
    await client.get(SEARCH, params={"range": "0-9"})
    await client.get(SEARCH, params={"range": "10-19"})
    assert app.state.calls["search"] == 2
    assert app.state.calls["token"] == 1
