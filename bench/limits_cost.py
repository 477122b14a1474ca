"""What the request limits themselves cost: Q1, concurrency 1, with and without them.

    .venv/bin/python -m bench.limits_cost [--requests 400] [--rounds 7]

In one process, the demo's partners over ASGI: Q1 is executed warm (partner answers cached,
no response cache, so every request runs validation and execution) against one schema, one
registry, request by request alternately with the limits on (the query cost computed from
the schema's ``@cost``/``@listSize`` and checked, the partner-call budget made current) and
off (no cost limit, no budget). Validation itself is cached in both (``ValidationCache``), as
in the gateway. Reported: the median over ``--rounds`` of each side's mean time per request, their
difference (target: under 0.3 ms), and the cost computation alone, timed on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import tomllib
from typing import Any

import httpx
from graphql import parse

from adapters.partners_file import parse_partners
from bench.workloads import WORKLOADS
from demo.partner_servers import PARTNER_APPS
from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from resolvers.context import MAX_PARTNER_CALLS, MAX_QUERY_COST, Context
from resolvers.cost import model_for
from resolvers.schema import build_schema
from sources.budget import RequestCalls
from sources.cache import HubCache
from sources.registry import SourceRegistry

TARGET_MS = 0.3


async def measure(requests: int, rounds: int) -> dict[str, Any]:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    config = parse_partners(tomllib.loads(partners_file().read_text(encoding="utf-8")))
    transports = {
        name: httpx.ASGITransport(app=factory())
        for name, factory in PARTNER_APPS.items()
        if name in config.partners
    }
    cache = HubCache.from_url("memory://", namespace="bench")
    registry = SourceRegistry.from_partners(config, cache, transports)
    schema = build_schema()
    q1 = WORKLOADS["Q1"]
    variables = q1.variables()

    def context(limits: bool) -> Context:
        return Context(
            registry=registry,
            max_query_cost=MAX_QUERY_COST if limits else None,
            calls=RequestCalls(MAX_PARTNER_CALLS if limits else None),
        )

    async def one(limits: bool) -> None:
        result = await schema.execute(q1.query, variables, context_value=context(limits))
        assert not result.errors, result.errors

    for limits in (True, False):  # fills the caches; the first requests are not counted
        for _ in range(20):
            await one(limits)
    per_request: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        # Alternating request by request: a drift of the machine's load hits both sides alike.
        spent = {True: 0, False: 0}
        for i in range(2 * requests):
            limits = i % 2 == 0
            started = time.perf_counter_ns()
            await one(limits)
            spent[limits] += time.perf_counter_ns() - started
        for limits, total in spent.items():
            per_request[limits].append(total / requests / 1e6)

    model = model_for(schema._schema, 100, 100)
    document = parse(q1.query)
    repeat = 20_000
    began = time.perf_counter()
    for _ in range(repeat):
        model.cost(document, None, variables)
    cost_us = (time.perf_counter() - began) / repeat * 1e6

    await registry.aclose()
    await cache.aclose()
    with_ms = statistics.median(per_request[True])
    without_ms = statistics.median(per_request[False])
    return {
        "with_ms": with_ms,
        "without_ms": without_ms,
        "difference_ms": with_ms - without_ms,
        "cost_computation_us": cost_us,
        "cost_of_q1": model.cost(document, None, variables),
        "rounds": rounds,
        "requests_per_round": requests,
    }


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.limits_cost")
    cli.add_argument("--requests", type=int, default=400)
    cli.add_argument("--rounds", type=int, default=7)
    args = cli.parse_args()
    found = asyncio.run(measure(args.requests, args.rounds))
    met = "met" if found["difference_ms"] < TARGET_MS else "NOT met"
    print(
        f"Q1 warm, concurrency 1, {found['rounds']} rounds of {found['requests_per_round']}: "
        f"{found['with_ms']:.3f} ms with the limits, {found['without_ms']:.3f} ms without: "
        f"{found['difference_ms']:+.3f} ms per request (target < {TARGET_MS} ms: {met}); "
        f"the cost computation alone: {found['cost_computation_us']:.1f} µs "
        f"(Q1 costs {found['cost_of_q1']})"
    )


if __name__ == "__main__":
    main()
