"""Breakers recover fast once the partner is back, and back off while it stays down."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.config import BreakerPolicy
from sources.loop_lag import LoopLag
from sources.resilience import Breaker
from tests.gateway.hubkit import start_hub

pytestmark = pytest.mark.timed  # bounds in seconds: the heap is frozen around them

QUERY = """{ offers(filter: {departements: ["73"], sources: ["apprentissage"]}, first: 3)
  { edges { node { id } } } }"""


def codes(answer: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["extensions"]["code"] for e in answer.get("errors", [])]


async def test_each_failed_probe_doubles_the_wait_and_a_success_resets_it() -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=2, cool_down_s=0.05, max_cool_down_s=0.15))
    breaker.failure()
    assert breaker.state == "closed"
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    for expected in (0.1, 0.15, 0.15):  # doubled, then capped
        await asyncio.sleep(breaker.cool_down_s + 0.01)
        assert breaker.allow()  # the probe
        assert not breaker.allow()  # only one
        breaker.failure()
        assert breaker.state == "open"
        assert breaker.cool_down_s == pytest.approx(expected)
    await asyncio.sleep(breaker.cool_down_s + 0.01)
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.cool_down_s == 0.05


async def test_with_the_defaults_a_partner_back_is_used_again_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, partners=("apprentissage",))
    try:
        faults = hub.faults["apprentissage"]
        faults.set("html")
        for _ in range(5):  # the default threshold
            assert codes(await hub.query(QUERY)) == ["SOURCE_BAD_RESPONSE"]
        assert codes(await hub.query(QUERY)) == ["CIRCUIT_OPEN"]
        assert hub.app.state.registry.source("apprentissage").breaker.cool_down_s == 1.0
        faults.set("ok")
        back = time.monotonic()
        for _ in range(40):  # bounded: 2 s
            answer = await hub.query(QUERY)
            if not codes(answer):
                break
            await asyncio.sleep(0.05)
        assert codes(answer) == [] and answer["data"]["offers"]["edges"]
        assert time.monotonic() - back < 1.0 + 0.5  # the cool-down, then one query
    finally:
        await hub.aclose()


async def test_loop_lag_sees_a_stall_even_before_its_sampler_runs_again() -> None:
    lag = LoopLag(interval_s=0.02)
    lag.ensure_running()
    await asyncio.sleep(0.1)
    before = time.monotonic()
    assert lag.worst_since(before) < 0.1
    time.sleep(0.3)  # noqa: ASYNC251 (the point: the loop stalls)
    assert lag.worst_since(before) >= 0.25  # the tick overdue now
    await asyncio.sleep(0.05)
    assert lag.worst_since(before) >= 0.25  # the tick recorded late
    await asyncio.sleep(0.1)
    assert lag.worst_since(time.monotonic()) < 0.1  # caught up
    await lag.aclose()
