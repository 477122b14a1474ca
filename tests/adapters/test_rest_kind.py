"""The `rest` kind: registered, built from a partners file, true to the adapter contract."""

from __future__ import annotations

import tomllib

import httpx
import pytest

from adapters import rest
from adapters.base import Adapter
from adapters.config import PartnerBase
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter, kinds
from adapters.rest_config import RestPartner
from adapters.types import ListQuery
from tests.adapters.rest_partners import OFFERS, ids, range_app

PARTNERS_TOML = """
version = 1

[partners.francetravail]
kind = "rest"
base_url = "http://partner.test"
max_concurrency = 4

[partners.francetravail.entities.offer]
id = "id"
list = { path = "/offres/search", items = "resultats" }
pagination = { style = "range", param = "range", page_size = 10 }
filters.romeCodes = { param = "codeROME", join = "," }
fields.title = "intitule"
fields.romeCodes = "romeCode"
"""


def test_the_rest_kind_is_registered() -> None:
    assert kinds()["rest"] is rest.KIND
    assert rest.KIND.config is RestPartner
    assert rest.__all__ == ["KIND", "RestAdapter", "factory"]


async def test_a_partners_file_block_builds_a_working_adapter() -> None:
    partners = parse_partners(tomllib.loads(PARTNERS_TOML))
    app, _ = range_app()
    adapter = build_adapter(
        "francetravail", partners.partners["francetravail"], httpx.ASGITransport(app=app)
    )
    try:
        assert isinstance(adapter, rest.RestAdapter)
        assert isinstance(adapter, Adapter)
        page = await adapter.list(ListQuery("offer", {"romeCodes": ["F1201"]}, 100))
    finally:
        await adapter.aclose()

    assert ids(page.records) == [o["id"] for o in OFFERS if o["romeCode"] == "F1201"]
    assert page.records[0].owner.partner == "francetravail"
    assert app.seen[0].param("codeROME") == "F1201"


def test_the_factory_refuses_another_kinds_block() -> None:
    with pytest.raises(TypeError):
        rest.factory("x", PartnerBase(kind="sql"), None)
