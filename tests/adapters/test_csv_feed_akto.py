"""The akto block of demo/partners.toml against the simulated OPCO exports (demo/akto.py)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import csv_feed
from adapters.feed import FeedAdapter
from adapters.feed_config import CsvFeedPartner
from adapters.types import ListQuery
from demo import akto
from demo.data import dataset
from demo.faults import FaultInjector
from tests.adapters.feed_partners import ManualClock

PARTNERS_FILE = Path(__file__).parents[2] / "demo" / "partners.toml"

COMPANIES = {
    e.siren: e for e in reversed(dataset().establishments()) if e.opco and e.idcc
}  # reversed: the first establishment of a SIREN wins, as in the export


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False  # the export writes a stand-in ("—" as "-")
    return True


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


Connect = Callable[..., FeedAdapter]


@pytest.fixture
async def connect(clock: ManualClock) -> AsyncIterator[Connect]:
    made: list[FeedAdapter] = []

    def build(app: Any) -> FeedAdapter:
        block = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))["partners"]["akto"]
        config = CsvFeedPartner.model_validate(block)
        adapter = csv_feed.create("akto", config, httpx.ASGITransport(app=app), clock=clock)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        await adapter.aclose()


async def test_companies_are_found_by_siren_with_their_idcc_and_opco(connect: Connect) -> None:
    app = akto.create_app()
    adapter = connect(app)
    sirens = sorted(COMPANIES)
    found = await adapter.lookup("organisation", "siren", [*sirens, "000000000"])
    assert sorted(found) == sirens
    for siren, (record,) in found.items():
        company = COMPANIES[siren]
        assert record.fields["idcc"] == company.idcc
        assert record.fields["opco"] == company.opco  # "Opco Mobilités" -> OPCO_MOBILITES
        assert record.provenance[0].partner_id == siren
    assert app.state.calls["entreprises"] == 1


async def test_accented_names_survive_the_latin1_export(connect: Connect) -> None:
    found = await connect(akto.create_app()).lookup("organisation", "siren", sorted(COMPANIES))
    accented = [
        s for s, c in COMPANIES.items() if any(ord(ch) > 127 for ch in c.name) and _latin1(c.name)
    ]
    assert len(accented) > 10
    for siren in accented:
        assert found[siren][0].fields["name"] == COMPANIES[siren].name


async def test_funding_levels_are_found_by_rncp_with_their_history(connect: Connect) -> None:
    app = akto.create_app()
    adapter = connect(app)
    rncps = sorted({p.rncp for p in dataset().programs})
    found = await adapter.lookup("training_program", "rncp", rncps)
    assert sorted(found) == rncps
    histories = 0
    for rncp, (record,) in found.items():
        assert record.fields["certification"]["rncp"] == rncp
        levels = record.fields["fundingLevels"]
        assert levels[0]["validFrom"] == "2023-04-01"
        assert all(level["opco"] == "AKTO" and level["amount"] > 5000 for level in levels)
        if len(levels) == 2:
            histories += 1
            assert levels[1]["validFrom"] == "2025-07-15"
            assert levels[1]["amount"] == pytest.approx(levels[0]["amount"] * 0.95, abs=0.01)
    assert 0 < histories < len(rncps)
    assert app.state.calls["niveaux"] == 1
    assert "rncp" in adapter.lookup_keys("training_program")


async def test_funding_levels_are_not_listed_as_programmes(connect: Connect) -> None:
    app = akto.create_app()
    adapter = connect(app)
    assert not adapter.listable("training_program") and adapter.listable("organisation")
    page = await adapter.list(ListQuery("training_program", {}, 100))
    assert page.records == [] and app.state.calls["niveaux"] == 0


async def test_both_exports_are_revalidated_with_304(connect: Connect, clock: ManualClock) -> None:
    app = akto.create_app()
    adapter = connect(app)
    await adapter.lookup("organisation", "siren", ["732829320"])
    await adapter.lookup("training_program", "rncp", ["RNCP36140"])
    clock.advance(901)  # refresh_s = 900
    await adapter.probe()
    assert (app.state.calls["entreprises"], app.state.calls["niveaux"]) == (2, 2)
    assert app.state.not_modified == 2


async def test_the_exports_down_leave_the_last_good_copy(
    connect: Connect, clock: ManualClock
) -> None:
    faulty = FaultInjector(akto.create_app(), retry_after_s=0)
    adapter = connect(faulty)
    siren = sorted(COMPANIES)[0]
    before = await adapter.lookup("organisation", "siren", [siren])
    faulty.set("unavailable")
    clock.advance(901)
    during = await adapter.lookup("organisation", "siren", [siren])
    assert during[siren][0].fields == before[siren][0].fields
    assert during[siren][0].provenance[0].from_cache


# -- the simulated partner itself -------------------------------------------------------------


async def test_the_exports_are_latin1_semicolon_csv_with_french_numbers() -> None:
    transport = httpx.ASGITransport(app=akto.create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://akto.test") as client:
        companies = await client.get(akto.COMPANIES_PATH)
        funding = await client.get(akto.FUNDING_PATH)
        again = await client.get(
            akto.FUNDING_PATH, headers={"If-None-Match": funding.headers["etag"]}
        )
    assert companies.headers["content-type"] == "text/csv; charset=ISO-8859-1"
    with pytest.raises(UnicodeDecodeError):
        companies.content.decode("utf-8")  # really Latin-1 bytes
    lines = companies.content.decode("latin-1").split("\r\n")
    assert lines[0] == "siren;raison_sociale;idcc;opco;date_maj"
    assert any(";Opco Mobilités;" in line for line in lines)
    rows = funding.content.decode("latin-1").split("\r\n")
    assert rows[0] == "code_rncp;intitule;niveau;niveau_prise_en_charge;date_effet"
    assert re.fullmatch(r"RNCP\d+;[^;]+;\d;\d \d{3},\d{2};\d{2}/\d{2}/\d{4}", rows[1])
    assert again.status_code == 304
