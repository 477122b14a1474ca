"""Two gateway replicas against one Redis: the second answers from the first one's work."""

from __future__ import annotations

import pytest
import redis

from gateway.settings import Settings
from tests.gateway.hubkit import start_hub

QUERY = """{ offers(filter: {departements: ["74"], romeCodes: ["G1602"]}, first: 30) {
  edges { node { id title employer { name } provenance { partner fromCache } } } } }"""


async def test_a_second_replica_answers_without_calling_any_partner(
    monkeypatch: pytest.MonkeyPatch, namespace: tuple[str, str]
) -> None:
    url, name = namespace
    # A generous Redis timeout: this test is about sharing, and a loaded CI machine can take
    # more than the production 50 ms for a round trip (the fail-open path is tested below).
    settings = Settings(
        development=True, cache_url=url, cache_namespace=name, cache_shared_timeout_s=2.0
    )
    first = await start_hub(monkeypatch, settings=settings)
    second = await start_hub(monkeypatch, settings=settings)
    try:
        cold = await first.query(QUERY)
        assert "errors" not in cold
        assert sum(first.all_calls().values()) > 0
        warm = await second.query(QUERY)
        assert warm["data"] == {
            "offers": {
                "edges": [
                    {
                        "node": {
                            **e["node"],
                            "provenance": [
                                {**p, "fromCache": True} for p in e["node"]["provenance"]
                            ],
                        }
                    }
                    for e in cold["data"]["offers"]["edges"]
                ]
            }
        }
        assert sum(second.all_calls().values()) == 0
        with redis.Redis.from_url(url) as client:
            keys = list(client.scan_iter(f"{name}:*"))
            assert keys
            for key in keys:
                assert client.ttl(key) > 0
                assert key.decode().rsplit(":", 1)[1].isalnum()
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_unreachable_the_gateway_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    hub = await start_hub(monkeypatch, settings=Settings(development=True, cache_url=closed))
    try:
        answer = await hub.query(QUERY)
        assert "errors" not in answer
        assert answer["data"]["offers"]["edges"]
        assert hub.app.state.cache.stats.shared_errors > 0
    finally:
        await hub.aclose()
