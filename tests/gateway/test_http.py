"""The HTTP surface: GraphiQL, content types, body size, health, readiness, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub


async def test_graphiql_is_served_to_browsers_in_development(hub: Hub) -> None:
    response = await hub.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "OffersNearChambery" in response.text  # the example query is preloaded


async def test_production_settings_refuse_graphiql_get_and_introspection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(development=False))
    try:
        page = await hub.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code in (400, 404, 405)
        query = await hub.client.get("/graphql", params={"query": "{ partners { id } }"})
        assert query.status_code in (400, 404, 405)
        answer = await hub.query("{ __schema { types { name } } }")
        assert answer["errors"] and answer.get("data") is None
    finally:
        await hub.aclose()


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
async def test_non_json_posts_are_refused_before_execution(hub: Hub, content_type: str) -> None:
    before = hub.all_calls()
    response = await hub.client.post(
        "/graphql",
        content=b'{"query":"{ offers(first: 1) { edges { cursor } } }"}',
        headers={"content-type": content_type},
    )
    assert 400 <= response.status_code < 500
    assert hub.all_calls() == before


async def test_an_oversized_body_is_refused_with_413(hub: Hub) -> None:
    padding = "x" * (70 * 1024)
    response = await hub.client.post(
        "/graphql", json={"query": "{ partners { id } }", "variables": {"pad": padding}}
    )
    assert response.status_code == 413


async def test_invalid_json_is_a_4xx(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql", content=b'{"query": "{ partn', headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


async def test_health_readiness_and_metrics(hub: Hub) -> None:
    assert (await hub.client.get("/healthz")).json() == {"status": "ok"}
    ready = await hub.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert set(ready.json()["partners"]) == {"francetravail", "apprentissage", "sirene"}
    hub.faults["sirene"].set("unavailable")
    degraded = await hub.client.get("/readyz")
    assert degraded.status_code == 200  # partial answers are still answers
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["partners"]["sirene"] == "SOURCE_UNAVAILABLE"
    for fault in hub.faults.values():
        fault.set("unavailable", retry_after_s=0)
    down = await hub.client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    metrics = await hub.client.get("/metrics")
    assert 'hub_partner_calls_total{outcome="failure",partner="sirene"}' in metrics.text


async def test_the_request_deadline_is_a_backstop_answering_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A partner slower than the request is a partial answer (its call gets what the request
    has left); what no partner deadline covers, such as a client sending its body slowly, is
    cut by the backstop."""
    hub = await start_hub(
        monkeypatch,
        settings=Settings(development=True, request_deadline_s=0.5, deadline_margin_s=0.1),
        overrides={"francetravail": {"deadline_s": 5.0}},
    )
    try:
        hub.faults["francetravail"].set("slow", delay_s=3)
        response = await hub.client.post(
            "/graphql", json={"query": '{ offers(filter: {departements: ["73"]}) { totalCount } }'}
        )
        assert response.status_code == 200
        assert ("SOURCE_TIMEOUT", "francetravail") in [
            (e["extensions"]["code"], e["extensions"]["partner"]) for e in response.json()["errors"]
        ]

        async def slow_body() -> AsyncIterator[bytes]:
            yield b'{"query": "{ partners { id } }"'
            await asyncio.sleep(2)
            yield b"}"

        response = await hub.client.post(
            "/graphql", content=slow_body(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "DEADLINE_EXCEEDED"
    finally:
        await hub.aclose()


async def test_batched_operations_are_refused(hub: Hub) -> None:
    response = await hub.client.post(
        "/graphql", json=[{"query": "{ partners { id } }"}, {"query": "{ partners { id } }"}]
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "document",
    [
        "{ " + " ".join(f"a{i}: offers(first: 1) {{ totalCount }}" for i in range(40)) + " }",
        "{ offers(first: 1) { edges { node { employer { offers(first: 1) { edges { node { employer"
        " { offers(first: 1) { edges { node { employer { offers(first: 1) { edges { node { id }"
        " } } } } } } } } } } } } } } }",
        "{ partners { id " + "kind " * 6000 + "} }",
    ],
    ids=["aliases", "depth", "tokens"],
)
async def test_abusive_documents_are_rejected_before_any_partner_call(
    hub: Hub, document: str
) -> None:
    before = hub.all_calls()
    response = await hub.client.post("/graphql", json={"query": document})
    assert response.status_code in (200, 400)
    assert response.json()["errors"]
    assert response.json().get("data") is None
    assert hub.all_calls() == before
