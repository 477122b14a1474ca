"""The overload cell: far more clients than one gateway can serve, then how it recovers.

Run by the driver (``"kind": "overload"``): ``concurrency`` workers (200) send a cold query for
``duration_s``, each its next request as soon as the last is answered; every answer is sorted:

- **accepted**: 200 (``ok``; ``degraded`` when it holds errors, a partner timed out say);
- **refused**: 503 or 429 (admission control's answer: what must come back fast);
- **failed**: any other status, or no answer within the client's timeout.

Then the load stops and recovery is timed from that instant: the first request answered 200
without errors (one request at a time, every 50 ms), and the first scrape of ``/metrics`` where
every partner's breaker is closed (``hub_partner_breaker_state``). Both are bounded by
``recovery_timeout_s``; a recovery not seen by then is reported as missing, not as a figure.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.driver import summary_ms
from bench.workloads import ALL_WORKLOADS

_JSON = {"content-type": "application/json"}
_ERROR_KEY = b'"errors"'
PROBE_INTERVAL_S = 0.05


@dataclass
class Sorted:
    accepted: list[float] = field(default_factory=list)  # latencies, s
    degraded: int = 0
    refused: list[float] = field(default_factory=list)
    refused_by_status: dict[int, int] = field(default_factory=dict)
    failed: int = 0
    failure_sample: str | None = None


async def _load(
    session: aiohttp.ClientSession, url: str, body: bytes, concurrency: int, seconds: float
) -> tuple[Sorted, float]:
    tally = Sorted()
    until = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < until:
            began = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=_JSON) as response:
                    content = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.failed += 1
                tally.failure_sample = tally.failure_sample or type(error).__name__
                continue
            took = time.perf_counter() - began
            if status == 200:
                tally.accepted.append(took)
                tally.degraded += _ERROR_KEY in content
            elif status in (429, 503):
                tally.refused.append(took)
                tally.refused_by_status[status] = tally.refused_by_status.get(status, 0) + 1
            else:
                tally.failed += 1
                tally.failure_sample = tally.failure_sample or f"HTTP {status}"

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally, time.perf_counter() - started


async def _first_success(
    session: aiohttp.ClientSession, url: str, body: bytes, since: float, bound: float
) -> float | None:
    while time.perf_counter() - since < bound:
        try:
            async with session.post(url, data=body, headers=_JSON) as response:
                content = await response.read()
                if response.status == 200 and _ERROR_KEY not in content:
                    return time.perf_counter() - since
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(PROBE_INTERVAL_S)
    return None


async def _breakers_closed(
    session: aiohttp.ClientSession, target: str, since: float, bound: float
) -> float | None:
    while time.perf_counter() - since < bound:
        try:
            async with session.get(f"{target}/metrics") as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError):
            text = ""
        if text and all_closed(text):
            return time.perf_counter() - since
        await asyncio.sleep(PROBE_INTERVAL_S)
    return None


def all_closed(metrics: str) -> bool:
    """Whether every breaker of a scrape is closed (no breaker at all: closed)."""
    return all(
        sample.value == 1.0
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "hub_partner_breaker_state" and sample.labels.get("state") == "closed"
    )


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    target = spec["targets"][0]
    url = f"{target}/graphql"
    body = ALL_WORKLOADS[spec["workload"]].payload(0)
    bound = float(spec.get("recovery_timeout_s", 15))
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout_s", 30)))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tally, elapsed = await _load(
            session, url, body, int(spec["concurrency"]), float(spec["duration_s"])
        )
        stopped = time.perf_counter()
        first, closed = await asyncio.gather(
            _first_success(session, url, body, stopped, bound),
            _breakers_closed(session, target, stopped, bound),
        )
    answered = len(tally.accepted) + len(tally.refused) + tally.failed
    return {
        "requests": answered,
        "elapsed_s": elapsed,
        "accepted": len(tally.accepted),
        "accepted_rps": len(tally.accepted) / elapsed if elapsed else 0.0,
        "degraded": tally.degraded,
        "refused": len(tally.refused),
        "refused_by_status": {str(k): v for k, v in sorted(tally.refused_by_status.items())},
        "failed": tally.failed,
        "failure_sample": tally.failure_sample,
        "accepted_latency_ms": summary_ms(tally.accepted),
        "refused_latency_ms": summary_ms(tally.refused),
        "recovery_first_success_s": first,
        "recovery_breakers_closed_s": closed,
        "recovery_timeout_s": bound,
    }
