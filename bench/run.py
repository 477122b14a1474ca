"""``python -m bench``: start the demo's partners and gateways, measure every cell, report.

The run, in order (each cell is one driver process against fresh or warmed gateways):

1. floor: each workload's partner calls, recorded once through the gateway, replayed directly;
2. cold: one gateway, ``HUB_CACHE_ENABLED=false`` (every query goes to the partners);
3. cold, aiohttp: the same with ``HUB_HTTP_TRANSPORT=aiohttp`` (the transport comparison);
4. warm, memory: one gateway, the in-process tier (default settings), after a warm-up;
5. warm, Redis: one gateway, Redis db 15 alone (``HUB_CACHE_LOCAL_MAX_ENTRIES=0``);
6. warm, 2 workers: two gateways sharing Redis db 15 (both tiers), the driver round-robins;
7. memory: 10,000 then 10,000 more distinct queries to a cache-on gateway, RSS after each.

Results go to ``bench/results/latest.json`` and ``latest.md``; ``--readme`` also writes the
table into README.md's "## Benchmark" section.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import floor, report, stack
from bench.workloads import WORKLOADS

RESULTS = Path(__file__).resolve().parent / "results"
REDIS_URL = "redis://127.0.0.1:6379/15"  # db 15 only: flushed before each Redis mode


@dataclass(frozen=True)
class Mode:
    name: str
    title: str
    gateways: int
    settings: dict[str, str]
    redis: bool = False


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("cold", "cold (cache off)", 1, {"HUB_CACHE_ENABLED": "false"}),
        Mode(
            "cold-aiohttp",
            "cold, aiohttp transport",
            1,
            {"HUB_CACHE_ENABLED": "false", "HUB_HTTP_TRANSPORT": "aiohttp"},
        ),
        Mode("warm-memory", "warm, in-process tier", 1, {"HUB_CACHE_URL": "memory://"}),
        Mode(
            "warm-redis",
            "warm, Redis only",
            1,
            {"HUB_CACHE_URL": REDIS_URL, "HUB_CACHE_LOCAL_MAX_ENTRIES": "0"},
            redis=True,
        ),
        Mode("warm-2workers", "warm, 2 workers + Redis", 2, {"HUB_CACHE_URL": REDIS_URL}, True),
    )
}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    cli = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    cli.add_argument("--quick", action="store_true", help="short cells (2 s), 1,000 memory queries")
    cli.add_argument("--duration", type=float, default=6.0, help="measured seconds per cell")
    cli.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per cell")
    cli.add_argument("--latency-ms", type=float, default=20.0, help="added to each partner answer")
    cli.add_argument("--concurrency", default="1,32", help="comma-separated, e.g. 1,32")
    cli.add_argument("--workloads", default=",".join(WORKLOADS))
    cli.add_argument(
        "--modes",
        default="floor," + ",".join(MODES) + ",memory",
        help="comma-separated subset of: floor, " + ", ".join(MODES) + ", memory",
    )
    cli.add_argument("--memory-queries", type=int, default=10_000)
    cli.add_argument(
        "--no-partner-memo",
        action="store_true",
        help="the partners render every answer (their CPU then competes with the gateway's)",
    )
    cli.add_argument("--port-offset", type=int, default=stack.PORT_OFFSET)
    cli.add_argument("--output", type=Path, default=RESULTS / "latest")
    cli.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = cli.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = min(args.duration, 2.0), min(args.warmup, 1.0)
        args.memory_queries = min(args.memory_queries, 1_000)
    return args


def machine() -> dict[str, Any]:
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        total_kib = int(info.readline().split()[1])
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=stack.ROOT,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit or None,
    }


def _loadavg() -> float:
    return os.getloadavg()[0]


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.cells: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.concurrencies = [int(c) for c in args.concurrency.split(",") if c]
        self.workloads = [WORKLOADS[w] for w in args.workloads.split(",") if w]
        self._specs = 0

    def drive(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One driver process; returns its JSON result."""
        self._specs += 1
        path = self.work / f"spec-{self._specs}.json"
        path.write_bytes(orjson.dumps(spec))
        done = subprocess.run(
            [sys.executable, "-m", "bench.driver", str(path)],
            cwd=stack.ROOT,
            capture_output=True,
            check=False,
            timeout=float(spec.get("duration_s", 0)) + float(spec.get("warmup_s", 0)) + 600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"driver failed: {done.stderr.decode()[-2000:]}")
        result: dict[str, Any] = orjson.loads(done.stdout)
        return result

    def timing(self) -> dict[str, Any]:
        return {"duration_s": self.args.duration, "warmup_s": self.args.warmup}

    def record(self, mode: str, workload: str, concurrency: int, result: dict[str, Any]) -> None:
        cell = {"mode": mode, "workload": workload, "concurrency": concurrency, **result}
        self.cells.append(cell)
        print(report.progress_line(cell), flush=True)

    # -- the floor -------------------------------------------------------------------------

    def floors(self, partners_file: Path) -> None:
        for workload in self.workloads:
            plan = asyncio.run(floor.record_plan(partners_file, workload))
            calls = sum(len(stage) for stage in plan)
            for concurrency in self.concurrencies:
                spec = {
                    "kind": "floor",
                    "plan": floor.plan_to_json(plan),
                    "concurrency": concurrency,
                    **self.timing(),
                }
                loadavg = _loadavg()
                result = self.drive(spec)
                result.update(
                    http_calls_per_query=calls,
                    stages=len(plan),
                    plan=floor.describe(plan),
                    loadavg=loadavg,
                )
                self.record("floor", workload.name, concurrency, result)

    # -- gateways --------------------------------------------------------------------------

    def gateway_mode(self, mode: Mode, partners_file: Path, env: dict[str, str]) -> None:
        if mode.redis and not flush_redis():
            self.notes.append(f"{mode.name}: skipped, no Redis answering at {REDIS_URL}")
            return
        with stack.gateways(
            mode.gateways, partners_file, env, mode.settings, self.gateway_port
        ) as gateways:
            for workload in self.workloads:
                for concurrency in self.concurrencies:
                    self.gateway_cell(mode, gateways, workload.name, concurrency)

    def gateway_cell(
        self, mode: Mode, gateways: list[stack.Gateway], workload: str, concurrency: int
    ) -> None:
        spec = {
            "kind": "graphql",
            "targets": [g.url for g in gateways],
            "workload": workload,
            "concurrency": concurrency,
            **self.timing(),
        }
        cpu_before = sum(g.cpu_seconds() for g in gateways)
        calls_before = sum(sum(g.partner_calls().values()) for g in gateways)
        loadavg = _loadavg()
        result = self.drive(spec)
        cpu = sum(g.cpu_seconds() for g in gateways) - cpu_before
        calls_all = sum(sum(g.partner_calls().values()) for g in gateways) - calls_before
        memories = [g.memory() for g in gateways]
        served = result["requests"] + result.get("warmup_requests", 0) + 1
        result.update(
            gateway_cpu_ms_per_request=cpu * 1000 / served,
            # warm-up included: in a warm mode, the calls that filled the cache
            partner_calls_with_warmup=calls_all,
            rss_mib=max(m["VmRSS"] for m in memories) / 1024,
            peak_rss_mib=max(m["VmHWM"] for m in memories) / 1024,
            loadavg=loadavg,
        )
        self.record(mode.name, workload, concurrency, result)

    @property
    def gateway_port(self) -> int:
        offset: int = self.args.port_offset
        return stack.GATEWAY_PORT + offset - stack.PORT_OFFSET

    # -- memory after many distinct queries ------------------------------------------------

    def memory(self, partners_file: Path, env: dict[str, str]) -> dict[str, Any]:
        count = self.args.memory_queries
        workload = "Q1"
        settings = {"HUB_CACHE_URL": "memory://"}
        with stack.gateways(1, partners_file, env, settings, self.gateway_port) as (gateway,):
            steps: list[dict[str, Any]] = []

            def step(label: str, result: dict[str, Any] | None) -> None:
                memory = gateway.memory()
                row = {
                    "after": label,
                    "rss_mib": memory["VmRSS"] / 1024,
                    "peak_rss_mib": memory["VmHWM"] / 1024,
                }
                if result is not None:
                    row.update(
                        requests=result["requests"],
                        errors=result["errors"],
                        rps=result["rps"],
                        cache_events=result.get("cache_events", {}),
                        calls_per_query=result.get("calls_per_query"),
                    )
                steps.append(row)
                print(f"memory: {report.memory_line(row)}", flush=True)

            base = {"kind": "graphql", "targets": [gateway.url], "workload": workload}
            warm = self.drive({**base, "concurrency": 4, "requests": 50, "first_variant": 1})
            step("50 warm-up queries", warm)
            for batch in (1, 2):
                spec = {
                    **base,
                    "concurrency": 32,
                    "requests": count,
                    "first_variant": 100 + (batch - 1) * count,
                }
                step(f"{batch * count:,} distinct queries", self.drive(spec))
        return {
            "workload": workload,
            "queries_per_batch": count,
            "local_max_entries": int(os.environ.get("HUB_CACHE_LOCAL_MAX_ENTRIES", 10_000)),
            "steps": steps,
        }


def flush_redis() -> bool:
    """FLUSHDB of db 15 only (the benchmark's own database); False when Redis is absent."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.flushdb()
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False
    return True


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="alternance-hub-bench-") as work:
        yield Path(work)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - {"floor", "memory", *MODES})
    if unknown:
        print(f"unknown modes: {', '.join(unknown)}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    clock = time.monotonic()
    with _workdir() as work:
        runner = Runner(args, work)
        partners_file = stack.write_partners_file(work, args.port_offset)
        env = stack.gateway_environment(work / "data")
        # record_plan runs a gateway in this process: it reads the same secrets and DSNs
        os.environ.update(env)
        memory_run: dict[str, Any] | None = None
        load_start = _loadavg()
        with stack.partners(args.latency_ms, args.port_offset, not args.no_partner_memo):
            for mode in modes:
                if mode == "floor":
                    runner.floors(partners_file)
                elif mode == "memory":
                    memory_run = runner.memory(partners_file, env)
                else:
                    runner.gateway_mode(MODES[mode], partners_file, env)
    results = {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": round(time.monotonic() - clock, 1),
        "machine": machine(),
        "settings": {
            "latency_ms": args.latency_ms,
            "partner_memo": not args.no_partner_memo,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": runner.concurrencies,
            "quick": args.quick,
            "loadavg_start": load_start,
            "loadavg_end": _loadavg(),
        },
        "workloads": {
            w.name: {"title": w.title, "filter": w.filter, "page": w.page} for w in runner.workloads
        },
        "modes": {name: MODES[name].title for name in modes if name in MODES},
        "cells": runner.cells,
        "memory": memory_run,
        "notes": runner.notes,
    }
    markdown = report.markdown(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n"
    )
    args.output.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print()
    print(markdown)
    if args.readme:
        report.update_readme(stack.ROOT / "README.md", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
