"""The REST adapter with the demo's own partner blocks, against the simulated partners.

The blocks come from ``demo/partners.toml`` as shipped (only ``base_url`` is irrelevant: the
apps run in-process), the credentials from ``demo/secrets.py``.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from adapters.errors import SourceUnavailable
from adapters.rest_config import RestPartner
from adapters.types import GeoFilter, ListQuery
from demo import apprentissage, francetravail, sirene
from demo.data import dataset
from demo.secrets import DEMO_SECRETS
from demo.territory import distance_km
from tests.adapters.conftest import ConnectRest

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"


@pytest.fixture(autouse=True)
def demo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)


def demo_block(partner: str, **changes: Any) -> RestPartner:
    block = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))["partners"][partner]
    return RestPartner.model_validate({**block, **changes})


def with_page_size(partner: str, entity: str, page_size: int) -> RestPartner:
    block = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))["partners"][partner]
    block["entities"][entity]["pagination"]["page_size"] = page_size
    return RestPartner.model_validate(block)


def calls(app: Starlette) -> Counter[str]:
    counter: Counter[str] = app.state.calls
    return counter


def published_on_francetravail(departement: str | None = None) -> set[str]:
    return {
        seed.publishers["francetravail"]
        for seed in dataset().offers_published_on("francetravail")
        if departement is None or seed.address.departement == departement
    }


async def test_francetravail_range_walk_returns_every_offer_once(
    connect_rest: ConnectRest,
) -> None:
    app = francetravail.create_app()
    adapter = connect_rest(app, demo_block("francetravail"), "francetravail")
    expected = published_on_francetravail()

    page = await adapter.list(ListQuery("offer", {}, 2000))

    found = [r.owner.partner_id for r in page.records]
    assert len(found) == len(set(found))  # exactly once
    assert set(found) == expected  # every one: no record dropped by the mapping
    assert page.total == len(expected)
    assert page.truncated is False
    assert calls(app)["search"] == math.ceil(len(expected) / 150)
    assert calls(app)["token"] == 1


async def test_francetravail_walk_with_small_pages_and_a_pushed_filter(
    connect_rest: ConnectRest,
) -> None:
    app = francetravail.create_app()
    adapter = connect_rest(app, with_page_size("francetravail", "offer", 37), "francetravail")
    expected = published_on_francetravail("73")

    page = await adapter.list(ListQuery("offer", {"departements": ["73"]}, 2000))

    found = [r.owner.partner_id for r in page.records]
    assert sorted(found) == sorted(expected)
    assert {r.fields["location"]["postalCode"][:2] for r in page.records} == {"73"}
    assert calls(app)["search"] == math.ceil(len(expected) / 37)


async def test_francetravail_walk_stops_at_the_limit(connect_rest: ConnectRest) -> None:
    app = francetravail.create_app()
    adapter = connect_rest(app, demo_block("francetravail"), "francetravail")

    first = await adapter.list(ListQuery("offer", {}, 200))
    again = await adapter.list(ListQuery("offer", {}, 200))

    assert len(first.records) == 200
    assert first.truncated is True
    assert [r.fields["id"] for r in again.records] == [r.fields["id"] for r in first.records]
    assert calls(app)["search"] == 4  # 0-149 and 150-199, twice
    assert calls(app)["token"] == 1


async def test_francetravail_offer_look_up_by_id(connect_rest: ConnectRest) -> None:
    app = francetravail.create_app()
    adapter = connect_rest(app, demo_block("francetravail"), "francetravail")
    some = sorted(published_on_francetravail())[:3]

    found = await adapter.lookup("offer", "id", [*some, "ZZZZZZZ"])

    assert set(found) == set(some)
    assert calls(app)["offer"] == 4  # one call per value; the unknown one is a 404


async def test_sirene_batch_look_up_uses_one_call_per_hundred_sirets(
    connect_rest: ConnectRest,
) -> None:
    app = sirene.create_app()
    adapter = connect_rest(app, demo_block("sirene"), "sirene")
    sirets = sorted({e.siret for e in dataset().employers})[:250]

    found = await adapter.lookup("organisation", "siret", [*sirets, "00000000000000"])

    assert set(found) == set(sirets)
    assert calls(app)["siret_batch"] == 3  # 251 values: 100 + 100 + 51
    assert calls(app)["siret"] == 0
    record = found[sirets[0]][0]
    assert record.owner.partner == "sirene"
    assert record.fields["siren"] == sirets[0][:9]


async def test_sirene_refuses_another_partners_key(connect_rest: ConnectRest) -> None:
    app = sirene.create_app()
    auth = {
        "type": "api_key",
        "header": sirene.API_KEY_HEADER,
        "key": {"env": "HUB_APPRENTISSAGE_API_KEY"},
    }
    adapter = connect_rest(app, demo_block("sirene", auth=auth), "sirene")

    with pytest.raises(SourceUnavailable, match="credential refused"):
        await adapter.lookup("organisation", "siret", ["73282932000074"])


async def test_apprentissage_offers_near_a_point(connect_rest: ConnectRest) -> None:
    app = apprentissage.create_app()
    adapter = connect_rest(app, demo_block("apprentissage"), "apprentissage")
    chambery = GeoFilter(45.5646, 5.9178, 30.0)

    page = await adapter.list(ListQuery("offer", {"near": chambery}, 100))

    assert page.records
    for record in page.records:
        where = record.fields["location"]
        assert distance_km(45.5646, 5.9178, where["latitude"], where["longitude"]) <= 30.5
