"""demo/partners.toml: it loads, and its mappings turn the apps' real answers into Records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from adapters.mapping import Mapper, now_instant
from adapters.partners_file import load_partners
from adapters.rest_config import RestPartner
from adapters.types import Record
from demo import apprentissage, francetravail, sirene
from demo.data import dataset
from demo.secrets import DEMO_SECRETS
from tests.demo.conftest import ClientFor

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"
MINE = ("francetravail", "apprentissage", "sirene")
MY_SECRETS = (
    "HUB_FRANCETRAVAIL_CLIENT_ID",
    "HUB_FRANCETRAVAIL_CLIENT_SECRET",
    "HUB_APPRENTISSAGE_API_KEY",
    "HUB_SIRENE_API_KEY",
)


@pytest.fixture(scope="module")
def blocks() -> dict[str, RestPartner]:
    loaded = load_partners(PARTNERS_FILE).partners
    mine = {name: loaded[name] for name in MINE}
    assert all(isinstance(block, RestPartner) for block in mine.values())
    return {name: block for name, block in mine.items() if isinstance(block, RestPartner)}


def mapper(blocks: dict[str, RestPartner], partner: str, entity: str) -> Mapper:
    return Mapper(partner, entity, blocks[partner].entities[entity])


def calls(app: Starlette) -> Counter[str]:
    counter: Counter[str] = app.state.calls
    return counter


def map_all(m: Mapper, raws: list[Any]) -> Iterator[Record]:
    fetched_at = now_instant()
    for raw in raws:
        yield m.map(raw, fetched_at)  # raises MappingError: every record must fit


def test_the_file_declares_the_three_partners(blocks: dict[str, RestPartner]) -> None:
    assert set(blocks["apprentissage"].entities) == {"offer", "training_program", "organisation"}
    secrets_named = {
        getattr(secret, "env", None)
        for block in blocks.values()
        for secret in vars(block.auth).values()
    }
    assert set(MY_SECRETS) <= secrets_named <= set(DEMO_SECRETS) | {None}
    text = PARTNERS_FILE.read_text(encoding="utf-8")
    assert not any(DEMO_SECRETS[name] in text for name in MY_SECRETS)


async def test_francetravail_offers_map(
    blocks: dict[str, RestPartner], client_for: ClientFor
) -> None:
    client = client_for(francetravail.create_app())
    token = (
        await client.post(
            francetravail.TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_id": francetravail.CLIENT_ID,
                "client_secret": francetravail.CLIENT_SECRET,
            },
        )
    ).json()["access_token"]
    answer = await client.get(
        francetravail.SEARCH_PATH,
        params={"range": "0-149"},
        headers={"Authorization": f"Bearer {token}"},
    )
    records = list(map_all(mapper(blocks, "francetravail", "offer"), answer.json()["resultats"]))
    seeds = {
        s.publishers["francetravail"]: s for s in dataset().offers_published_on("francetravail")
    }
    assert len(records) == 150
    for record in records:
        seed, fields = seeds[record.owner.partner_id], record.fields
        assert fields["title"] == seed.title and fields["romeCodes"] == [seed.rome_code]
        assert fields["contractKinds"] == [seed.contract_kind]
        assert fields["targetLevel"] == seed.level
        assert fields["durationMonths"] == seed.duration_months
        assert fields["location"]["inseeCode"] == seed.address.insee_code
        assert fields["employer"]["siret"] in (seed.employer_siret, None)
        assert fields["publishedAt"] == seed.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_apprentissage_jobs_map(
    blocks: dict[str, RestPartner], client_for: ClientFor
) -> None:
    client = client_for(
        apprentissage.create_app(), headers={"Authorization": f"Bearer {apprentissage.API_KEY}"}
    )
    jobs = (await client.get("/job/v1/search")).json()["jobs"]
    records = list(map_all(mapper(blocks, "apprentissage", "offer"), jobs))
    seeds = {
        s.publishers["apprentissage"]: s for s in dataset().offers_published_on("apprentissage")
    }
    assert len(records) == len(seeds)
    for record in records:
        seed, fields = seeds[record.owner.partner_id], record.fields
        assert fields["location"]["latitude"] == seed.address.latitude
        assert fields["location"]["longitude"] == seed.address.longitude
        assert fields["startDate"] == seed.start_date.isoformat()
        assert fields["remote"] == seed.remote and fields["status"] == "ACTIVE"
        assert fields["employer"]["siret"] == seed.employer_siret


async def test_apprentissage_programmes_and_organisations_map(
    blocks: dict[str, RestPartner], client_for: ClientFor
) -> None:
    client = client_for(
        apprentissage.create_app(), headers={"Authorization": f"Bearer {apprentissage.API_KEY}"}
    )
    seed = dataset().programs[0]
    key = seed.publishers["apprentissage"]
    raw = (await client.get(f"/formation/v1/{quote(key, safe='')}")).json()
    fields = next(map_all(mapper(blocks, "apprentissage", "training_program"), [raw])).fields
    assert fields["catalogueKey"] == key
    assert fields["certification"]["rncp"] == seed.rncp
    assert fields["certification"]["level"] == seed.level
    assert fields["responsible"]["uai"] == seed.responsible.uai
    assert fields["durationMonths"] == seed.duration_months
    assert [s["start"] for s in fields["sessions"]] == [s.start.isoformat() for s in seed.sessions]
    assert fields["sessions"][0]["recruitmentOpen"] == seed.sessions[0].recruitment_open

    organisations = (await client.get("/organisme/v1/search")).json()["data"]
    mapped = list(map_all(mapper(blocks, "apprentissage", "organisation"), organisations))
    assert {r.fields["uai"] for r in mapped} == {c.uai for c in dataset().centres}


async def test_sirene_establishments_map(
    blocks: dict[str, RestPartner], client_for: ClientFor
) -> None:
    client = client_for(sirene.create_app(), headers={sirene.API_KEY_HEADER: sirene.API_KEY})
    employers = dataset().employers[:100]
    found = (await client.post("/siret", json={"sirets": [e.siret for e in employers]})).json()
    records = list(map_all(mapper(blocks, "sirene", "organisation"), found["etablissements"]))
    for record, employer in zip(records, employers, strict=True):
        assert record.fields["siret"] == employer.siret
        assert record.fields["active"] is employer.active
        assert record.fields["naf"]["code"] == employer.naf_code


async def test_the_rest_adapter_reads_every_partner_with_the_demo_secrets(
    blocks: dict[str, RestPartner], monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.registry import build_adapter
    from adapters.types import ListQuery

    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    apps = {
        "francetravail": francetravail.create_app(),
        "apprentissage": apprentissage.create_app(),
        "sirene": sirene.create_app(),
    }
    adapters = {
        name: build_adapter(name, blocks[name], httpx.ASGITransport(app=app))
        for name, app in apps.items()
    }
    try:
        in_73 = [
            s
            for s in dataset().offers_published_on("francetravail")
            if s.address.departement == "73"
        ]
        query = ListQuery("offer", {"departements": ["73"]}, 1000)
        ft = await adapters["francetravail"].list(query)
        assert len(ft.records) == ft.total == len(in_73) > 150  # several range pages
        assert calls(apps["francetravail"])["search"] == -(-len(in_73) // 150)
        lba = await adapters["apprentissage"].list(ListQuery("training_program", {}, 1000))
        assert len(lba.records) == len(dataset().programs)
        siret = dataset().centres[0].siret
        found = await adapters["sirene"].lookup("organisation", "siret", [siret])
        assert found[siret][0].fields["name"] == dataset().centres[0].name.upper()
    finally:
        for adapter in adapters.values():
            await adapter.aclose()


@pytest.mark.parametrize("board", ["alpes-emploi", "jobs-montagne"])
async def test_the_job_boards_map_and_declare_the_paged_contract(
    board: str, client_for: ClientFor
) -> None:
    from adapters.rest_config import CursorPagination, PagePagination
    from demo import alpes_emploi, jobs_montagne
    from demo.job_boards import catalogue

    block = load_partners(PARTNERS_FILE).partners[board]
    assert isinstance(block, RestPartner)
    entity = block.entities["offer"]
    assert entity.sort is not None
    if board == "alpes-emploi":
        assert isinstance(entity.pagination, PagePagination)
        assert entity.pagination.page_size == alpes_emploi.MAX_PAGE_SIZE
        assert entity.sort.orders() == {"id", "-publishedAt"}
        assert all(entity.filters[f].single for f in ("romeCodes", "departements", "communes"))
        client = client_for(alpes_emploi.create_app())
        path, items = f"{alpes_emploi.SEARCH_PATH}?page_size=500&tri=date", "annonces"
    else:
        assert isinstance(entity.pagination, CursorPagination)
        assert entity.pagination.page_size == jobs_montagne.MAX_LIMIT
        assert entity.sort.orders() == {"-publishedAt"} and entity.sort.param is None
        client = client_for(
            jobs_montagne.create_app(), headers={"Authorization": f"Bearer {jobs_montagne.TOKEN}"}
        )
        path, items = f"{jobs_montagne.SEARCH_PATH}?limit=100", "jobs"
    raws = (await client.get(path)).json()[items]
    records = list(map_all(Mapper(board, "offer", entity), raws))
    seeds = {s.publishers[board]: s for s in catalogue().published_on(board)}
    assert len(records) == len(raws) > 0
    published = [r.fields["publishedAt"] for r in records]
    assert published == sorted(published, reverse=True)  # both pages are newest first
    for record in records:
        seed, fields = seeds[record.owner.partner_id], record.fields
        assert fields["title"] == seed.title and fields["romeCodes"] == [seed.rome_code]
        assert fields["occupations"] == [{"romeCode": seed.rome_code, "label": seed.rome_label}]
        assert fields["contractKinds"] == [seed.contract_kind]
        assert fields["targetLevel"] == seed.level and fields["status"] == "ACTIVE"
        assert fields["publishedAt"] == seed.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert fields["location"]["inseeCode"] == seed.address.insee_code
        assert fields["employer"]["siret"] == seed.employer_siret
        assert fields["remote"] == seed.remote
