"""Bad input gets a typed error and reaches no partner; a failing partner gives a partial answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.hubkit import Hub, start_hub

OFFERS = """query($filter: OfferFilter, $first: Int!, $after: String) {
  offers(filter: $filter, first: $first, after: $after) {
    edges { node { id title provenance { partner } } } } }"""


def only_error(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("errors"), answer
    assert len(answer["errors"]) == 1, answer["errors"]
    return answer["errors"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("document", "variables", "argument"),
    [
        ('{ organisation(siret: "73282932000075") { name } }', {}, "siret"),
        ('{ organisation(siret: "1234") { name } }', {}, "siret"),
        ('{ organisation(uai: "0731549A") { name } }', {}, "uai"),
        ('{ commune(inseeCode: "7306") { name } }', {}, "inseeCode"),
        ('{ certification(rncp: "RNCP1") { title } }', {}, "rncp"),
        (OFFERS, {"filter": {"romeCodes": ["G160"]}, "first": 5}, "filter.romeCodes"),
        (OFFERS, {"filter": {"departements": ["20"]}, "first": 5}, "filter.departements"),
        (OFFERS, {"filter": {"communes": ["ABCDE"]}, "first": 5}, "filter.communes"),
        (OFFERS, {"filter": {"levels": [9]}, "first": 5}, "filter.levels"),
        (
            OFFERS,
            {"filter": {"near": {"latitude": 45.5, "longitude": 5.9, "radiusKm": 201}}, "first": 5},
            "filter.near.radiusKm",
        ),
        (OFFERS, {"first": 101}, "first"),
        (OFFERS, {"first": 0}, "first"),
        (OFFERS, {"first": 5, "after": "not-a-cursor"}, "after"),
        (OFFERS, {"first": 5, "filter": {"sources": ["nobody"]}}, "filter.sources"),
        ('{ node(id: "Li4vZXRjL3Bhc3N3ZA") { id } }', {}, "id"),
    ],
)
async def test_bad_input_is_a_typed_error_and_calls_no_partner(
    hub: Hub, document: str, variables: dict[str, Any], argument: str
) -> None:
    before = hub.all_calls()
    error = only_error(await hub.query(document, variables))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert hub.all_calls() == before


async def test_an_invalid_siret_is_not_echoed_in_the_error(hub: Hub) -> None:
    error = only_error(await hub.query('{ organisation(siret: "73282932000075") { name } }'))
    assert "73282932000075" not in error["message"]
    assert "SIRET" in error["message"]


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("unavailable", "SOURCE_UNAVAILABLE"),
        ("bad_json", "SOURCE_BAD_RESPONSE"),
        ("html", "SOURCE_BAD_RESPONSE"),
    ],
)
async def test_a_failing_partner_gives_a_partial_answer_naming_it(
    hub: Hub, mode: str, code: str
) -> None:
    hub.faults["apprentissage"].set(mode)
    answer = await hub.query(OFFERS, {"filter": {"departements": ["73"]}, "first": 20})
    edges = answer["data"]["offers"]["edges"]
    assert edges, "francetravail's offers are still there"
    assert {e["node"]["provenance"][0]["partner"] for e in edges} == {"francetravail"}
    error = only_error(answer)
    assert error["extensions"] == {"code": code, "partner": "apprentissage"}
    assert "<html" not in error["message"].lower()


async def test_a_slow_partner_times_out_and_the_others_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, overrides={"francetravail": {"deadline_s": 0.3}})
    try:
        hub.faults["francetravail"].set("slow", delay_s=5)
        answer = await hub.query(OFFERS, {"filter": {"departements": ["73"]}, "first": 10})
        assert answer["data"]["offers"]["edges"]
        error = only_error(answer)
        assert error["extensions"] == {"code": "SOURCE_TIMEOUT", "partner": "francetravail"}
    finally:
        await hub.aclose()


async def test_a_down_sirene_leaves_employers_from_the_offer_itself(hub: Hub) -> None:
    hub.faults["sirene"].set("unavailable")
    answer = await hub.query(
        """{ offers(filter: {departements: ["73"], sources: ["apprentissage"]}, first: 5) {
             edges { node { employer { name siret naf { code } } } } } }"""
    )
    employers = [e["node"]["employer"] for e in answer["data"]["offers"]["edges"]]
    assert any(e and e["name"] for e in employers)
    assert answer["errors"][0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "partner": "sirene"}


async def test_partners_reports_each_source_with_its_health(hub: Hub) -> None:
    hub.faults["sirene"].set("unavailable")
    answer = await hub.query("{ partners(probe: true) { id kind entities health lastErrorCode } }")
    by_id = {p["id"]: p for p in answer["data"]["partners"]}
    assert set(by_id) == {"francetravail", "apprentissage", "sirene"}
    assert by_id["francetravail"]["health"] == "UP"
    assert by_id["sirene"]["health"] == "DOWN"
    assert by_id["sirene"]["lastErrorCode"] == "SOURCE_UNAVAILABLE"
    assert "offer" in by_id["apprentissage"]["entities"]
