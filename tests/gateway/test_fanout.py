"""Fan-out per request: a partner-call budget, identical calls made once, one probe round."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gateway.settings import Settings
from resolvers import probes
from sources import budget
from sources.budget import PartnerCallBudget, RequestCalls
from sources.cache import HubCache
from tests.gateway.hubkit import Hub, start_hub

WITH_EMPLOYER_NAF = (
    '{ offers(first: 5, filter: {sources: ["apprentissage"], romeCodes: ["G1602"]}) '
    "{ edges { node { title employer { siret naf { code } } } } } }"
)


async def test_past_the_budget_fields_get_an_error_and_no_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(
        monkeypatch, settings=Settings(development=True, max_partner_calls_per_request=1)
    )
    try:
        answer = await hub.query(WITH_EMPLOYER_NAF)
        assert hub.calls("sirene") == 0  # the list took the one call; the look-up was not made
        [error] = answer["errors"]
        assert error["extensions"] == {"code": "PARTNER_CALL_BUDGET", "partner": "sirene"}
        assert error["message"] == (
            "sirene: this request made its 1 partner calls; the partner was not called"
        )
        edges = answer["data"]["offers"]["edges"]
        assert edges and all(e["node"]["employer"]["naf"] is None for e in edges)
        assert all(e["node"]["employer"]["siret"] for e in edges)  # what the offer embeds
        sirene = hub.app.state.registry.source("sirene")
        assert sirene.breaker.state == "closed"  # the partner did nothing wrong
        assert sirene.health.last_failure_at is None

        # A new request has a budget of its own; the list now comes from the cache (free).
        again = await hub.query(WITH_EMPLOYER_NAF)
        assert "errors" not in again, again.get("errors")
        assert hub.calls("sirene") == 1
    finally:
        await hub.aclose()


async def test_identical_list_calls_of_one_request_are_made_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No cache and no cross-request coalescing: only the request's own memo can share them.
    settings = Settings(development=True, cache_enabled=False, coalesce_partner_calls=False)
    hub = await start_hub(monkeypatch, settings=settings)
    try:
        one = 'offers(first: 5, filter: {sources: ["francetravail"]}) { edges { node { id } } }'
        await hub.query("{ " + one + " }")  # the OAuth token is fetched once, here
        before = hub.calls("francetravail")
        await hub.query("{ " + one + " }")
        single = hub.calls("francetravail") - before
        before = hub.calls("francetravail")
        answer = await hub.query("{ " + " ".join(f"a{i}: {one}" for i in range(5)) + " }")
        assert "errors" not in answer, answer.get("errors")
        assert len({str(v) for v in answer["data"].values()}) == 1
        assert hub.calls("francetravail") - before == single == 1
    finally:
        await hub.aclose()


def _count_probes(hub: Hub) -> dict[str, int]:
    """Counts each partner's probes, which still run (a spy, not a stand-in)."""
    counts: dict[str, int] = {}
    for source in hub.app.state.registry.sources:
        real: Callable[[], Awaitable[None]] = source.adapter.probe
        counts[source.partner] = 0

        async def counted(
            real: Callable[[], Awaitable[None]] = real, name: str = source.partner
        ) -> None:
            counts[name] += 1
            await real()

        source.adapter.probe = counted  # type: ignore[method-assign]
    return counts


async def test_aliased_probes_make_one_round_shared_for_seconds(hub: Hub) -> None:
    counts = _count_probes(hub)
    document = (
        "{ " + " ".join(f"p{i}: partners(probe: true) {{ id health }}" for i in range(30)) + " }"
    )
    answer = await hub.query(document)
    assert "errors" not in answer, answer.get("errors")
    assert counts == {name: 1 for name in counts}
    assert {s["health"] for s in answer["data"]["p29"]} == {"UP"}
    await hub.query(document)  # the next request, within the reuse window: the same round
    assert counts == {name: 1 for name in counts}
    probes.forget(hub.app.state.registry)
    await hub.query("{ partners(probe: true) { id } }")
    assert counts == {name: 2 for name in counts}


async def test_a_refusal_for_another_requests_budget_is_not_ours() -> None:
    """Two requests share one flight; the leader is out of budget: the other calls itself."""
    cache = HubCache.from_url("memory://", namespace="t")
    made: list[str] = []
    release = asyncio.Event()

    async def load() -> str:
        budget.spend("p")
        await release.wait()
        made.append("call")
        return "answer"

    async def request(calls: RequestCalls) -> Any:
        with budget.scoped(calls):
            return await budget.retry_if_not_ours(cache.single_flight, "k", ("same",), load)

    async def leader() -> Any:
        with budget.scoped(RequestCalls(0)):
            return await cache.single_flight("k", ("same",), load)

    spent = asyncio.ensure_future(leader())
    await asyncio.sleep(0)
    other = asyncio.ensure_future(request(RequestCalls(5)))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(PartnerCallBudget):
        await spent
    assert await other == "answer"
    assert made == ["call"]
    await cache.aclose()


async def test_outside_a_request_nothing_is_charged() -> None:
    assert budget.current() is None
    budget.spend("anyone")  # /readyz, the command line: no budget applies
