"""The query cost limit: amplification refused at validation, examples answered, cost reported."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    parse,
)

from bench.workloads import ALL_WORKLOADS
from gateway.graphiql import EXAMPLE_QUERY
from gateway.settings import Settings
from resolvers.cost import model_for
from resolvers.cost_limit import QUERY_TOO_COMPLEX
from resolvers.schema import build_schema
from tests.gateway.hubkit import Hub, settled_heap, start_hub

README = Path(__file__).resolve().parents[2] / "README.md"
LIMIT = Settings().max_query_cost

# The queries of issue 7, as found: each froze the gateway or flooded a partner.
NESTED_OFFERS = (
    "{ offers(first:100) { edges { node { employer { offers(first:100) "
    "{ totalCount edges { node { title } } } } } } } }"
)
_PROGRAMMES = (
    "trainingPrograms(first:100){ edges { node { responsible { trainingPrograms(first:100) "
    "{ edges { node { title } } } } } } }"
)
ALIASED_PROGRAMMES = "{ " + " ".join(f"p{i}: {_PROGRAMMES}" for i in range(24)) + " }"
DATED_OFFERS = (
    "{ "
    + " ".join(
        f'o{i}: offers(filter: {{publishedSince: "2024-01-{i + 1:02d}T00:00:00Z"}}, first: 20) '
        "{ totalCount edges { node { title } } }"
        for i in range(30)
    )
    + " }"
)


def _readme_queries() -> list[str]:
    """Every GraphQL document the README shows in a command (the curl examples)."""
    found = re.findall(r'"query":\s*\n?\s*"(.*?)"\}\'', README.read_text(encoding="utf-8"), re.S)
    return [q.replace('\\"', '"') for q in found]


@pytest.mark.parametrize(
    "document",
    [NESTED_OFFERS, ALIASED_PROGRAMMES, DATED_OFFERS],
    ids=["nested-offers", "24-aliased-programmes", "30-dated-offers"],
)
async def test_amplification_is_refused_at_validation_without_any_partner_call(
    hub: Hub, document: str
) -> None:
    before = hub.all_calls()
    with settled_heap():
        started = time.perf_counter()
        answer = await hub.query(document)
        elapsed = time.perf_counter() - started
    assert answer.get("data") is None
    [error] = answer["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == QUERY_TOO_COMPLEX
    assert extensions["limit"] == LIMIT < extensions["cost"]
    assert answer["extensions"]["cost"] == {"requested": extensions["cost"], "limit": LIMIT}
    assert hub.all_calls() == before
    assert elapsed < 0.5  # refused before execution: milliseconds, with a loaded machine's margin


def test_the_readme_shows_example_queries() -> None:
    assert _readme_queries(), "the README's curl example moved: update _readme_queries"


async def test_readme_and_graphiql_examples_are_answered_with_their_cost(hub: Hub) -> None:
    for document in [*_readme_queries(), EXAMPLE_QUERY]:
        answer = await hub.query(document)
        assert "errors" not in answer, answer.get("errors")
        cost = answer["extensions"]["cost"]
        assert 0 < cost["requested"] <= cost["limit"] == LIMIT


@pytest.mark.parametrize("name", sorted(ALL_WORKLOADS))
def test_every_benchmark_workload_fits_the_default_limit_at_pages_of_500(name: str) -> None:
    workload = ALL_WORKLOADS[name]
    model = model_for(build_schema()._schema, 500, 100)
    assert model.cost(parse(workload.query), None, workload.variables()) <= LIMIT


def _cost(document: str, variables: dict[str, Any] | None = None) -> int:
    return model_for(build_schema()._schema, 100, 100).cost(parse(document), None, variables)


def test_cost_follows_first_aliases_fragments_and_variables() -> None:
    one = "{ offers(first: 10) { edges { node { title } } } }"
    assert _cost(one) == 100 + 10 * 2  # the call, then (edge + node) per element asked
    assert _cost("{ offers { edges { node { title } } } }") == 100 + 20 * 2  # first's default
    variable = "query($n: Int!) { offers(first: $n) { edges { node { title } } } }"
    assert _cost(variable, {"n": 10}) == _cost(one)
    assert _cost(variable, {"n": 50}) == 100 + 50 * 2
    assert _cost(variable, {"n": 50.0}) == 100 + 50 * 2  # graphql-core takes 50.0 as an Int
    entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Offer { title } } }"
    assert _cost(entities, {"r": [{}] * 7}) == 7 * (1 + 5)  # the union's object, a look-up
    assert _cost(entities, {"r": [{}] * 800}) == 100 * (1 + 5)  # past the bound: BAD_USER_INPUT
    page = "offers(first: 10) { edges { node { title } } }"
    two = f"{{ a: {page} b: {page} }}"
    assert _cost(two) == 2 * _cost(one)
    spread = (
        "{ offers(first: 10) { ...Page } } fragment Page on OfferConnection "
        "{ edges { node { ...Item } } } fragment Item on Offer { title }"
    )
    assert _cost(spread) == _cost(one)
    # per element, the look-up's weight stands for its object (employer: 5), naf adds 1
    nested = "{ offers(first: 10) { edges { node { employer { naf { code } } } } } }"
    assert _cost(nested) == 100 + 10 * (2 + 5 + 1)
    # a `first` past the page bound is BAD_USER_INPUT at execution, not a costlier query
    assert _cost("{ offers(first: 100000) { edges { node { title } } } }") == 100 + 100 * 2


async def test_first_out_of_range_stays_a_bad_user_input(hub: Hub) -> None:
    answer = await hub.query("{ offers(first: 100000) { edges { node { title } } } }")
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_fragment_cycle_is_refused_by_validation_not_by_the_cost(hub: Hub) -> None:
    before = hub.all_calls()
    answer = await hub.query(
        "{ offers { ...A } } fragment A on OfferConnection { edges { node { title } } ...B } "
        "fragment B on OfferConnection { ...A }"
    )
    assert answer["errors"]
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert hub.all_calls() == before


def test_every_list_of_objects_declares_its_size() -> None:
    """So a router prices each list as the hub does, never with a default of its own."""
    schema = build_schema()._schema
    sized_by_parent = {"edges"}  # the connections' `sizedFields`
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("_") or not isinstance(type_, GraphQLObjectType):
            continue
        for name, field in type_.fields.items():
            named = get_named_type(field.type)
            if not is_list_type(get_nullable_type(field.type)) or is_leaf_type(named):
                continue
            directives = field.extensions["strawberry-definition"].directives
            if name not in sized_by_parent | {"_entities"} and not any(
                type(d).__name__ == "ListSize" for d in directives
            ):
                missing.append(f"{type_.name}.{name}")
    assert missing == []


def test_the_printed_schema_carries_the_weights() -> None:
    printed = (README.parent / "schema.graphql").read_text(encoding="utf-8")
    assert '"@cost"' in printed and '"@listSize"' in printed
    assert re.search(
        r"offers\(filter: OfferFilter.*\): OfferConnection! @cost\(weight: 100\)", printed
    )


async def test_an_answer_over_the_response_bound_is_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(development=True, max_response_bytes=2048))
    try:
        document = "{ offers(first: 50) { edges { node { id title description } } } }"
        response = await hub.client.post("/graphql", json={"query": document})
        assert response.status_code == 200
        assert len(response.content) < 1024
        answer = response.json()
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"] == {"code": "RESPONSE_TOO_LARGE", "limit": 2048}
        small = await hub.query("{ offers(first: 1) { edges { node { id } } } }")
        assert "errors" not in small
    finally:
        await hub.aclose()


async def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(development=True, max_query_cost=100))
    try:
        refused = await hub.query("{ offers(first: 1) { edges { node { id } } } }")
        assert refused["errors"][0]["extensions"] == {
            "code": QUERY_TOO_COMPLEX,
            "cost": 102,
            "limit": 100,
        }
        answered = await hub.query('{ commune(inseeCode: "73065") { name } }')
        assert answered["extensions"]["cost"] == {"requested": 1, "limit": 100}
    finally:
        await hub.aclose()
