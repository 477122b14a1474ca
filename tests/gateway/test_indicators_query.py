"""The ``indicators`` query (issue 9): published cells of the grid, as an analyst and as anyone.

Against the demo's personal owners (both ERPs in SQLite, Hub3E and AKTO checking the hub's
signed principal) and the demo identity provider's credentials. Expectations come from the
answers themselves and from the rules: no published count of young people is 1 to 10, a table
of positions adds up, the same question gives the same answer, a refused question calls no one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from demo.identity_provider import DemoIdentityProvider
from gateway.observatory import warm_up
from observatory.indicators import IndicatorCode, allowed_groupings
from tests.gateway.hubkit import Hub
from tests.gateway.personalkit import ask, personal_hub

INDICATORS = """query Indicators($codes: [IndicatorCode!]!, $groupBy: [Dimension!],
    $territory: TerritoryInput, $period: MonthPeriodInput) {
  indicators(codes: $codes, groupBy: $groupBy, territory: $territory, period: $period) {
    code groupBy departements partners computedAt fromCache period { from to }
    definition { label kind countsPeople groupings }
    cells { coordinates { dimension value } value numerator denominator suppressed reason }
  } }"""
AUDIT = """query($first: Int) { auditEvents(first: $first) { events {
  operation action entity detail recordRefs outcome } } }"""
PERIOD = {"from": "2025-06", "to": "2026-11"}


@pytest.fixture
def provider(tmp_path: Path) -> DemoIdentityProvider:
    return DemoIdentityProvider(tmp_path / "idp")


@pytest.fixture
async def hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> AsyncIterator[Hub]:
    started = await personal_hub(monkeypatch, tmp_path, provider)
    yield started
    await started.aclose()


def at(cell: dict[str, Any], dimension: str) -> str:
    return next(c["value"] for c in cell["coordinates"] if c["dimension"] == dimension)


async def test_anyone_gets_the_offers_of_the_pilot_territory_and_they_add_up(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(
        hub,
        provider,
        None,
        INDICATORS,
        codes=["OFFERS_ACTIVE"],
        groupBy=["DEPARTEMENT"],
        period=PERIOD,
    )
    assert "errors" not in answer, answer
    (table,) = answer["data"]["indicators"]
    assert table["groupBy"] == ["DEPARTEMENT"] and table["partners"] == ["hub3e"]
    assert table["definition"]["countsPeople"] is False
    cells = {at(c, "DEPARTEMENT"): c for c in table["cells"]}
    assert {"73", "74"} <= set(cells)
    parts = sum(c["value"] for node, c in cells.items() if node != "*")
    assert parts == cells["*"]["value"] > 0  # positions are published as counted: additive
    assert not any(c["suppressed"] for c in table["cells"])


async def test_an_indicator_of_young_people_is_the_observatorys_and_calls_no_one_else(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    before = hub.all_calls()
    for role in (None, "TRAINING_CENTRE", "ADMIN"):
        answer = await ask(
            hub, provider, role, INDICATORS, codes=["APPLICATIONS"], groupBy=["STATUS"]
        )
        assert answer["data"] is None, answer
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hub.all_calls() == before


async def test_the_analyst_gets_applications_with_no_published_cell_of_one_to_ten(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS", "PLACEMENT_RATE"],
        groupBy=["TRAINING_CENTRE"],
        period=PERIOD,
    )
    assert "errors" not in answer, answer
    applications, placement = answer["data"]["indicators"]
    assert applications["definition"]["countsPeople"] is True
    assert set(applications["partners"]) >= {"cfa-btp", "cfa-hotellerie"}
    published = [c for c in applications["cells"] if not c["suppressed"]]
    assert published and all(not 0 < c["value"] < 11 for c in published)
    assert all(c["value"] is None and c["reason"] for c in applications["cells"] if c["suppressed"])
    # A rate is the quotient of its published counts, over at least 20.
    for cell in placement["cells"]:
        if cell["suppressed"]:
            assert cell["value"] is None
            continue
        assert cell["denominator"] >= 20
        assert cell["value"] == pytest.approx(cell["numerator"] / cell["denominator"])
    # The rate's denominator is the APPLICATIONS cell itself: one fate, one value.
    counts = {at(c, "TRAINING_CENTRE"): c["value"] for c in applications["cells"]}
    for cell in placement["cells"]:
        assert cell["denominator"] == counts[at(cell, "TRAINING_CENTRE")]


async def test_the_same_question_gives_the_same_answer_from_the_aggregate_cache(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    first = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS"],
        groupBy=["STATUS"],
        period=PERIOD,
    )
    calls = hub.all_calls()
    second = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS"],
        groupBy=["STATUS"],
        period=PERIOD,
    )
    (one,), (two,) = first["data"]["indicators"], second["data"]["indicators"]
    assert one["cells"] == two["cells"] and one["fromCache"] is False and two["fromCache"]
    assert hub.all_calls() == calls  # the published table was served, nobody counted again
    # Another view of the same count shows its shared cells with the same fate and value.
    by_centre = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS"],
        groupBy=["TRAINING_CENTRE"],
        period=PERIOD,
    )
    total = [c for c in one["cells"] if at(c, "STATUS") == "*"]
    (other_total,) = [
        c for c in by_centre["data"]["indicators"][0]["cells"] if at(c, "TRAINING_CENTRE") == "*"
    ]
    assert total[0]["value"] == other_total["value"]


async def test_each_read_is_a_count_audit_event_naming_the_grid_never_a_value(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS"],
        groupBy=["STATUS"],
        period=PERIOD,
    )
    await ask(hub, provider, None, INDICATORS, codes=["OFFERS_ACTIVE"], period=PERIOD)
    events = (await ask(hub, provider, "ADMIN", AUDIT, first=20))["data"]["auditEvents"]
    counts = [e for e in events["events"] if e["action"] == "COUNT"]
    assert [(e["operation"], e["entity"], e["detail"]) for e in counts] == [
        (
            "Indicators",
            "indicator",
            "APPLICATIONS by=status period=2025-06..2026-11 departements=pilot",
        )
    ]  # the offers, which count no person, are nobody's business
    values = {str(c["value"]) for c in answer["data"]["indicators"][0]["cells"] if c["value"]}
    assert not any(value in str(counts) for value in values if len(value) > 2)


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"codes": ["APPLICATIONS"], "groupBy": ["STATUS", "LEVEL"]}, "groupBy"),
        ({"codes": ["TENSION_RATIO"], "groupBy": ["MONTH"]}, "groupBy"),
        ({"codes": ["OFFERS_ACTIVE"], "period": {"from": "2026-13", "to": "2026-12"}}, "period"),
        ({"codes": ["OFFERS_ACTIVE"], "period": {"from": "2026-06", "to": "2026-01"}}, "period"),
        ({"codes": ["OFFERS_ACTIVE"], "period": {"from": "2020-01", "to": "2026-01"}}, "period"),
        ({"codes": ["OFFERS_ACTIVE"], "territory": {"departements": ["38"]}}, "groupBy"),
        ({"codes": []}, "codes"),
        ({"codes": ["OFFERS_ACTIVE", "OFFERS_ACTIVE"]}, "codes"),
    ],
)
async def test_a_question_the_grid_does_not_offer_is_bad_input_and_calls_no_one(
    hub: Hub, provider: DemoIdentityProvider, variables: dict[str, Any], argument: str
) -> None:
    before = hub.all_calls()
    answer = await ask(hub, provider, "OBSERVATORY", INDICATORS, **variables)
    assert answer["data"] is None, answer
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert hub.all_calls() == before


async def test_a_territory_reads_the_cells_of_its_departements_from_the_grid(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    whole = await ask(
        hub,
        provider,
        None,
        INDICATORS,
        codes=["POSITIONS_OPEN"],
        groupBy=["DEPARTEMENT", "ROME_DOMAIN"],
        period=PERIOD,
    )
    savoie = await ask(
        hub,
        provider,
        None,
        INDICATORS,
        codes=["POSITIONS_OPEN"],
        groupBy=["ROME_DOMAIN"],
        territory={"departements": ["73"]},
        period=PERIOD,
    )
    (table,) = savoie["data"]["indicators"]
    assert table["groupBy"] == ["DEPARTEMENT", "ROME_DOMAIN"] and table["departements"] == ["73"]
    expected = [c for c in whole["data"]["indicators"][0]["cells"] if at(c, "DEPARTEMENT") == "73"]
    assert table["cells"] == expected and expected


async def test_the_warm_up_publishes_the_default_grid_so_the_first_reader_calls_no_one(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    published = await warm_up(hub.app.state.indicators, hub.app.state.identity.assertions)
    assert published == sum(len(allowed_groupings(code)) for code in IndicatorCode)
    calls = hub.all_calls()
    answer = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["PLACEMENT_RATE", "OFFERS_ACTIVE"],
        groupBy=["DEPARTEMENT"],
    )
    assert "errors" not in answer, answer
    assert all(table["fromCache"] for table in answer["data"]["indicators"])
    assert hub.all_calls() == calls


async def test_without_the_record_key_secret_positions_are_counted_and_people_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> None:
    # The demo's secrets are in the environment of whatever ran before (demo.secrets).
    monkeypatch.delenv("HUB_OBSERVATORY_KEY_SECRET", raising=False)
    hub = await personal_hub(monkeypatch, tmp_path, provider, development=False)
    try:
        offers = await ask(hub, provider, None, INDICATORS, codes=["OFFERS_ACTIVE"], period=PERIOD)
        people = await ask(
            hub, provider, "OBSERVATORY", INDICATORS, codes=["APPLICATIONS"], period=PERIOD
        )
    finally:
        await hub.aclose()
    assert "errors" not in offers, offers
    assert offers["data"]["indicators"][0]["cells"][0]["value"] > 0
    (error,) = people["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "HUB_OBSERVATORY_KEY_SECRET" in error["message"]


async def test_an_answer_is_not_kept_whole_by_the_response_cache(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """Published tables have their own cache (AGGREGATE, its TTL): a whole answer made from it
    has no partner input to bound its age, so the response cache keeps none (IndicatorResult
    holds AGGREGATE data, which it does not share), else it would keep it for a day."""
    for _ in range(3):  # counted; then from the AGGREGATE cache, twice
        answer = await ask(hub, provider, None, INDICATORS, codes=["OFFERS_ACTIVE"], period=PERIOD)
        assert "errors" not in answer, answer
        assert answer["extensions"]["cacheHit"] is False
    assert answer["data"]["indicators"][0]["fromCache"] is True


async def test_the_issues_walkthrough_domain_by_level_in_savoie(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """`indicators(codes, territory: {departements: ["73"]}, groupBy: [ROME_DOMAIN, LEVEL],
    period)`: the département × domain × level table of the grid, its 73 cells."""
    answer = await ask(
        hub,
        provider,
        "OBSERVATORY",
        INDICATORS,
        codes=["APPLICATIONS", "PLACEMENT_RATE"],
        groupBy=["ROME_DOMAIN", "LEVEL"],
        territory={"departements": ["73"]},
        period=PERIOD,
    )
    assert "errors" not in answer, answer
    for table in answer["data"]["indicators"]:
        assert table["groupBy"] == ["DEPARTEMENT", "ROME_DOMAIN", "LEVEL"]
        assert {at(c, "DEPARTEMENT") for c in table["cells"]} == {"73"}
        assert table["partners"] and table["computedAt"]
    applications, placement = answer["data"]["indicators"]
    assert any(c["suppressed"] for c in applications["cells"])
    assert all(not 0 < c["value"] < 11 for c in applications["cells"] if not c["suppressed"])
    for cell in placement["cells"]:
        if not cell["suppressed"]:
            assert cell["value"] == pytest.approx(cell["numerator"] / cell["denominator"])
