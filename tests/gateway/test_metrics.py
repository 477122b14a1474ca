"""``/metrics`` a team can run on (issue 7, item 11): requests by operation kind and outcome,
partner calls by partner and outcome, cache hits by data class, cost, admission, the process;
and no request value in any label."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gateway import instrumentation
from gateway.request_metrics import outcome_of
from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.metrics_text import Samples, grown, label_values, samples, value

QUERY = """query Offers($s: [String!]) { offers(filter: {departements: ["73"],
  romeCodes: ["G1602"], sources: $s}, first: 5) { edges { node { id title } } } }"""


async def scrape(hub: Hub) -> Samples:
    response = await hub.client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


@contextlib.asynccontextmanager
async def hub_with(monkeypatch: pytest.MonkeyPatch, **settings: object) -> AsyncIterator[Hub]:
    hub = await start_hub(monkeypatch, settings=Settings(**settings))  # type: ignore[arg-type]
    try:
        yield hub
    finally:
        await hub.aclose()


def requests(scrape: Samples, operation: str, outcome: str) -> float:
    return value(scrape, "hub_requests_total", operation=operation, outcome=outcome)


async def test_requests_are_counted_and_timed_by_operation_kind_and_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with hub_with(monkeypatch, cache_enabled=False) as hub:
        before = await scrape(hub)
        await hub.query(QUERY, {"s": ["francetravail"]})
        hub.faults["apprentissage"].set("html")
        partial = await hub.query(QUERY, {"s": None})
        await hub.client.post("/graphql", json={"query": "{ nothingHere }"})
        await hub.client.post("/graphql", json={"query": "{ offers(first: 5000) { totalCount } }"})
        refused = await hub.client.post(
            "/graphql", content=b"x" * 70_000, headers={"content-type": "application/json"}
        )
        after = await scrape(hub)

    assert partial["data"]["offers"]["edges"] and partial["errors"]
    assert refused.status_code == 413
    assert grown(before, after, "hub_requests_total", operation="query", outcome="ok") == 1
    assert grown(before, after, "hub_requests_total", operation="query", outcome="partial") == 1
    assert grown(before, after, "hub_requests_total", operation="query", outcome="bad_request") == 2
    assert grown(before, after, "hub_requests_total", operation="other", outcome="bad_request") == 1
    timed = grown(
        before, after, "hub_request_duration_seconds_count", operation="query", outcome="ok"
    )
    assert timed == 1
    assert (
        grown(
            before,
            after,
            "hub_request_duration_seconds_bucket",
            operation="query",
            outcome="ok",
            le="+Inf",
        )
        == 1
    )
    assert grown(before, after, "hub_request_errors_total", code="SOURCE_BAD_RESPONSE") == 1
    assert grown(before, after, "hub_request_errors_total", code="BAD_USER_INPUT") == 1
    assert grown(before, after, "hub_request_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(after, "hub_requests_in_flight") == 0


async def test_a_request_past_its_deadline_is_counted_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A slow partner is a partial answer now (deadlines compose); a body that arrives after
    # the request's deadline is what still reaches the backstop.
    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"query": "{ partners { id } }"'
        await asyncio.sleep(1)
        yield b"}"

    async with hub_with(monkeypatch, cache_enabled=False, request_deadline_s=0.3) as hub:
        before = await scrape(hub)
        response = await hub.client.post(
            "/graphql", content=slow_body(), headers={"content-type": "application/json"}
        )
        after = await scrape(hub)

    assert response.status_code == 503
    assert (
        grown(before, after, "hub_requests_total", operation="other", outcome="deadline_exceeded")
        == 1
    )


async def test_an_answer_from_the_response_cache_is_an_ok_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with hub_with(monkeypatch) as hub:
        await hub.query(QUERY, {"s": ["francetravail"]})
        before = await scrape(hub)
        answer = await hub.query(QUERY, {"s": ["francetravail"]})
        after = await scrape(hub)

    assert answer["extensions"]["cacheHit"] is True
    assert grown(before, after, "hub_requests_total", operation="query", outcome="ok") == 1
    assert grown(before, after, "hub_response_cache_events_total", event="hits") == 1


async def test_partner_calls_are_timed_by_partner_and_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(
        monkeypatch,
        settings=Settings(cache_enabled=False),
        overrides={"apprentissage": {"breaker": {"failure_threshold": 1, "cool_down_s": 60}}},
    )
    try:
        before = await scrape(hub)
        await hub.query(QUERY, {"s": ["francetravail"]})
        hub.faults["apprentissage"].set("html")
        await hub.query(QUERY, {"s": ["apprentissage"]})  # fails, opens the breaker
        await hub.query(QUERY, {"s": ["apprentissage"]})  # refused by the open breaker
        after = await scrape(hub)
    finally:
        await hub.aclose()

    name = "hub_partner_call_duration_seconds_count"
    assert grown(before, after, name, partner="francetravail", outcome="ok") == 1
    assert grown(before, after, name, partner="apprentissage", outcome="SOURCE_BAD_RESPONSE") == 1
    assert grown(before, after, name, partner="apprentissage", outcome="CIRCUIT_OPEN") == 1
    spent = grown(
        before,
        after,
        "hub_partner_call_duration_seconds_sum",
        partner="francetravail",
        outcome="ok",
    )
    assert 0 < spent < 5


async def test_cache_hits_and_misses_are_counted_by_data_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without whole answers kept, the second query reads the partner's answer from the cache.
    async with hub_with(monkeypatch, response_cache=False) as hub:
        before = await scrape(hub)
        await hub.query(QUERY, {"s": ["francetravail"]})
        await hub.query(QUERY, {"s": ["francetravail"]})
        await hub.query('{ departement(code: "73") { name } }')
        after = await scrape(hub)

    lookups = "hub_cache_lookups_total"
    assert grown(before, after, lookups, data_class="PUBLIC", result="miss") == 1
    assert grown(before, after, lookups, data_class="PUBLIC", result="hit") == 1


async def test_process_runtime_and_mapping_families_are_exposed(hub: Hub) -> None:
    await hub.query(QUERY, {"s": ["francetravail"]})
    scraped = await scrape(hub)
    names = {name for name, _ in scraped}

    for family in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "python_gc_collections_total",
        "python_info",
        "hub_records_mapped_total",
        "hub_partner_breaker_state",
        "hub_cache_events_total",
    ):
        assert family in names, family
    assert value(scraped, "process_resident_memory_bytes") > 10 * 2**20
    assert not any(name.endswith("_created") for name in names)


async def test_cost_and_admission_hooks_reach_the_metrics(hub: Hub) -> None:
    waiting = {"n": 3}
    before = await scrape(hub)
    instrumentation.observe_cost(120)
    instrumentation.refused_overloaded("queue_full", 0.003)  # counts the rejection too
    instrumentation.admitted(0.04)
    instrumentation.watch_admission(lambda: 7, lambda: waiting["n"])
    after = await scrape(hub)

    assert grown(before, after, "hub_query_cost_count") == 1
    assert grown(before, after, "hub_query_cost_bucket", le="250.0") == 1
    assert grown(before, after, "hub_query_cost_bucket", le="100.0") == 0
    assert grown(before, after, "hub_admission_rejections_total", reason="queue_full") == 1
    full = {"decision": "queue_full"}
    assert grown(before, after, "hub_admission_seconds_bucket", le="0.005", **full) == 1
    assert grown(before, after, "hub_admission_seconds_bucket", le="0.001", **full) == 0
    assert grown(before, after, "hub_admission_seconds_bucket", le="0.05", decision="admitted") == 1
    assert (
        grown(
            before,
            after,
            "hub_request_duration_seconds_count",
            operation="other",
            outcome="overloaded",
        )
        == 1
    )
    assert value(after, "hub_admission_in_flight") == 7
    assert value(after, "hub_admission_queued") == 3


def test_a_request_refused_by_admission_control_is_overloaded() -> None:
    record, token = instrumentation.start_request()
    try:
        instrumentation.admission_rejected()
    finally:
        instrumentation.end_request(token)
    assert outcome_of(record, 503, None) == "overloaded"
    assert outcome_of(instrumentation.RequestRecord(), 503, "OVERLOADED") == "overloaded"
    assert outcome_of(instrumentation.RequestRecord(), 429, None) == "overloaded"
    assert outcome_of(instrumentation.RequestRecord(), 500, None) == "error"


def test_labels_stay_bounded_whatever_a_code_or_reason_looks_like() -> None:
    assert instrumentation.error_code("not a code") == "OTHER"
    assert instrumentation.error_code(42) == "OTHER"
    seen = {instrumentation.error_code(f"CODE_{n}") for n in range(200)}
    assert len(seen) <= instrumentation.MAX_VALUES_PER_LABEL + 1
    assert "OTHER" in seen


CANARY = "Zoe_Canary_7731"


async def test_no_request_value_reaches_a_label(monkeypatch: pytest.MonkeyPatch) -> None:
    async with hub_with(monkeypatch, cache_enabled=False) as hub:
        documents = [
            f'query {CANARY} {{ offers(filter: {{sources: ["{CANARY}"]}}, first: 1) '
            "{ totalCount } }",
            f'{{ organisation(siret: "{CANARY}") {{ name }} }}',
            f"{{ {CANARY} }}",
        ]
        await asyncio.gather(*(hub.client.post("/graphql", json={"query": d}) for d in documents))
        await hub.client.post(
            "/graphql",
            json={"query": QUERY, "variables": {"s": [CANARY]}, "operationName": "Offers"},
            headers={"x-request-id": CANARY},
        )
        text = (await hub.client.get("/metrics")).text

    assert CANARY not in text
    assert CANARY.upper() not in text
    assert "Offers" not in label_values(samples(text))
