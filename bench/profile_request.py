"""One query, many times, in one process: the gateway and the demo's partners over ASGI, no
sockets, so a sampling profiler (py-spy) sees only the gateway's own work (bench/PROFILE.md).

    .venv/bin/py-spy record -r 500 -f raw -o q1.txt -- \
        .venv/bin/python -m bench.profile_request --mode warm --requests 2000

Modes: ``cold`` (cache off: every request calls the partner, in this process), ``warm``
(partner answers cached, response cache off: what executing the document costs), ``hit``
(response cache on: what serving a stored answer costs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import tomllib

import httpx

from adapters.partners_file import parse_partners
from bench.workloads import WORKLOADS
from demo.partner_servers import PARTNER_APPS
from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from gateway.app import create_app
from gateway.settings import Settings

MODES = {
    "cold": Settings(cache_enabled=False),
    "warm": Settings(response_cache=False),
    "hit": Settings(),
}


async def run(workload: str, mode: str, requests: int) -> None:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    chosen = WORKLOADS[workload]
    document = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    config = parse_partners(document)
    transports = {
        name: httpx.ASGITransport(app=factory())
        for name, factory in PARTNER_APPS.items()
        if name in config.partners
    }
    app = create_app(MODES[mode], config, transports)
    body = {"query": chosen.query, "variables": {"filter": chosen.filter}}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        first = await client.post("/graphql", json=body)
        assert first.status_code == 200 and "errors" not in first.json(), first.text
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            await client.post("/graphql", json=body)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await app.state.registry.aclose()
    await app.state.cache.aclose()
    print(
        f"{workload} {mode}: {requests} requests, {elapsed / requests * 1e3:.2f} ms each, "
        f"{cpu / requests * 1e3:.2f} ms of CPU"
    )


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.profile_request")
    cli.add_argument("--workload", default="Q1", choices=sorted(WORKLOADS))
    cli.add_argument("--mode", default="warm", choices=sorted(MODES))
    cli.add_argument("--requests", type=int, default=2000)
    args = cli.parse_args()
    asyncio.run(run(args.workload, args.mode, args.requests))


if __name__ == "__main__":
    main()
