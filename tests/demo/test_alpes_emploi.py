"""The simulated Alpes Emploi: pages of at most 500, one value per filter, its two orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from demo import alpes_emploi
from demo.data import OfferSeed
from demo.job_boards import ALPES_EMPLOI, catalogue
from tests.demo.conftest import ClientFor

SEARCH = alpes_emploi.SEARCH_PATH


@pytest.fixture(scope="module")
def app() -> Starlette:
    return alpes_emploi.create_app()


@pytest.fixture
def client(app: Starlette, client_for: ClientFor) -> httpx.AsyncClient:
    return client_for(app)


def seeds(**where: str) -> list[OfferSeed]:
    return [
        s
        for s in catalogue().published_on(ALPES_EMPLOI)
        if all(
            {
                "departement": s.address.departement,
                "rome": s.rome_code,
                "commune": s.address.insee_code,
            }[k]
            == v
            for k, v in where.items()
        )
    ]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    answer = await client.get(SEARCH, params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_page_of_500_and_the_total_in_the_body(client: httpx.AsyncClient) -> None:
    body = await search(client, page=1, page_size=500)

    assert len(body["annonces"]) == 500
    assert body["pagination"] == {
        "page": 1,
        "page_size": 500,
        "nombre_total": 5_000,
        "nombre_pages": 10,
    }
    default = await search(client)
    assert len(default["annonces"]) == alpes_emploi.DEFAULT_PAGE_SIZE


@pytest.mark.parametrize("size", ["501", "0", "-1", "many"])
async def test_a_page_size_out_of_bounds_is_a_400(client: httpx.AsyncClient, size: str) -> None:
    answer = await client.get(SEARCH, params={"page_size": size})

    assert answer.status_code == 400
    assert answer.json()["statut"] == 400


async def test_page_zero_is_a_400_pages_start_at_one(client: httpx.AsyncClient) -> None:
    assert (await client.get(SEARCH, params={"page": "0"})).status_code == 400
    first = await search(client, page=1, page_size=3)
    second = await search(client, page=2, page_size=3)
    assert [a["numero"] for a in first["annonces"]] != [a["numero"] for a in second["annonces"]]


async def test_pages_past_the_end_are_empty(client: httpx.AsyncClient) -> None:
    body = await search(client, page=11, page_size=500)

    assert body["annonces"] == [] and body["pagination"]["nombre_total"] == 5_000


async def test_default_order_is_the_id_ascending_over_every_page(
    client: httpx.AsyncClient,
) -> None:
    numbers: list[int] = []
    for page in range(1, 11):
        body = await search(client, page=page, page_size=500)
        numbers += [a["numero"] for a in body["annonces"]]

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 5_000
    assert {str(n) for n in numbers} == {s.publishers[ALPES_EMPLOI] for s in seeds()}


async def test_tri_date_is_newest_first_ties_by_id(client: httpx.AsyncClient) -> None:
    got: list[tuple[datetime, int]] = []
    for page in range(1, 11):
        body = await search(client, page=page, page_size=500, tri="date")
        got += [(instant(a["publiee_le"]), a["numero"]) for a in body["annonces"]]

    assert got == sorted(got, key=lambda pair: (-pair[0].timestamp(), pair[1]))
    assert len({when for when, _ in got}) < len(got)  # there are ties to break
    explicit = await search(client, page_size=50, tri="numero")
    default = await search(client, page_size=50)
    assert explicit["annonces"] == default["annonces"]
    assert (await client.get(SEARCH, params={"tri": "titre"})).status_code == 400


async def test_each_filter_takes_one_value(client: httpx.AsyncClient) -> None:
    first = seeds()[0]
    where = {
        "departement": first.address.departement,
        "rome": first.rome_code,
        "commune": first.address.insee_code,
    }
    for name, value in where.items():
        body = await search(client, page_size=500, **{name: value})
        assert body["pagination"]["nombre_total"] == len(seeds(**{name: value}))
    both = await search(client, page_size=500, departement="74", rome=first.rome_code)
    assert both["pagination"]["nombre_total"] == len(seeds(departement="74", rome=first.rome_code))
    assert all(
        a["lieu_travail"]["departement"] == "74" and a["metier"]["code_rome"] == first.rome_code
        for a in both["annonces"]
    )


@pytest.mark.parametrize(
    "query",
    [
        "rome=G1602,G1603",
        "rome=G1602&rome=G1603",
        "departement=73,74",
        "departement=73&departement=74",
        "commune=74010,73065",
        "contrat=apprentissage,professionnalisation",
    ],
)
async def test_a_list_of_values_is_a_400(client: httpx.AsyncClient, query: str) -> None:
    answer = await client.get(f"{SEARCH}?{query}")

    assert answer.status_code == 400
    assert "une seule valeur" in answer.json()["message"]


@pytest.mark.parametrize(
    "query", ["rome=g1602", "departement=7", "commune=abc", "contrat=cdi", "depuis=hier", "x=1"]
)
async def test_invalid_values_and_unknown_parameters_are_400s(
    client: httpx.AsyncClient, query: str
) -> None:
    assert (await client.get(f"{SEARCH}?{query}")).status_code == 400


async def test_contract_and_publication_filters(client: httpx.AsyncClient) -> None:
    pro = await search(client, page_size=500, contrat="professionnalisation")
    expected = [s for s in seeds() if s.contract_kind == "PROFESSIONALISATION"]
    assert pro["pagination"]["nombre_total"] == len(expected)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    recent = await search(client, page_size=500, depuis="2026-11-01T00:00:00Z")
    assert recent["pagination"]["nombre_total"] == len(
        [s for s in seeds() if s.published_at >= since]
    )
    assert all(instant(a["publiee_le"]) >= since for a in recent["annonces"])


async def test_times_are_local_with_their_offset_and_name_the_instant(
    client: httpx.AsyncClient,
) -> None:
    seed = seeds()[0]
    answer = await client.get(f"{SEARCH}/{seed.publishers[ALPES_EMPLOI]}")

    assert answer.status_code == 200
    body = answer.json()
    assert body["publiee_le"].endswith(("+01:00", "+02:00"))
    assert instant(body["publiee_le"]) == seed.published_at
    assert body["titre"] == seed.title and body["employeur"]["siret"] == seed.employer_siret
    assert (await client.get(f"{SEARCH}/999")).status_code == 404


async def test_calls_are_counted(app: Starlette, client: httpx.AsyncClient) -> None:
    before = app.state.calls["annonces"]
    await search(client, page_size=1)
    assert app.state.calls["annonces"] == before + 1
