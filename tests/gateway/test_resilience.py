"""Breaker, bulkhead and single-flight, through the gateway against real partner apps."""

from __future__ import annotations

import asyncio

import pytest

from gateway.settings import Settings
from tests.gateway.hubkit import start_hub

QUERY = """query($s: [String!]) { offers(filter: {departements: ["73"], romeCodes: ["G1602"],
  sources: $s}, first: 5) { edges { node { id } } } }"""


def codes(answer: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(e["extensions"]["code"], e["extensions"]["partner"]) for e in answer.get("errors", [])]


async def test_the_breaker_opens_then_probes_then_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(
        monkeypatch,
        overrides={"apprentissage": {"breaker": {"failure_threshold": 2, "cool_down_s": 0.3}}},
    )
    try:
        faults = hub.faults["apprentissage"]
        faults.set("html")
        for _ in range(2):
            answer = await hub.query(QUERY, {"s": ["apprentissage"]})
            assert codes(answer) == [("SOURCE_BAD_RESPONSE", "apprentissage")]
        seen = hub.calls("apprentissage") + faults.faults
        answer = await hub.query(QUERY, {"s": ["apprentissage"]})
        assert codes(answer) == [("CIRCUIT_OPEN", "apprentissage")]
        assert hub.calls("apprentissage") + faults.faults == seen  # the partner was not called
        faults.set("ok")
        await asyncio.sleep(0.35)
        answer = await hub.query(QUERY, {"s": ["apprentissage"]})
        assert codes(answer) == []
        assert answer["data"]["offers"]["edges"]
        status = await hub.query("{ partners { id health } }")
        assert {"id": "apprentissage", "health": "UP"} in status["data"]["partners"]
    finally:
        await hub.aclose()


async def test_a_hung_partner_does_not_hold_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(
        monkeypatch, overrides={"francetravail": {"deadline_s": 0.4, "max_concurrency": 2}}
    )
    try:
        hub.faults["francetravail"].set("slow", delay_s=30)
        answers = await asyncio.gather(*(hub.query(QUERY, {"s": None}) for _ in range(10)))
        for answer in answers:
            assert answer["data"]["offers"]["edges"], "apprentissage still answers"
            assert ("SOURCE_TIMEOUT", "francetravail") in codes(answer)
    finally:
        await hub.aclose()


async def test_identical_cold_queries_make_one_partner_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Admission would refuse most of the 50 at once: this test is about coalescing.
    hub = await start_hub(monkeypatch, settings=Settings(development=True, max_in_flight=64))
    try:
        before = hub.calls("apprentissage")
        answers = await asyncio.gather(
            *(hub.query(QUERY, {"s": ["apprentissage"]}) for _ in range(50))
        )
        assert all(a["data"]["offers"]["edges"] for a in answers)
        assert hub.calls("apprentissage") - before == 1
    finally:
        await hub.aclose()
