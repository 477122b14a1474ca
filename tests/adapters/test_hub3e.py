"""Hub3E, configured with the plain ``rest`` kind: its block in demo/partners.toml, its real app."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.errors import SourceUnavailable
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter
from adapters.rest import RestAdapter
from adapters.types import ListQuery
from demo import hub3e
from demo.data import OfferSeed, dataset
from demo.run import partners_file

COMMON_STATUS = {
    "OUVERTE": "ACTIVE",
    "POURVUE": "FILLED",
    "ANNULEE": "CANCELLED",
    "EN_ATTENTE": "PENDING",
}


def demo_block() -> dict[str, Any]:
    data = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    return copy.deepcopy(data["partners"]["hub3e"])


def missions() -> dict[str, OfferSeed]:
    return {seed.publishers["hub3e"]: seed for seed in dataset().offers_published_on("hub3e")}


@pytest.fixture
def app() -> Starlette:
    return hub3e.create_app()


Connect = Callable[[Starlette, dict[str, Any]], RestAdapter]


@pytest.fixture
async def connect(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Connect]:
    monkeypatch.setenv("HUB_HUB3E_API_KEY", hub3e.API_KEY)
    made: list[RestAdapter] = []

    def make(app: Starlette, block: dict[str, Any]) -> RestAdapter:
        config = parse_partners({"partners": {"hub3e": block}}).partners["hub3e"]
        adapter = build_adapter("hub3e", config, httpx.ASGITransport(app=app))
        assert isinstance(adapter, RestAdapter)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.aclose()


async def test_offset_pages_are_walked_to_the_total(app: Starlette, connect: Connect) -> None:
    block = demo_block()
    block["entities"]["offer"]["pagination"]["page_size"] = 40
    adapter = connect(app, block)

    page = await adapter.list(ListQuery("offer", {}, limit=1000))

    expected = missions()
    assert len(expected) > 120  # enough for four pages of 40
    assert sorted(r.owner.partner_id for r in page.records) == sorted(expected)
    assert page.total == len(expected)
    assert not page.truncated
    assert app.state.calls["missions"] == -(-len(expected) // 40)


async def test_the_walk_stops_at_the_limit(app: Starlette, connect: Connect) -> None:
    adapter = connect(app, demo_block())

    page = await adapter.list(ListQuery("offer", {}, limit=30))

    assert len(page.records) == 30
    assert page.truncated
    assert app.state.calls["missions"] == 1


async def test_statuses_and_codes_are_translated(app: Starlette, connect: Connect) -> None:
    adapter = connect(app, demo_block())

    page = await adapter.list(ListQuery("offer", {}, limit=1000))

    seeds = missions()
    statuses = set()
    for record in page.records:
        seed = seeds[record.owner.partner_id]
        fields = record.fields
        assert fields["status"] == COMMON_STATUS[hub3e.status_of(seed)]
        statuses.add(fields["status"])
        assert fields["contractKinds"] == [seed.contract_kind]
        assert fields["targetLevel"] == seed.level
        assert fields["remote"] == seed.remote
        assert fields["startDate"] == seed.start_date.isoformat()
        assert fields["publishedAt"] == seed.published_at.strftime("%Y-%m-%dT00:00:00Z")
        assert fields["employer"]["siret"] == seed.employer_siret
        assert fields["location"]["inseeCode"] == seed.address.insee_code
        assert fields["accessibleToDisabledWorkers"] is seed.accessible_to_disabled_workers
    assert statuses == set(COMMON_STATUS.values())  # every status of the value map is met


async def test_filters_are_pushed_down(app: Starlette, connect: Connect) -> None:
    adapter = connect(app, demo_block())
    seeds = missions().values()
    rome = next(iter(seeds)).rome_code

    page = await adapter.list(
        ListQuery("offer", {"romeCodes": [rome], "departements": ["73"]}, limit=1000)
    )

    expected = {
        s.publishers["hub3e"]
        for s in seeds
        if s.rome_code == rome and s.address.departement == "73"
    }
    assert expected
    assert {r.owner.partner_id for r in page.records} == expected
    assert page.total == len(expected)  # the partner filtered: its total is the match count


async def test_missions_are_looked_up_by_their_own_id(app: Starlette, connect: Connect) -> None:
    adapter = connect(app, demo_block())
    wanted = sorted(missions())[:3]

    found = await adapter.lookup("offer", "id", [*wanted, "M-99999"])

    assert sorted(found) == wanted
    assert app.state.calls["mission"] == 4


async def test_a_wrong_key_is_refused(
    app: Starlette, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_HUB3E_API_KEY", "not-the-key")
    adapter = connect(app, demo_block())

    with pytest.raises(SourceUnavailable, match="401"):
        await adapter.list(ListQuery("offer", {}, limit=10))
