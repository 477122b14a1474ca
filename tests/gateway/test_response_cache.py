"""The response cache: whole answers of PUBLIC and REFERENCE documents, while inputs are fresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route

from adapters.types import DataClass
from gateway.graphql_view import HubGraphQL
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from resolvers.data_classes import holds
from resolvers.node import Node
from sources import freshness
from tests.gateway.hubkit import Hub, start_hub

OFFERS = """
query Offers($filter: OfferFilter, $first: Int!) {
  offers(filter: $filter, first: $first) {
    totalCount
    edges { node {
      id title publishedAt
      location { city }
      sources: provenance { partner fetchedAt cached: fromCache }
      ... on Offer { provenance { fromCache } }
    } }
  }
}"""
ONE_PARTNER = {"filter": {"sources": ["francetravail"], "departements": ["73"]}, "first": 20}


async def post(hub: Hub, document: str, variables: dict[str, Any] | None = None) -> bytes:
    response = await hub.client.post(
        "/graphql", json={"query": document, "variables": variables or {}}
    )
    assert response.status_code == 200, response.text
    return response.content


def cached_view(answer: dict[str, Any]) -> dict[str, Any]:
    """``answer``'s data as a cache serves it: every provenance entry says it came from cache."""
    edges = answer["data"]["offers"]["edges"]
    for edge in edges:
        node = edge["node"]
        node["sources"] = [{**p, "cached": True} for p in node["sources"]]
        node["provenance"] = [{"fromCache": True} for _ in node["provenance"]]
    return dict(answer["data"])


async def test_a_warm_identical_query_is_served_as_stored_without_any_partner_call(
    hub: Hub,
) -> None:
    cold = orjson.loads(await post(hub, OFFERS, ONE_PARTNER))
    assert cold["extensions"]["cacheHit"] is False
    assert cold["data"]["offers"]["edges"]
    calls = hub.all_calls()
    assert calls["francetravail"] > 0

    warm = await post(hub, OFFERS, ONE_PARTNER)
    again = await post(hub, OFFERS, ONE_PARTNER)
    assert hub.all_calls() == calls
    assert warm == again  # the same bytes
    hit = orjson.loads(warm)
    assert hit["extensions"]["cacheHit"] is True
    assert hit["data"] == cached_view(cold)

    # What executing the same selection from the partner cache gives (another operation name,
    # so another key): byte for byte the data the response cache served.
    executed = await post(hub, OFFERS.replace("query Offers(", "query OffersAgain("), ONE_PARTNER)
    assert orjson.loads(executed)["extensions"]["cacheHit"] is False
    assert orjson.dumps(orjson.loads(executed)["data"]) == orjson.dumps(hit["data"])
    assert hub.all_calls() == calls


async def test_spacing_and_comments_do_not_change_the_key(hub: Hub) -> None:
    await post(hub, OFFERS, ONE_PARTNER)
    calls = hub.all_calls()
    respaced = "# the same document\n" + " ".join(OFFERS.split())
    assert orjson.loads(await post(hub, respaced, ONE_PARTNER))["extensions"]["cacheHit"]
    assert hub.all_calls() == calls


async def test_a_different_variable_misses(hub: Hub) -> None:
    await post(hub, OFFERS, ONE_PARTNER)
    other = {**ONE_PARTNER, "filter": {"sources": ["francetravail"], "departements": ["74"]}}
    answer = orjson.loads(await post(hub, OFFERS, other))
    assert answer["extensions"]["cacheHit"] is False
    assert {e["node"]["location"]["city"] for e in answer["data"]["offers"]["edges"]}
    fewer = orjson.loads(await post(hub, OFFERS, {**ONE_PARTNER, "first": 5}))
    assert fewer["extensions"]["cacheHit"] is False
    assert len(fewer["data"]["offers"]["edges"]) == 5


async def test_an_answer_expires_with_its_least_fresh_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, overrides={"francetravail": {"cache": {"ttl_s": 0.5}}})
    try:
        await post(hub, OFFERS, ONE_PARTNER)
        first = hub.calls("francetravail")
        assert orjson.loads(await post(hub, OFFERS, ONE_PARTNER))["extensions"]["cacheHit"]
        await asyncio.sleep(0.6)
        late = orjson.loads(await post(hub, OFFERS, ONE_PARTNER))
        assert late["extensions"]["cacheHit"] is False
        assert hub.calls("francetravail") > first
    finally:
        await hub.aclose()


async def test_a_partial_answer_is_not_kept(hub: Hub) -> None:
    document = """{ offers(filter: {departements: ["73"], sources: ["apprentissage"]}, first: 5) {
      edges { node { title employer { name siret naf { code } } } } } }"""
    hub.faults["sirene"].set("unavailable")
    partial = orjson.loads(await post(hub, document))
    assert partial["errors"][0]["extensions"]["partner"] == "sirene"
    assert partial["extensions"]["cacheHit"] is False
    hub.faults["sirene"].set("ok")
    before = hub.calls("sirene")
    whole = orjson.loads(await post(hub, document))
    assert (whole["extensions"]["cacheHit"], "errors" in whole) == (False, False)
    assert hub.calls("sirene") > before  # the partial answer was not served again
    assert orjson.loads(await post(hub, document))["extensions"]["cacheHit"] is True


async def test_errors_and_live_partner_status_carry_cache_hit_false(hub: Hub) -> None:
    for _ in range(2):
        bad = orjson.loads(await post(hub, '{ organisation(siret: "123") { name } }'))
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert bad["extensions"]["cacheHit"] is False
        status = orjson.loads(await post(hub, "{ partners { id health } }"))
        assert status["extensions"]["cacheHit"] is False


async def test_reference_data_of_the_hub_itself_is_kept(hub: Hub) -> None:
    document = '{ commune(inseeCode: "73065") { name departement { name } } }'
    assert orjson.loads(await post(hub, document))["extensions"]["cacheHit"] is False
    hit = orjson.loads(await post(hub, document))
    assert hit == {
        "data": {"commune": {"name": "Chambéry", "departement": {"name": "Savoie"}}},
        "extensions": {"cost": {"requested": 2, "limit": 2500}, "cacheHit": True},
    }


async def test_no_answer_is_kept_when_the_cache_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for settings in (
        Settings(development=True, cache_enabled=False),
        Settings(development=True, response_cache=False),
    ):
        hub = await start_hub(monkeypatch, settings=settings)
        try:
            assert hub.app.state.responses is None
            counts = []
            for _ in range(2):
                answer = orjson.loads(await post(hub, OFFERS, ONE_PARTNER))
                assert answer["extensions"]["cacheHit"] is False
                counts.append(hub.calls("francetravail"))
            if not settings.cache_enabled:
                assert counts[1] > counts[0] > 0  # cold stays cold
        finally:
            await hub.aclose()


# -- PERSONAL data: a schema of its own, with a personal type -------------------------------


@holds(DataClass.PERSONAL)
@strawberry.type
class Candidate(Node):
    name: str


@strawberry.type
class Contract(Node):  # an entity that does not say its data class
    signed: bool


@holds(DataClass.PUBLIC)
@strawberry.type
class Notice(Node):
    text: str


CALLS: dict[str, int] = {}


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


@strawberry.type
class PersonalQuery:
    @strawberry.field
    def notice(self) -> Notice:
        _count("notice")
        return Notice(id=strawberry.ID("n1"), text="open day on Saturday")

    @strawberry.field
    def candidate(self) -> Candidate:
        _count("candidate")
        return Candidate(id=strawberry.ID("c1"), name="Camille Canary")

    @strawberry.field
    def contract(self) -> Contract:
        _count("contract")
        return Contract(id=strawberry.ID("k1"), signed=True)

    @strawberry.field
    def anything(self) -> Node:
        _count("anything")
        return Notice(id=strawberry.ID("n2"), text="an interface that a candidate implements")

    @strawberry.field
    def motto(self) -> str:
        # Public by its type, but it reads a PERSONAL partner answer: the registry's note wins.
        _count("motto")
        freshness.note(60.0, DataClass.PERSONAL)
        return "Savoie"


@pytest.fixture
async def personal(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    CALLS.clear()
    schema = strawberry.Schema(query=PersonalQuery, types=[Candidate, Contract, Notice])
    view = HubGraphQL(hub.app.state.registry, Settings(development=True), schema=schema)
    app = Starlette(routes=[Route("/graphql", view, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        yield client


async def twice(client: httpx.AsyncClient, document: str) -> list[bool]:
    hits = []
    for _ in range(2):
        response = await client.post("/graphql", json={"query": document})
        answer = response.json()
        assert "errors" not in answer, answer
        hits.append(answer["extensions"]["cacheHit"])
    return hits


async def test_a_public_document_of_that_schema_is_kept(personal: httpx.AsyncClient) -> None:
    assert await twice(personal, "{ notice { text } }") == [False, True]
    assert CALLS == {"notice": 1}


@pytest.mark.parametrize(
    ("document", "resolver"),
    [
        ("{ candidate { name } }", "candidate"),
        ("{ notice { text } candidate { id } }", "candidate"),
        ("{ ...Who } fragment Who on PersonalQuery { candidate { name } }", "candidate"),
        ("{ ... on PersonalQuery { candidate { id } } }", "candidate"),
        ("{ contract { signed } }", "contract"),  # an entity without a data class
        ("{ anything { id } }", "anything"),  # an interface a PERSONAL type implements
        ("{ motto }", "motto"),  # a PERSONAL input noted during execution
    ],
)
async def test_a_document_reaching_personal_data_is_never_kept(
    personal: httpx.AsyncClient, document: str, resolver: str
) -> None:
    assert await twice(personal, document) == [False, False]
    assert CALLS[resolver] == 2


async def test_the_scope_of_the_principal_is_part_of_the_key(hub: Hub) -> None:
    responses = hub.app.state.responses
    assert isinstance(responses, ResponseCache)
    keys = {
        responses.key(OFFERS, "Offers", ONE_PARTNER, scope)
        for scope in ("anonymous", "client:portal", "client:backoffice")
    }
    assert len(keys) == 3
    assert responses.key("mutation { x }", None, {}, "anonymous") is None
    assert responses.key("{ offers {", None, {}, "anonymous") is None


async def test_the_stored_bytes_count_towards_the_local_byte_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(development=True, cache_local_max_bytes=0))
    try:
        # No local tier and no Redis: nothing can be kept, every answer executes.
        for _ in range(2):
            answer = orjson.loads(await post(hub, OFFERS, ONE_PARTNER))
            assert answer["extensions"]["cacheHit"] is False
        assert hub.app.state.cache.local_bytes == 0
    finally:
        await hub.aclose()
