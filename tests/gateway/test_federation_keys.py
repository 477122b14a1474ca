"""Every federation ``@key`` of the schema resolves through ``_entities``; a representation the
schema does not declare is BAD_USER_INPUT, never a Python message; the count is bounded and
the items of one partner and key are one batched call."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import Settings
from resolvers.federation import key_sets
from resolvers.offer import Offer
from resolvers.organisation import Organisation
from resolvers.training import TrainingProgram
from tests.gateway.hubkit import Hub, start_hub

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Offer { id title }
  ... on TrainingProgram { id title }
  ... on Organisation { id siret name }
} }"""


async def _known(hub: Hub) -> dict[str, Any]:
    answer = await hub.query(
        '{ offers(first: 1, filter: {sources: ["apprentissage"]}) { edges { node { id title '
        "employer { id siret name } } } } "
        "trainingPrograms(first: 1) { edges { node { id title } } } }"
    )
    assert "errors" not in answer, answer.get("errors")
    offer = answer["data"]["offers"]["edges"][0]["node"]
    program = answer["data"]["trainingPrograms"]["edges"][0]["node"]
    return {"offer": offer, "organisation": offer["employer"], "program": program}


def test_the_keys_tested_here_are_the_keys_the_schema_declares() -> None:
    declared = {
        (cls.__name__, tuple(sorted(k)))
        for cls in (Offer, TrainingProgram, Organisation)
        for k in key_sets(cls)
    }
    assert declared == {
        ("Offer", ("id",)),
        ("TrainingProgram", ("id",)),
        ("Organisation", ("id",)),
        ("Organisation", ("siret",)),
    }


async def test_every_declared_key_resolves(hub: Hub) -> None:
    known = await _known(hub)
    offer, organisation, program = known["offer"], known["organisation"], known["program"]
    representations = [
        {"__typename": "Offer", "id": offer["id"]},
        {"__typename": "TrainingProgram", "id": program["id"]},
        {"__typename": "Organisation", "id": organisation["id"]},
        {"__typename": "Organisation", "siret": organisation["siret"]},
    ]
    answer = await hub.query(ENTITIES, {"r": representations})
    assert "errors" not in answer, answer.get("errors")
    found = answer["data"]["_entities"]
    assert [f["__typename"] for f in found] == [r["__typename"] for r in representations]
    assert (found[0]["id"], found[0]["title"]) == (offer["id"], offer["title"])
    assert (found[1]["id"], found[1]["title"]) == (program["id"], program["title"])
    assert found[2]["siret"] == found[3]["siret"] == organisation["siret"]
    assert found[2]["id"] == found[3]["id"] == organisation["id"]


@pytest.mark.parametrize(
    ("representation", "rule"),
    [
        ({"__typename": "Organisation", "siret": "73282932000074", "id": "x"}, "found by"),
        ({"__typename": "Organisation", "uai": "0731549M"}, "found by"),
        ({"__typename": "Offer", "title": "x"}, "found by"),
        ({"__typename": "Offer"}, "found by"),
        ({"__typename": "Commune", "id": "x"}, "not an entity type"),
        ({"id": "x"}, "not an entity type"),
        ({"__typename": "Offer", "id": 5}, "non-empty strings"),
        ({"__typename": "Offer", "id": "not-an-id"}, "not an id of this hub"),
        ({"__typename": "Organisation", "siret": "123"}, "representations.siret"),
    ],
    ids=[
        "extra-key",
        "undeclared-key",
        "a-field-not-a-key",
        "no-key",
        "not-an-entity",
        "no-typename",
        "not-a-string",
        "foreign-id",
        "invalid-siret",
    ],
)
async def test_an_undeclared_or_malformed_representation_is_bad_user_input(
    hub: Hub, representation: dict[str, Any], rule: str
) -> None:
    before = hub.all_calls()
    answer = await hub.query(ENTITIES, {"r": [representation]})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert rule in error["message"]
    for python in ("unexpected keyword", "KeyError", "Traceback", "object has no attribute"):
        assert python not in error["message"]
    assert answer["data"]["_entities"] == [None]
    assert hub.all_calls() == before


async def test_an_id_of_another_type_is_bad_user_input(hub: Hub) -> None:
    program = (await _known(hub))["program"]
    answer = await hub.query(ENTITIES, {"r": [{"__typename": "Offer", "id": program["id"]}]})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not an id of Offer" in answer["errors"][0]["message"]


async def test_eight_hundred_representations_are_refused_before_any_partner_call(
    hub: Hub,
) -> None:
    before = hub.all_calls()
    representations = [{"__typename": "Organisation", "siret": "73282932000074"}] * 800
    answer = await hub.query(ENTITIES, {"r": representations})
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "representations"}
    assert "at most 100" in error["message"]
    assert hub.all_calls() == before


async def test_representations_of_one_partner_and_key_are_one_batched_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(
        monkeypatch,
        settings=Settings(development=True, max_entity_representations=800, max_query_cost=10_000),
    )
    try:
        answer = await hub.query(
            '{ offers(first: 100, filter: {sources: ["apprentissage"]}) '
            "{ edges { node { employer { siret } } } } }"
        )
        sirets = sorted({e["node"]["employer"]["siret"] for e in answer["data"]["offers"]["edges"]})
        assert len(sirets) > 10
        sirene = hub.partner_apps["sirene"].state.calls
        before = dict(sirene)
        representations = [{"__typename": "Organisation", "siret": s} for s in sirets] * 8
        found = await hub.query(ENTITIES, {"r": representations[:800]})
        assert "errors" not in found, found.get("errors")
        assert all(e["siret"] for e in found["data"]["_entities"])
        made = {k: v - before.get(k, 0) for k, v in sirene.items() if v != before.get(k, 0)}
        assert sum(made.values()) == 1, made  # one batch for every SIRET, repeats included
    finally:
        await hub.aclose()
