"""The AGGREGATE cache in Redis (issue 9, item 4): two replicas against one Redis, the second
answers an analyst's indicators from the first one's published tables, and what Redis holds
is those published tables only — no count of 1 to 10 young people, no suppressed value, no
record, each entry with the AGGREGATE TTL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from demo.identity_provider import DemoIdentityProvider
from sources.cache import DataClass
from tests.gateway.personalkit import ask, personal_hub

INDICATORS = """query($codes: [IndicatorCode!]!, $groupBy: [Dimension!], $period: MonthPeriodInput)
{ indicators(codes: $codes, groupBy: $groupBy, period: $period) {
    code partners computedAt fromCache
    cells { coordinates { dimension value } value numerator denominator suppressed reason } } }"""
PERIOD = {"from": "2025-06", "to": "2026-11"}
THRESHOLD = 11  # the default HUB_OBSERVATORY_THRESHOLD


def stored_tables(url: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    """Each AGGREGATE entry of the namespace: its TTL and its payload (the published tables)."""
    found = []
    with redis.Redis.from_url(url) as client:
        for key in client.scan_iter(f"{name}:v*:indicator_measure:*"):
            raw = client.get(key)
            assert raw is not None
            _, _, payload = raw.partition(b"\n")  # framed by the cache: keep-until, then bytes
            found.append((client.ttl(key), orjson.loads(payload)))
    return found


async def test_a_second_replica_answers_an_analyst_from_redis_which_holds_only_published_cells(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, namespace: tuple[str, str]
) -> None:
    url, name = namespace
    provider = DemoIdentityProvider(tmp_path / "idp")
    # A generous Redis timeout: this test is about sharing, not about a loaded machine's 50 ms.
    shared = {"cache_url": url, "cache_namespace": name, "cache_shared_timeout_s": 2.0}
    first = await personal_hub(monkeypatch, tmp_path / "one", provider, **shared)
    second = await personal_hub(monkeypatch, tmp_path / "two", provider, **shared)
    variables = {"codes": ["APPLICATIONS", "PLACEMENT_RATE"], "groupBy": ["DEPARTEMENT"]}
    try:
        counted = await ask(first, provider, "OBSERVATORY", INDICATORS, **variables, period=PERIOD)
        assert "errors" not in counted, counted
        assert sum(first.all_calls().values()) > 0
        before = second.all_calls()
        answered = await ask(
            second, provider, "OBSERVATORY", INDICATORS, **variables, period=PERIOD
        )
        assert "errors" not in answered, answered
        assert second.all_calls() == before  # no owner asked: the tables came from Redis
        pairs = zip(counted["data"]["indicators"], answered["data"]["indicators"], strict=True)
        for one, two in pairs:
            assert one["fromCache"] is False and two["fromCache"] is True
            assert one["cells"] == two["cells"] and one["computedAt"] == two["computedAt"]
    finally:
        await first.aclose()
        await second.aclose()

    # A measure is kept with its whole grid (every table of it the grid offers), so Redis holds
    # the département × domain × level tables too, where the demo has cells of 1 to 10.
    entries = stored_tables(url, name)
    assert entries
    aggregate_ttl = first.app.state.cache.fresh_for(DataClass.AGGREGATE)
    published, suppressed = [], []
    for ttl, payload in entries:
        assert 0 < ttl <= aggregate_ttl
        for cells in payload["tables"].values():
            for _coordinates, value, reason in cells:
                (suppressed if reason is not None else published).append(value)
    assert published and suppressed
    assert all(value is None for value in suppressed)  # stored without its count
    assert all(value == 0 or value >= THRESHOLD for value in published)
    # Nothing else in the namespace: the counts behind the tables stayed in the process.
    with redis.Redis.from_url(url) as client:
        kinds = {key.decode().split(":")[2] for key in client.scan_iter(f"{name}:*")}
    assert kinds == {"indicator_measure"}
