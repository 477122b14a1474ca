"""The load driver: a separate process, so that its CPU is not the gateway's.

``python -m bench.driver SPEC.json`` runs one cell and prints its result as JSON. The spec says:

- ``kind``: ``graphql`` (POST a workload to ``/graphql`` of each target, round-robin),
  ``floor`` (replay a recorded plan of partner calls directly: each stage's calls in parallel,
  the stages one after the other, as the gateway must) or ``overload`` (:mod:`bench.overload`:
  accepted and refused answers under too many clients, then the time to recover);
- ``concurrency``: workers, each sending its next request when the last one is answered;
- ``warmup_s`` then ``duration_s`` (a timed cell), or ``requests`` (a fixed count of distinct
  variants, for the memory run);
- ``workload`` and ``first_variant`` (graphql), ``plan`` and ``client`` (floor; see
  ``CLIENTS``: the pool comparison replays one partner call with each HTTP client).

Latencies are ``time.perf_counter`` around each request, for the measured phase only. The
warm-up and the measured phase are separated by a barrier (no request in flight), and the
gateways' ``/metrics`` are read at both ends of the measured phase, so partner calls divided by
requests counts exactly the measured requests. The client is aiohttp: a lean pooled client that
leaves the CPU to the gateway.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.workloads import ALL_WORKLOADS

_CALLS = re.compile(r"^hub_partner_calls_total\{([^}]*)\} ([0-9.e+]+)$", re.MULTILINE)
_CACHE = re.compile(r'^hub_cache_events_total\{event="([a-z_]+)"\} ([0-9.e+]+)$', re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')
RECORDS_MAPPED = "hub_records_mapped_total"  # partner records mapped to the common syntax
_JSON = {"content-type": "application/json"}
_ERROR_KEY = b'"errors"'  # a key of the answer: inside a string its quotes would be escaped

Request = Callable[[aiohttp.ClientSession, int], Awaitable[str | None]]  # an error, or None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str | None = None

    def failed(self, message: str) -> None:
        self.errors += 1
        if self.error_sample is None:
            self.error_sample = message[:300]


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (q in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary_ms(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {}
    return {
        "min": ordered[0] * 1000,
        "p50": percentile(ordered, 50) * 1000,
        "p95": percentile(ordered, 95) * 1000,
        "p99": percentile(ordered, 99) * 1000,
        "max": ordered[-1] * 1000,
        "mean": sum(ordered) / len(ordered) * 1000,
    }


def records_mapped(text: str) -> dict[str, float] | None:
    """``hub_records_mapped_total`` per partner (summed over its other labels), or None when a
    gateway does not export the family: the column is then left empty, never shown as 0."""
    found: dict[str, float] | None = None
    for family in text_string_to_metric_families(text):
        if family.name not in (RECORDS_MAPPED, RECORDS_MAPPED.removesuffix("_total")):
            continue
        found = {} if found is None else found  # exported, if nothing mapped yet
        for sample in family.samples:
            if sample.name != RECORDS_MAPPED:
                continue  # a counter's _created
            partner = sample.labels.get("partner", "all")
            found[partner] = found.get(partner, 0.0) + sample.value
    return found


async def _metrics(session: aiohttp.ClientSession, targets: Sequence[str]) -> dict[str, Any]:
    calls: dict[str, float] = {}
    cache: dict[str, float] = {}
    mapped: dict[str, float] | None = None
    for target in targets:
        async with session.get(f"{target}/metrics") as response:
            text = await response.text()
        for labels, value in _CALLS.findall(text):
            partner = dict(_LABEL.findall(labels))["partner"]
            calls[partner] = calls.get(partner, 0.0) + float(value)
        for event, value in _CACHE.findall(text):
            cache[event] = cache.get(event, 0.0) + float(value)
        mapped_here = records_mapped(text) if "hub_records_mapped" in text else None
        if mapped_here is not None:
            mapped = mapped or {}
            for partner, count in mapped_here.items():
                mapped[partner] = mapped.get(partner, 0.0) + count
    return {"calls": calls, "cache": cache, "mapped": mapped}


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


def graphql_request(spec: dict[str, Any]) -> tuple[Request, list[str]]:
    workload = ALL_WORKLOADS[spec["workload"]]
    targets = [f"{t}/graphql" for t in spec["targets"]]
    fixed = workload.payload(spec.get("first_variant", 0))
    distinct = spec.get("requests") is not None
    rotation = itertools.cycle(targets)

    async def send(session: aiohttp.ClientSession, index: int) -> str | None:
        body = workload.payload(spec.get("first_variant", 0) + index) if distinct else fixed
        async with session.post(next(rotation), data=body, headers=_JSON) as response:
            content = await response.read()
            if response.status != 200:
                return f"HTTP {response.status}: {content[:200]!r}"
        if _ERROR_KEY in content:
            return _graphql_errors(content)
        return None

    return send, list(spec["targets"])


def _graphql_errors(content: bytes) -> str:
    """The errors of an answer, as ``CODE partner: message`` (the rare path: parsed)."""
    try:
        errors = orjson.loads(content).get("errors") or []
    except (orjson.JSONDecodeError, AttributeError):
        return content[:300].decode("utf-8", "replace")
    return "; ".join(
        f"{(e.get('extensions') or {}).get('code', '?')} {e.get('message', '')}" for e in errors[:3]
    )


CLIENTS = ("aiohttp", "httpx-default", "httpx-sized", "httpx-aiohttp")
"""Clients the floor can replay with: the driver's own aiohttp session, or an httpx client with
its default pool (100 connections, 20 kept alive), a pool sized to the concurrency (as the
gateway's ``make_client`` sizes it), or httpx over the aiohttp transport (``httpx-aiohttp``)."""


def _httpx_client(kind: str, size: int) -> httpx.AsyncClient:
    if kind == "httpx-default":
        return httpx.AsyncClient(trust_env=False)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    if kind == "httpx-sized":
        return httpx.AsyncClient(limits=limits, trust_env=False)
    if kind == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), trust_env=False)
    raise ValueError(f"unknown client {kind!r}; one of {', '.join(CLIENTS)}")


def floor_request(spec: dict[str, Any]) -> tuple[Request, Callable[[], Awaitable[None]]]:
    """Replay the plan's stages; returns the request and what closes its client."""
    stages = [
        [(c["method"], c["url"], c["headers"], c["body"].encode() or None) for c in stage]
        for stage in spec["plan"]
    ]
    kind = spec.get("client", "aiohttp")
    width = max((len(stage) for stage in stages), default=1)
    client = None if kind == "aiohttp" else _httpx_client(kind, int(spec["concurrency"]) * width)

    async def one(session: aiohttp.ClientSession, call: tuple[Any, ...]) -> str | None:
        method, url, headers, body = call
        if client is not None:
            response = await client.request(method, url, headers=headers, content=body)
            status = response.status_code
        else:
            async with session.request(method, url, headers=headers, data=body) as answer:
                await answer.read()
                status = answer.status
        if status >= 300:
            return f"{method} {url.split('?')[0]}: HTTP {status}"
        return None

    async def send(session: aiohttp.ClientSession, index: int) -> str | None:
        for stage in stages:
            errors = await asyncio.gather(*(one(session, call) for call in stage))
            failed = [e for e in errors if e]
            if failed:
                return failed[0]
        return None

    async def close() -> None:
        if client is not None:
            await client.aclose()

    return send, close


async def _phase(
    session: aiohttp.ClientSession,
    send: Request,
    concurrency: int,
    until: float | None,
    count: int | None,
    tally: Tally | None,
) -> tuple[float, int]:
    """Run workers until ``until`` (perf_counter) or ``count`` requests.

    Returns the elapsed seconds and the number of requests answered.
    """
    counter = itertools.count()
    answered = 0
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal answered
        while True:
            if until is not None and time.perf_counter() >= until:
                return
            index = next(counter)
            if count is not None and index >= count:
                return
            begin = time.perf_counter()
            try:
                error = await send(session, index)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            answered += 1
            if tally is not None:
                tally.latencies.append(time.perf_counter() - begin)
                if error:
                    tally.failed(error)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, answered


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    cpu_started = time.process_time()
    concurrency = int(spec["concurrency"])
    targets: list[str] = []
    close: Callable[[], Awaitable[None]] | None = None
    if spec["kind"] == "graphql":
        send, targets = graphql_request(spec)
    else:
        send, close = floor_request(spec)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout_s", 30)))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sample: dict[str, Any] = {}
        if spec["kind"] == "graphql" and not spec.get("requests"):
            sample = await _sample(session, spec)
        warmup, warmed = float(spec.get("warmup_s", 0)), 0
        if warmup and not spec.get("requests"):
            until = time.perf_counter() + warmup
            _, warmed = await _phase(session, send, concurrency, until, None, None)
        before = await _metrics(session, targets) if targets else None
        tally = Tally()
        phase_cpu = time.process_time()
        if spec.get("requests"):
            count = int(spec["requests"])
            elapsed, _ = await _phase(session, send, concurrency, None, count, tally)
        else:
            until = time.perf_counter() + float(spec["duration_s"])
            elapsed, _ = await _phase(session, send, concurrency, until, None, tally)
        phase_cpu = time.process_time() - phase_cpu
        after = await _metrics(session, targets) if targets else None
        if close is not None:
            await close()
    done = len(tally.latencies)
    result: dict[str, Any] = {
        "requests": done,
        "errors": tally.errors,
        "error_sample": tally.error_sample,
        "elapsed_s": elapsed,
        "rps": done / elapsed if elapsed else 0.0,
        "warmup_requests": warmed,
        "driver_cpu_s": time.process_time() - cpu_started,
        # the client's own cost per request, measured phase only (the pool comparison)
        "driver_cpu_ms_per_request": phase_cpu * 1000 / done if done else None,
        "latency_ms": summary_ms(tally.latencies),
        **sample,
    }
    if before is not None and after is not None:
        calls = _delta(after["calls"], before["calls"])
        result["partner_calls"] = calls
        result["calls_per_query"] = sum(calls.values()) / done if done else None
        result["cache_events"] = _delta(after["cache"], before["cache"])
        if before["mapped"] is not None and after["mapped"] is not None:
            mapped = _delta(after["mapped"], before["mapped"])
            result["records_mapped"] = mapped
            result["records_mapped_per_query"] = sum(mapped.values()) / done if done else None
    return result


async def _sample(session: aiohttp.ClientSession, spec: dict[str, Any]) -> dict[str, Any]:
    """One answer, parsed: how many items it holds (a sanity check of the workload)."""
    workload = ALL_WORKLOADS[spec["workload"]]
    url = f"{spec['targets'][0]}/graphql"
    async with session.post(url, data=workload.payload(0), headers=_JSON) as response:
        answer = orjson.loads(await response.read())
    connection = (answer.get("data") or {}).get(workload.root) or {}
    return {
        "items": len(connection.get("edges") or []),
        "total_count": connection.get("totalCount"),
        "sample_errors": [e.get("message") for e in answer.get("errors") or []][:3],
    }


def main(argv: Sequence[str]) -> int:
    spec = orjson.loads(Path(argv[0]).read_bytes())
    if spec["kind"] == "overload":
        from bench import overload

        result = asyncio.run(overload.run(spec))
    else:
        result = asyncio.run(run(spec))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
