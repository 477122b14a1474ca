"""The simulated Jobs Montagne: a token, limit ≤ 100, a cursor walk, newest first, and the
600 offers it shares with Alpes Emploi."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from demo import alpes_emploi, jobs_montagne
from demo.job_boards import JOBS_MONTAGNE, catalogue
from tests.demo.conftest import ClientFor

SEARCH = jobs_montagne.SEARCH_PATH
AUTH = {"Authorization": f"Bearer {jobs_montagne.TOKEN}"}


@pytest.fixture(scope="module")
def app() -> Starlette:
    return jobs_montagne.create_app()


@pytest.fixture
def client(app: Starlette, client_for: ClientFor) -> httpx.AsyncClient:
    return client_for(app, headers=AUTH)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def walk(client: httpx.AsyncClient, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every job of a search, following the cursors; and how many pages it took."""
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(SEARCH, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        jobs += body["jobs"]
        cursor = body["paging"]["next_cursor"]
        if cursor is None:
            return jobs, pages


async def test_a_token_is_needed(app: Starlette, client_for: ClientFor) -> None:
    anonymous = client_for(app)
    assert (await anonymous.get(SEARCH)).status_code == 401
    forged = client_for(app, headers={"Authorization": "Bearer guess"})
    assert (await forged.get(f"{SEARCH}/jm-0000000000")).status_code == 401


@pytest.mark.parametrize("limit", ["101", "0", "ten"])
async def test_a_limit_out_of_bounds_is_a_400(client: httpx.AsyncClient, limit: str) -> None:
    answer = await client.get(SEARCH, params={"limit": limit})

    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == 400


async def test_the_walk_returns_every_job_once_newest_first(client: httpx.AsyncClient) -> None:
    jobs, pages = await walk(client, limit=100)

    assert pages == 30
    uids = [j["uid"] for j in jobs]
    assert len(uids) == len(set(uids)) == 3_000
    order = [(instant(j["published_at"]), j["uid"]) for j in jobs]
    assert order == sorted(order, key=lambda pair: (-pair[0].timestamp(), pair[1]))
    assert {s.publishers[JOBS_MONTAGNE] for s in catalogue().published_on(JOBS_MONTAGNE)} == set(
        uids
    )


async def test_a_filtered_walk_matches_and_has_no_total(client: httpx.AsyncClient) -> None:
    expected = {
        s.publishers[JOBS_MONTAGNE]
        for s in catalogue().published_on(JOBS_MONTAGNE)
        if s.address.departement == "74" and s.rome_code in ("G1602", "G1803")
    }
    jobs, pages = await walk(client, limit=37, department="74", rome="G1602,G1803")

    assert {j["uid"] for j in jobs} == expected and len(jobs) == len(expected)
    assert pages == -(-len(expected) // 37)
    first = (await client.get(SEARCH, params={"limit": 5})).json()
    assert set(first) == {"jobs", "paging"}  # a cursor board: no total


async def test_a_cursor_is_a_position_not_a_page_number(client: httpx.AsyncClient) -> None:
    """A cursor from one search resumes another search right after that job's position."""
    whole, _ = await walk(client, limit=100)
    page = (await client.get(SEARCH, params={"limit": 10})).json()
    in_74 = (
        await client.get(
            SEARCH,
            params={"limit": 100, "department": "74", "cursor": page["paging"]["next_cursor"]},
        )
    ).json()
    expected = [j for j in whole[10:] if j["place"]["department"] == "74"][:100]
    assert [j["uid"] for j in in_74["jobs"]] == [j["uid"] for j in expected]


@pytest.mark.parametrize("cursor", ["!!!", "bm90LWEtY3Vyc29y", ""])
async def test_a_broken_cursor_is_a_400(client: httpx.AsyncClient, cursor: str) -> None:
    answer = await client.get(SEARCH, params={"cursor": cursor})

    assert answer.status_code == 400


async def test_since_and_communes(client: httpx.AsyncClient) -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    recent, _ = await walk(client, limit=100, since="2026-11-01T00:00:00Z")
    expected = [s for s in catalogue().published_on(JOBS_MONTAGNE) if s.published_at >= since]
    assert len(recent) == len(expected)
    town = expected[0].address.insee_code
    there, _ = await walk(client, limit=100, insee=town)
    assert {j["place"]["insee"] for j in there} == {town}
    assert (await client.get(SEARCH, params={"since": "2026-11-01T00:00:00"})).status_code == 400


async def test_the_600_shared_offers_are_alpes_emploi_offers_under_other_ids(
    client: httpx.AsyncClient, client_for: ClientFor
) -> None:
    alpes = client_for(alpes_emploi.create_app())
    annonces: list[dict[str, Any]] = []
    for page in range(1, 11):
        answer = await alpes.get(alpes_emploi.SEARCH_PATH, params={"page": page, "page_size": 500})
        annonces += answer.json()["annonces"]
    jobs, _ = await walk(client, limit=100)

    def alpes_key(a: dict[str, Any]) -> tuple[str, str, str, str, datetime]:
        where = a["lieu_travail"]["commune"]["code_insee"]
        rome = a["metier"]["code_rome"]
        return (a["employeur"]["siret"], rome, where, a["titre"], instant(a["publiee_le"]))

    def montagne_key(j: dict[str, Any]) -> tuple[str, str, str, str, datetime]:
        rome = j["occupations"][0]["code"]
        when = instant(j["published_at"])
        return (j["company"]["siret"], rome, j["place"]["insee"], j["headline"], when)

    alpes_keys = {alpes_key(a) for a in annonces}
    shared = [j for j in jobs if montagne_key(j) in alpes_keys]
    assert len(shared) == 600
    assert all(j["uid"].startswith("jm-") for j in shared)
    # without the instant, more jobs look like one of Alpes Emploi's offers than really are
    loose = {k[:4] for k in alpes_keys}
    assert sum(montagne_key(j)[:4] in loose for j in jobs) > 600
