"""The observatory, cold and warm: the whole grid extracted, and one ``indicators`` query.

    .venv/bin/python -m bench.observatory [--period 2025-09..2026-08] [--latency-ms 0]
        [--requests 50] [--steps extract,query,engine] [--wait-s 0] [--json FILE]

The demo's HTTP partners run in a child process (``demo.partner_servers.PartnerProcess``, on
free ports), so that what is timed and measured in this process is the gateway's own work: the
two ERPs are SQLite files in a temporary folder, read by this process as the gateway reads
them. The gateway is :func:`gateway.app.create_app` over the demo's partners file with the
demo identity provider's settings (production switches, in-process cache).

1. **Extract, cold**: a new gateway, the whole grid (``gateway.extract_cli.extract_with_app``,
   as ``alternance-hub extract`` runs it) into a temporary folder. Wall time, this process's
   CPU time, partner operations (the source layer's calls, ``hub_partner_call_duration_seconds``
   counts), the tables computed and not, the cells, and the peak RSS over the extract
   (``VmHWM`` after ``/proc/self/clear_refs`` resets it).
2. **One ``indicators`` query**: on another new gateway, through GraphQL (``POST /graphql`` over
   ASGI, the demo's OBSERVATORY token): the first request (cold: the owners counted, the cells
   published) and then ``--requests`` more (warm: the response cache or the AGGREGATE cache);
   and the same table at the engine (``gateway.observatory.read_table``) cold on a third
   gateway and warm.

To profile the steps alone (not the seeding of the ERPs): ``--wait-s 3`` prints this
process's id and pauses, so that ``py-spy record --pid`` can attach (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from demo.cfa_erp import seed_demo_databases
from demo.identity_provider import DemoIdentityProvider
from demo.partner_servers import DEFAULT_PORTS, PartnerProcess
from demo.run import demo_partners, partners_file
from demo.secrets import DEMO_SECRETS
from gateway.app import create_app
from gateway.extract_cli import close_app, extract_with_app, partner_calls
from gateway.observatory import read_table
from gateway.settings import Settings
from identity.assertions import AssertionSigner
from identity.principal import Principal, Role
from observatory.indicators import Dimension, IndicatorCode
from sources.indicators import IndicatorRequest, MonthRange
from store.migrate import upgrade_url

QUERY = """query($codes: [IndicatorCode!]!, $by: [Dimension!], $from: String!, $to: String!) {
  indicators(codes: $codes, groupBy: $by, period: {from: $from, to: $to}) {
    code groupBy partners computedAt
    cells { coordinates { dimension value } value numerator denominator suppressed reason }
  } }"""
ANALYST = Principal(Role.OBSERVATORY, "", "bench-observatory")


def _peak_rss_mb() -> float:
    """VmHWM of this process, in MB (ru_maxrss where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak_rss() -> bool:
    """Whether the high-water mark could be reset to the current RSS (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Bench:
    def __init__(self, folder: Path, ports: dict[str, int], provider: DemoIdentityProvider) -> None:
        self.folder = folder
        self.ports = ports
        self.provider = provider

    def gateway(self) -> Any:
        settings = Settings(development=False, **self.provider.settings())
        return create_app(settings, demo_partners(self.ports))

    async def extract(self, months: MonthRange) -> dict[str, Any]:
        app = self.gateway()
        out = Path(tempfile.mkdtemp(dir=self.folder, prefix="extract-"))
        calls, before, reset = partner_calls(), _rss_mb(), _reset_peak_rss()
        began, cpu = time.perf_counter(), time.process_time()
        try:
            outcome = await extract_with_app(
                app, ANALYST, months, out, partners_file().read_bytes(), stderr=io.StringIO()
            )
        finally:
            await close_app(app)
        seconds, cpu_s = time.perf_counter() - began, time.process_time() - cpu
        metadata = orjson.loads((out / "metadata.json").read_bytes())
        return {
            "tables": outcome.tables,
            "tables_computed": outcome.computed,
            "tables_not_computed": len(outcome.failed),
            "tables_partial": len(outcome.partial),
            "cells": metadata["files"]["cells.csv"]["rows"],
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_s, 2),
            "partner_operations": partner_calls() - calls,
            "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "peak_rss_is_the_extracts": reset,
            "csv_bytes": (out / "cells.csv").stat().st_size,
            "parquet_bytes": (out / "cells.parquet").stat().st_size,
        }

    async def query(
        self, months: MonthRange, code: IndicatorCode, by: tuple[Dimension, ...], requests: int
    ) -> dict[str, Any]:
        app = self.gateway()
        token = self.provider.credentials()["OBSERVATORY"]["token"]
        variables = {
            "codes": [str(code)],
            "by": [d.name for d in by],
            "from": f"{months.first:%Y-%m}",
            "to": f"{months.last:%Y-%m}",
        }
        body = {"query": QUERY, "variables": variables}
        headers = {"Authorization": f"Bearer {token}"}
        cells = 0
        failed: set[str] = set()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub.test", timeout=60
            ) as client:

                async def once() -> float:
                    nonlocal cells
                    began = time.perf_counter()
                    answer = await client.post("/graphql", json=body, headers=headers)
                    elapsed = time.perf_counter() - began
                    data = answer.json()
                    # A partial answer (an owner that cannot be counted) is an answer: its
                    # errors name the owner; no data at all is not.
                    assert answer.status_code == 200 and data.get("data"), answer.text[:500]
                    cells = len(data["data"]["indicators"][0]["cells"])
                    failed.update(e["extensions"].get("code") for e in data.get("errors", ()))
                    return elapsed

                calls = partner_calls()
                cold = await once()
                cold_calls = partner_calls() - calls
                warm = sorted([await once() for _ in range(requests)])
        finally:
            await close_app(app)
        return {
            "indicator": f"{code} by {','.join(d.value for d in by) or 'total'}",
            "cells": cells,
            "cold_ms": _ms(cold),
            "cold_partner_operations": cold_calls,
            "warm_p50_ms": _ms(statistics.median(warm)),
            "warm_max_ms": _ms(warm[-1]),
            "partial_answer_codes": sorted(failed),
        }

    async def engine(
        self, months: MonthRange, code: IndicatorCode, by: tuple[Dimension, ...], requests: int
    ) -> dict[str, Any]:
        app = self.gateway()
        request = IndicatorRequest(code, by, months)

        async def once() -> float:
            began = time.perf_counter()
            await read_table(app.state, ANALYST, request, operation="bench")
            return time.perf_counter() - began

        try:
            cold = await once()
            warm = sorted([await once() for _ in range(requests)])
        finally:
            await close_app(app)
        return {"cold_ms": _ms(cold), "warm_p50_ms": _ms(statistics.median(warm))}


async def _timed(label: str, step: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    result = await step()
    print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in result.items()), flush=True)
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    folder = Path(tempfile.mkdtemp(prefix="alternance-hub-bench-observatory-"))
    for name, dsn in (await seed_demo_databases(folder / "erp", None)).items():
        os.environ[name] = dsn
    provider = DemoIdentityProvider(folder / "idp")
    await asyncio.to_thread(upgrade_url, provider.settings()["database_url"])
    jwks = AssertionSigner.from_pem_file(provider.assertion_key_file).jwks()
    partners = PartnerProcess(
        dict.fromkeys(DEFAULT_PORTS, 0), latency_ms=args.latency_ms, assertion_jwks=jwks
    )
    ports = await asyncio.to_thread(partners.start, 60.0)
    months = MonthRange.parse(args.period)
    code = IndicatorCode(args.indicator)
    by = tuple(Dimension[name] for name in args.group_by.split(",") if name)
    bench = Bench(folder, ports, provider)
    steps: dict[str, tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = {
        "extract": ("extract, whole grid, cold", lambda: bench.extract(months)),
        "query": ("indicators query", lambda: bench.query(months, code, by, args.requests)),
        "engine": (
            "the same table at the engine",
            lambda: bench.engine(months, code, by, args.requests),
        ),
    }
    results: dict[str, Any] = {"period": str(months), "latency_ms": args.latency_ms}
    if args.wait_s:
        print(f"pid {os.getpid()}: steps in {args.wait_s:g} s (attach a profiler)", flush=True)
        await asyncio.sleep(args.wait_s)
    try:
        for name in args.steps.split(","):
            label, step = steps[name]
            results[name] = await _timed(label, step)
    finally:
        partners.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.observatory", description=__doc__)
    cli.add_argument("--period", default="2025-09..2026-08")
    cli.add_argument("--latency-ms", type=float, default=0.0, help="added to each partner answer")
    cli.add_argument("--requests", type=int, default=50, help="warm requests of the query")
    cli.add_argument("--indicator", default="OFFERS_ACTIVE")
    cli.add_argument("--group-by", default="DEPARTEMENT,ROME_DOMAIN", help="Dimension names")
    cli.add_argument("--steps", default="extract,query,engine", help="which, in this order")
    cli.add_argument("--wait-s", type=float, default=0.0, help="pause before the steps")
    cli.add_argument("--json", type=Path, help="also write the figures to this file")
    args = cli.parse_args()
    results = asyncio.run(run(args))
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
