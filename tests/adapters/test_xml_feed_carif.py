"""The carif block of demo/partners.toml against the simulated Carif-Oref (demo/carif.py)."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette

from adapters import xml_feed
from adapters.errors import SourceBadResponse
from adapters.feed import FeedAdapter
from adapters.feed_config import XmlFeedPartner
from adapters.types import ListQuery, Record
from demo import carif
from demo.data import ProgramSeed, dataset
from demo.faults import FaultInjector
from tests.adapters.feed_partners import ManualClock

PARTNERS_FILE = Path(__file__).parents[2] / "demo" / "partners.toml"


def carif_block(**overrides: Any) -> XmlFeedPartner:
    block = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))["partners"]["carif"]
    return XmlFeedPartner.model_validate({**block, **overrides})


SEEDS: dict[str, ProgramSeed] = {
    p.publishers["carif"]: p for p in dataset().programs_published_on("carif")
}


@pytest.fixture(scope="module")
def catalogue_app() -> Starlette:
    return carif.create_app()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


Connect = Callable[..., FeedAdapter]


@pytest.fixture
async def connect(clock: ManualClock) -> AsyncIterator[Connect]:
    made: list[FeedAdapter] = []

    def build(app: Any, **overrides: Any) -> FeedAdapter:
        adapter = xml_feed.create(
            "carif", carif_block(**overrides), httpx.ASGITransport(app=app), clock=clock
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        await adapter.aclose()


async def everything(adapter: FeedAdapter, **filters: Any) -> list[Record]:
    page = await adapter.list(ListQuery("training_program", filters, 10_000))
    assert not page.truncated
    return page.records


async def test_every_published_programme_maps_to_its_seed(
    connect: Connect, catalogue_app: Starlette
) -> None:
    records = await everything(connect(catalogue_app))
    assert sorted(r.fields["id"] for r in records) == sorted(SEEDS)
    for record in records:
        seed, fields = SEEDS[record.fields["id"]], record.fields
        assert fields["title"] == seed.title
        assert fields["certification"]["rncp"] == seed.rncp
        assert fields["certification"]["cfd"] == seed.cfd
        assert fields["certification"]["level"] == seed.level  # LHEO 1x -> x
        assert fields["romeCodes"] == list(seed.rome_codes)
        assert fields["responsible"]["uai"] == seed.responsible.uai
        assert fields["responsible"]["siret"] == seed.responsible.siret
        assert fields["provider"]["siret"] == seed.provider.siret
        assert fields["location"]["inseeCode"] == seed.address.insee_code
        assert fields["location"]["latitude"] == pytest.approx(seed.address.latitude, abs=1e-5)
        assert fields["contractKinds"] == list(seed.contract_kinds)
        assert fields["durationMonths"] == seed.duration_months
        assert fields["fullyRemote"] == seed.fully_remote
        assert fields["sessions"] == [
            {
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "recruitmentOpen": s.recruitment_open,
            }
            for s in seed.sessions
        ]
        assert record.provenance[0].partner == "carif"


async def test_the_catalogue_key_is_the_apprenticeship_catalogues_where_given(
    connect: Connect, catalogue_app: Starlette
) -> None:
    records = await everything(connect(catalogue_app))
    keys = {r.fields["id"]: r.fields["catalogueKey"] for r in records}
    with_key = {i: k for i, k in keys.items() if k is not None}
    assert with_key and len(with_key) < len(keys)  # a few actions lack it, as in real exports
    assert all(SEEDS[i].publishers["apprentissage"] == k for i, k in with_key.items())


async def test_a_second_refresh_is_a_304_on_the_real_app(
    connect: Connect, clock: ManualClock
) -> None:
    app = carif.create_app()
    adapter = connect(app)
    first = await everything(adapter)
    clock.advance(301)  # refresh_s = 300 in partners.toml
    second = await everything(adapter)
    assert app.state.calls["catalogue"] == 2 and app.state.not_modified == 1
    assert [r.fields for r in second] == [r.fields for r in first]


async def test_lookups_by_catalogue_key_and_rncp_share_one_fetch(connect: Connect) -> None:
    app = carif.create_app()
    adapter = connect(app)
    seeds = list(SEEDS.values())[:40]
    records = await everything(connect(carif.create_app()))
    keyed = {r.fields["catalogueKey"]: r.fields["id"] for r in records if r.fields["catalogueKey"]}
    wanted_keys = [k for k, i in keyed.items() if SEEDS[i] in seeds]
    by_key = await adapter.lookup("training_program", "catalogueKey", wanted_keys)
    assert {k: [r.fields["id"] for r in v] for k, v in by_key.items()} == {
        k: [keyed[k]] for k in wanted_keys
    }
    rncps = sorted({s.rncp for s in seeds})
    by_rncp = await adapter.lookup("training_program", "rncp", rncps)
    assert set(by_rncp) == set(rncps)
    for rncp, found in by_rncp.items():
        assert {r.fields["id"] for r in found} == {i for i, s in SEEDS.items() if s.rncp == rncp}
    assert app.state.calls["catalogue"] == 1


async def test_filters_are_applied_to_the_snapshot(
    connect: Connect, catalogue_app: Starlette
) -> None:
    adapter = connect(catalogue_app)
    in_74 = await everything(adapter, departements=["74"])
    assert {r.fields["id"] for r in in_74} == {
        i for i, s in SEEDS.items() if s.address.insee_code.startswith("74")
    }
    level_5 = await everything(adapter, levels=[5], departements=["73"])
    assert level_5 and all(
        SEEDS[r.fields["id"]].level == 5 and SEEDS[r.fields["id"]].address.departement == "73"
        for r in level_5
    )
    assert "near" in adapter.pushed_filters("training_program")


async def test_the_catalogue_down_leaves_the_last_good_copy(
    connect: Connect, clock: ManualClock
) -> None:
    faulty = FaultInjector(carif.create_app(), retry_after_s=0)
    adapter = connect(faulty)
    before = await everything(adapter)
    faulty.set("unavailable")
    clock.advance(301)
    during = await everything(adapter)
    assert [r.fields for r in during] == [r.fields for r in before]
    assert all(r.provenance[0].from_cache for r in during)
    faulty.set("html")  # a proxy's error page, answered 200
    clock.advance(11)  # past retry_after_failure_s
    assert len(await everything(adapter)) == len(before)
    assert adapter.status()[0].last_error == SourceBadResponse.code
    clock.advance(86_400)  # max_stale_s
    with pytest.raises(SourceBadResponse):
        await everything(adapter)


async def test_a_catalogue_larger_than_allowed_is_cut(connect: Connect) -> None:
    with pytest.raises(SourceBadResponse, match="larger"):
        await everything(connect(carif.create_app(), max_response_bytes=500_000))


async def test_a_huge_json_answer_is_refused_before_its_body_is_read(connect: Connect) -> None:
    faulty = FaultInjector(carif.create_app(), "huge", huge_mb=3)
    with pytest.raises(SourceBadResponse, match="content type"):
        await everything(connect(faulty, max_response_bytes=2_000_000))


# -- the simulated partner itself -------------------------------------------------------------


async def test_the_catalogue_is_lheo_2_3_served_with_validators(catalogue_app: Starlette) -> None:
    transport = httpx.ASGITransport(app=catalogue_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carif.test") as client:
        answer = await client.get(carif.PATH)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/xml")
        root = etree.fromstring(answer.content)
        assert root.tag == "{http://lheo.gouv.fr/2.3}lheo"
        actions = root.findall("{*}offres/{*}formation/{*}action")
        assert sorted(str(a.get("numero")) for a in actions) == sorted(SEEDS)
        etag, modified = answer.headers["etag"], answer.headers["last-modified"]
        by_tag = await client.get(carif.PATH, headers={"If-None-Match": etag})
        by_date = await client.get(carif.PATH, headers={"If-Modified-Since": modified})
        older = await client.get(
            carif.PATH, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )
        other_tag = await client.get(carif.PATH, headers={"If-None-Match": '"other"'})
    assert (by_tag.status_code, by_tag.content) == (304, b"")
    assert by_date.status_code == 304
    assert older.status_code == 200 and other_tag.status_code == 200
