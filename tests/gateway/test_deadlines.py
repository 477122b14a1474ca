"""Deadlines that compose (issue 7, item 4; TEST-PLAN "Partner faults").

Each partner call gets at most what the request has left minus a margin, so a slow partner is a
partial answer before the request's deadline, whatever its own deadline says.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from adapters import deadline
from adapters.errors import SourceTimeout
from gateway.settings import Settings
from tests.gateway.hubkit import start_hub

pytestmark = pytest.mark.timed  # bounds in seconds: the heap is frozen around them

PROGRAMS = """{ trainingPrograms(first: 5) {
  edges { node { title provenance { partner } } } } }"""
OFFERS = """{ offers(filter: {departements: ["73"], sources: ["apprentissage"]}, first: 3)
  { edges { node { id } } } }"""


def codes(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("partner")) for e in answer.get("errors", [])
    ]


async def test_a_partner_whose_deadline_is_the_requests_gives_a_partial_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The regression: carif's deadline_s equals the request deadline (5 s in the demo); when it
    was slow, the whole answer was a 503 with no data. Scaled down to 2 s here."""
    hub = await start_hub(
        monkeypatch,
        partners=("apprentissage", "carif"),
        settings=Settings(development=True, cache_enabled=False, request_deadline_s=2.0),
        overrides={"carif": {"deadline_s": 2.0}},
    )
    try:
        hub.faults["carif"].set("slow", delay_s=10.0)
        started = time.monotonic()
        answer = await hub.query(PROGRAMS)  # asserts HTTP 200: not a 503
        elapsed = time.monotonic() - started
        assert elapsed < 2.0 + 0.3
        assert codes(answer) == [("SOURCE_TIMEOUT", "carif")]
        edges = answer["data"]["trainingPrograms"]["edges"]
        assert edges, "the other partner's programmes are there"
        assert {p["partner"] for e in edges for p in e["node"]["provenance"]} == {"apprentissage"}
    finally:
        await hub.aclose()


async def test_a_call_cut_short_by_the_requests_budget_is_not_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A partner given 0.75 s of its 2 s deadline, because the request had no more, did not
    fail: its breaker (one failure opens it) stays closed."""
    hub = await start_hub(
        monkeypatch,
        partners=("apprentissage",),
        settings=Settings(development=True, cache_enabled=False, request_deadline_s=1.0),
        overrides={"apprentissage": {"breaker": {"failure_threshold": 1, "cool_down_s": 30}}},
    )
    source = hub.app.state.registry.source("apprentissage")
    try:
        hub.faults["apprentissage"].set("slow", delay_s=5.0)
        for _ in range(2):
            started = time.monotonic()
            answer = await hub.query(OFFERS)
            assert time.monotonic() - started < 1.0
            assert codes(answer) == [("SOURCE_TIMEOUT", "apprentissage")]
            assert answer["errors"][0]["message"] == "apprentissage: no answer within 0.7 s"
        assert source.breaker.state == "closed"
        hub.faults["apprentissage"].set("ok")
        assert codes(await hub.query(OFFERS)) == []
    finally:
        await hub.aclose()


async def test_retry_after_is_honoured_only_within_the_requests_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 503 asking for 1 s fits the partner's 2 s deadline but not the 0.75 s the request
    leaves it: fail fast with SOURCE_UNAVAILABLE instead of sleeping into a timeout."""
    hub = await start_hub(
        monkeypatch,
        partners=("apprentissage",),
        settings=Settings(development=True, cache_enabled=False, request_deadline_s=1.0),
    )
    try:
        faults = hub.faults["apprentissage"]
        faults.set("unavailable", retry_after_s=1.0)
        started = time.monotonic()
        answer = await hub.query(OFFERS)
        assert time.monotonic() - started < 0.5
        assert codes(answer) == [("SOURCE_UNAVAILABLE", "apprentissage")]
        assert faults.faults == 1  # asked once, not again after a sleep
    finally:
        await hub.aclose()


async def test_no_time_left_means_no_partner_call(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(
        monkeypatch,
        partners=("apprentissage",),
        overrides={"apprentissage": {"breaker": {"failure_threshold": 1}}},
    )
    source = hub.app.state.registry.source("apprentissage")
    try:
        with deadline.within(1.0):
            assert 0.7 < source.granted_s() <= 0.75  # the request's 1 s minus the margin
        assert source.granted_s() == source.config.deadline_s  # outside any request
        before = hub.calls("apprentissage")
        with deadline.within(0.2), pytest.raises(SourceTimeout):  # less than the margin
            await source.call(source.adapter.probe)
        assert hub.calls("apprentissage") == before
        assert source.breaker.state == "closed"
    finally:
        await hub.aclose()
