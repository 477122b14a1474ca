"""``python -m bench``: start the demo's partners and gateways, measure every cell, report.

The run, in order (each cell is one driver process against fresh or warmed gateways):

1. floor: each workload's partner calls, recorded once through the gateway, replayed directly;
   pool: Q1's partner call replayed by each HTTP client (httpx default, sized, aiohttp);
2. cold: one gateway, ``HUB_CACHE_ENABLED=false`` (every query goes to the partners), over
   httpx's own pool (``HUB_HTTP_TRANSPORT=httpx``);
3. cold, aiohttp: the same over the aiohttp transport, the gateway's default (the comparison);
4. warm, memory: one gateway, the in-process tier (default settings), after a warm-up;
5. warm, Redis: one gateway, Redis db 15 alone (``HUB_CACHE_LOCAL_MAX_BYTES=0``);
6. warm, 2 workers: two gateways sharing Redis db 15 (both tiers), the driver round-robins;
7. memory: 10,000 distinct queries (the in-process tier's bound), then 1,000 more, to a
   cache-on gateway; its RSS after each quarter;
8. overload: one cold gateway under 200 clients (``bench.overload``): accepted req/s, refusals
   (503/429), latencies of both, then the time to recover once the load stops;
9. feed-memory: the peak RSS of one process reading a 50 MB LHEO catalogue (``xml_feed``) and
   a 50 MB REST answer cut at its size limit (``bench.feed_memory``);
10. each ``--extra-mode`` (a named set of ``HUB_*`` settings, e.g. request coalescing), like 2.

Results go to ``bench/results/latest.json`` and ``latest.md``; ``--readme`` also writes the
table into README.md's "## Benchmark" section.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import driver, floor, report, stack
from bench.workloads import MEMORY, WORKLOADS, Workload

RESULTS = Path(__file__).resolve().parent / "results"
# Small enough that the memory run's distinct queries fill it, so the run shows the plateau.
MEMORY_TIER_BYTES = 16 * 1024 * 1024
MEMORY_CONCURRENCY = 8  # enough to keep one gateway busy without overloading it into timeouts
OVERLOAD_CONCURRENCY = 200  # the overload: far past what one gateway process serves
RECOVERY_TIMEOUT_S = 15.0
FEED_BYTES = 50_000_000
QUIET_CORES = 0.15  # machine CPU between cells below which the machine counts as idle
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
        Mode(
            "cold",
            "cold (cache off), httpx pool",
            1,
            {"HUB_CACHE_ENABLED": "false", "HUB_HTTP_TRANSPORT": "httpx"},
        ),
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
            {"HUB_CACHE_URL": REDIS_URL, "HUB_CACHE_LOCAL_MAX_BYTES": "0"},
            redis=True,
        ),
        Mode("warm-2workers", "warm, 2 workers + Redis", 2, {"HUB_CACHE_URL": REDIS_URL}, True),
    )
}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    cli = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    cli.add_argument("--quick", action="store_true", help="short cells (2 s), 1,000 memory queries")
    cli.add_argument("--duration", type=float, default=5.0, help="measured seconds per cell")
    cli.add_argument("--warmup", type=float, default=1.5, help="unmeasured seconds per cell")
    cli.add_argument("--latency-ms", type=float, default=20.0, help="added to each partner answer")
    cli.add_argument("--concurrency", default="1,32", help="comma-separated, e.g. 1,32")
    cli.add_argument("--workloads", default=",".join(WORKLOADS))
    cli.add_argument(
        "--modes",
        default="floor,pool," + ",".join(MODES) + ",memory,overload,feed-memory",
        help="comma-separated subset of: floor, pool, "
        + ", ".join(MODES)
        + ", memory, overload, feed-memory",
    )
    cli.add_argument(
        "--extra-mode",
        action="append",
        default=[],
        metavar="NAME[@GATEWAYS]:KEY=VALUE,...",
        help="one more gateway setup, measured after the others: its HUB_* settings, e.g. "
        "'coalesce:HUB_CACHE_ENABLED=false,HUB_COALESCE=true' (repeatable)",
    )
    cli.add_argument("--memory-queries", type=int, default=10_000)
    cli.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="before each cell, wait up to this many seconds for the machine to be idle",
    )
    cli.add_argument(
        "--no-partner-memo",
        action="store_true",
        help="the partners render every answer (their CPU then competes with the gateway's)",
    )
    cli.add_argument("--port-offset", type=int, default=stack.PORT_OFFSET)
    cli.add_argument("--output", type=Path, default=RESULTS / "latest")
    cli.add_argument("--readme", action="store_true", help="write the table into README.md")
    cli.add_argument(
        "--snapshot",
        action="store_true",
        help="run on a copy of the code, so that edits during the run cannot mix versions",
    )
    args = cli.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = min(args.duration, 2.0), min(args.warmup, 1.0)
        args.memory_queries = min(args.memory_queries, 1_000)
    return args


def extra_mode(text: str) -> Mode:
    """``NAME[@GATEWAYS]:KEY=VALUE,...``: a gateway setup given on the command line.

    The hook for settings this file does not know yet (request coalescing, say): the cells
    are measured and reported like the built-in modes, under ``NAME``.
    """
    head, _, body = text.partition(":")
    name, _, count = head.partition("@")
    settings = dict(pair.split("=", 1) for pair in body.split(",") if "=" in pair)
    if not name or name in MODES or any(not k.startswith("HUB_") for k in settings):
        raise ValueError(f"--extra-mode {text!r}: NAME[@GATEWAYS]:HUB_X=value,... (a new name)")
    gateways = int(count) if count else 1
    title = f"{name}: " + ", ".join(f"{k}={v}" for k, v in settings.items())
    return Mode(name, title, gateways, settings, redis=REDIS_URL in settings.values())


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
        "commit": os.environ.get(SNAPSHOT_COMMIT_ENV) or commit or None,
    }


CODE_DIRS = ("gateway", "resolvers", "adapters", "reference", "demo")
SNAPSHOT_ENV = "HUB_BENCH_SNAPSHOT"  # set in the re-executed run: it already is the snapshot
SNAPSHOT_COMMIT_ENV = "HUB_BENCH_COMMIT"


def run_in_snapshot(argv: Sequence[str], output: Path, readme: bool) -> int:
    """Copy the code to a temporary directory and run the benchmark there.

    Every process of the run (gateways, partners, the plans recorded in-process) then imports
    that copy: edits to the working tree during the run's minutes cannot mix two versions of
    the code into one table. Results are still written to ``output`` in the working tree.
    """
    commit = machine()["commit"] or "?"
    if _tree_differs_from_commit():
        commit += " with uncommitted changes"
    with tempfile.TemporaryDirectory(prefix="alternance-hub-snapshot-") as copy:
        for folder in (*CODE_DIRS, "bench"):
            shutil.copytree(
                stack.ROOT / folder,
                Path(copy) / folder,
                ignore=shutil.ignore_patterns("__pycache__", "results"),
            )
        inner = [a for a in argv if a not in ("--snapshot", "--readme")]
        env = {**os.environ, SNAPSHOT_ENV: "1", SNAPSHOT_COMMIT_ENV: commit}
        command = [sys.executable, "-m", "bench", *inner, "--output", str(output.resolve())]
        code = subprocess.run(command, cwd=copy, env=env, check=False).returncode
    if code == 0 and readme:
        report.update_readme(stack.ROOT / "README.md", output.with_suffix(".md").read_text())
    return code


def code_fingerprint() -> str:
    """A hash of the gateway's source as it is on disk (committed or not): a run whose
    fingerprint changed between its start and its end measured two versions of the code."""
    digest = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((stack.ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".toml", ".csv") and path.is_file():
                digest.update(str(path.relative_to(stack.ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _tree_differs_from_commit() -> bool:
    done = subprocess.run(
        ["git", "diff", "--quiet", "HEAD", "--", *CODE_DIRS],
        cwd=stack.ROOT,
        capture_output=True,
        check=False,
    )
    return done.returncode == 1


def _loadavg() -> float:
    return os.getloadavg()[0]


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    """CPU seconds of the children this process has reaped (each driver, once it ends)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.cells: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.concurrencies = [int(c) for c in args.concurrency.split(",") if c]
        self.workloads = [WORKLOADS[w] for w in args.workloads.split(",") if w]
        self._specs = 0
        self.plans: dict[str, list[list[floor.Call]]] = {}
        self.partners_pid = 0  # set once the partners run
        self.busy_starts = 0  # cells started on a busy machine (--quiet-wait ran out)

    def wait_quiet(self) -> None:
        """Wait (at most ``--quiet-wait`` s) until other work leaves the CPU nearly idle."""
        deadline = time.monotonic() + self.args.quiet_wait
        while time.monotonic() < deadline:
            before = _machine_busy_s()
            time.sleep(0.5)
            if (_machine_busy_s() - before) / 0.5 < QUIET_CORES:
                return
        self.busy_starts += 1

    def drive(self, spec: dict[str, Any], gateways: Sequence[stack.Gateway] = ()) -> dict[str, Any]:
        """One driver process; returns its JSON result plus who used the CPU meanwhile.

        ``other_cpu_cores``: CPU used by processes outside the benchmark (neither the driver,
        the partners nor the gateways), in cores on average over the cell. Above a few tenths,
        the cell shared the machine with other work and its figures are pessimistic.
        """
        self.wait_quiet()
        self._specs += 1
        path = self.work / f"spec-{self._specs}.json"
        path.write_bytes(orjson.dumps(spec))
        partners_before = stack.cpu_seconds(self.partners_pid)
        gateways_before = sum(g.cpu_seconds() for g in gateways)
        busy_before, children_before = _machine_busy_s(), _children_cpu_s()
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bench.driver", str(path)],
            cwd=stack.ROOT,
            capture_output=True,
            check=False,
            timeout=float(spec.get("duration_s", 0)) + float(spec.get("warmup_s", 0)) + 900,
        )
        wall = time.monotonic() - started
        busy = _machine_busy_s() - busy_before
        driver = _children_cpu_s() - children_before
        partners = stack.cpu_seconds(self.partners_pid) - partners_before
        gateway = sum(g.cpu_seconds() for g in gateways) - gateways_before
        if done.returncode != 0:
            raise RuntimeError(f"driver failed: {done.stderr.decode()[-2000:]}")
        result: dict[str, Any] = orjson.loads(done.stdout)
        served = result["requests"] + result.get("warmup_requests", 0) + 1
        result.update(
            wall_s=wall,
            driver_cpu_cores=driver / wall,
            partners_cpu_cores=partners / wall,
            gateway_cpu_cores=gateway / wall,
            other_cpu_cores=max(0.0, busy - driver - partners - gateway) / wall,
        )
        if gateways:
            result["gateway_cpu_ms_per_request"] = gateway * 1000 / served
        return result

    def timing(self) -> dict[str, Any]:
        return {"duration_s": self.args.duration, "warmup_s": self.args.warmup}

    def record(self, mode: str, workload: str, concurrency: int, result: dict[str, Any]) -> None:
        cell = {"mode": mode, "workload": workload, "concurrency": concurrency, **result}
        self.cells.append(cell)
        print(report.progress_line(cell), flush=True)

    # -- the floor -------------------------------------------------------------------------

    def plan(self, partners_file: Path, workload: Workload) -> list[list[floor.Call]]:
        if workload.name not in self.plans:
            self.plans[workload.name] = asyncio.run(floor.record_plan(partners_file, workload))
        return self.plans[workload.name]

    def floors(self, partners_file: Path) -> None:
        for workload in self.workloads:
            try:
                plan = self.plan(partners_file, workload)
            except RuntimeError as error:  # the other workloads' floors are still worth having
                self.notes.append(f"floor of {workload.name}: not recorded ({error})"[:500])
                continue
            calls = sum(len(stage) for stage in plan)
            for concurrency in self.concurrencies:
                spec = {
                    "kind": "floor",
                    "plan": floor.plan_to_json(plan),
                    "concurrency": concurrency,
                    **self.timing(),
                }
                result = self.drive(spec)
                result.update(http_calls_per_query=calls, stages=len(plan))
                result.update(plan=floor.describe(plan))
                self.record("floor", workload.name, concurrency, result)

    def pools(self, partners_file: Path) -> None:
        """Q1's one partner call replayed by each HTTP client: what the pool alone costs."""
        plan = floor.plan_to_json(self.plan(partners_file, WORKLOADS["Q1"]))
        for client in driver.CLIENTS:
            for concurrency in self.concurrencies:
                spec = {"kind": "floor", "plan": plan, "client": client}
                result = self.drive({**spec, "concurrency": concurrency, **self.timing()})
                self.record(f"pool:{client}", "Q1", concurrency, result)

    # -- gateways --------------------------------------------------------------------------

    def gateway_mode(self, mode: Mode, partners_file: Path, env: dict[str, str]) -> None:
        """Fresh gateways for each workload: a breaker opened by one cell's overload, or its
        memory, must not carry over to the next workload."""
        for workload in self.workloads:
            if mode.redis and not flush_redis():
                self.notes.append(f"{mode.name}: skipped, no Redis answering at {REDIS_URL}")
                return
            with stack.gateways(
                mode.gateways, partners_file, env, mode.settings, self.gateway_port
            ) as gateways:
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
        calls_before = sum(sum(g.partner_calls().values()) for g in gateways)
        result = self.drive(spec, gateways)
        calls_all = sum(sum(g.partner_calls().values()) for g in gateways) - calls_before
        memories = [g.memory() for g in gateways]
        mapped, cpu_ms = (
            result.get("records_mapped_per_query"),
            result["gateway_cpu_ms_per_request"],
        )
        result.update(
            # all the gateway's CPU per record mapped: an upper bound on mapping one record
            us_per_record=cpu_ms * 1000 / mapped if mapped else None,
            # warm-up included: in a warm mode, the calls that filled the cache
            partner_calls_with_warmup=calls_all,
            rss_mib=max(m["VmRSS"] for m in memories) / 1024,
            peak_rss_mib=max(m["VmHWM"] for m in memories) / 1024,
        )
        self.record(mode.name, workload, concurrency, result)

    @property
    def gateway_port(self) -> int:
        offset: int = self.args.port_offset
        return stack.GATEWAY_PORT + offset - stack.PORT_OFFSET

    # -- memory after many distinct queries ------------------------------------------------

    def memory(self, partners_file: Path, env: dict[str, str]) -> dict[str, Any]:
        """RSS of a cache-on gateway along ``memory_queries`` distinct queries, then a tenth
        more, its in-process tier bounded at ``MEMORY_TIER_BYTES``: the last batches show
        whether memory stops growing once the tier is full."""
        count = self.args.memory_queries
        batch, beyond = max(1, count // 4), max(1, count // 10)
        settings = {
            "HUB_CACHE_URL": "memory://",
            "HUB_CACHE_LOCAL_MAX_BYTES": str(MEMORY_TIER_BYTES),
        }
        steps: list[dict[str, Any]] = []
        with stack.gateways(1, partners_file, env, settings, self.gateway_port) as (gateway,):

            def step(label: str, result: dict[str, Any]) -> None:
                memory = gateway.memory()
                row = {
                    "after": label,
                    "rss_mib": memory["VmRSS"] / 1024,
                    "peak_rss_mib": memory["VmHWM"] / 1024,
                    "requests": result["requests"],
                    "errors": result["errors"],
                    "rps": result["rps"],
                    "cache_events": result.get("cache_events", {}),
                    "calls_per_query": result.get("calls_per_query"),
                    "other_cpu_cores": result.get("other_cpu_cores"),
                }
                steps.append(row)
                print(f"memory: {report.memory_line(row)}", flush=True)

            base = {"kind": "graphql", "targets": [gateway.url], "workload": MEMORY.name}
            # variant 0 and a few more: imports, pools, tokens; then the baseline
            spec = {**base, "concurrency": 4, "requests": 20, "first_variant": 0}
            step("20 queries (baseline)", self.drive(spec, [gateway]))
            sent = 0
            while sent < count + beyond:
                size = min(batch if sent < count else beyond, count + beyond - sent)
                spec = {**base, "concurrency": MEMORY_CONCURRENCY, "requests": size}
                spec["first_variant"] = 100 + sent
                result = self.drive(spec, [gateway])
                sent += size
                past = " (past the bound)" if sent > count else ""
                step(f"{sent:,} distinct queries{past}", result)
        return {
            "workload": MEMORY.name,
            "title": MEMORY.title,
            "filter": MEMORY.filter,
            "local_max_bytes": MEMORY_TIER_BYTES,
            "concurrency": MEMORY_CONCURRENCY,
            "steps": steps,
        }

    # -- overload, then recovery -----------------------------------------------------------

    def overload(self, partners_file: Path, env: dict[str, str]) -> dict[str, Any]:
        """One cold gateway (cache off: every request costs partner calls and CPU) under
        ``OVERLOAD_CONCURRENCY`` clients for ``--duration``, then the time it takes to serve
        normally again."""
        workload = self.workloads[0].name
        settings = {"HUB_CACHE_ENABLED": "false"}
        with stack.gateways(1, partners_file, env, settings, self.gateway_port) as (gateway,):
            spec = {
                "kind": "overload",
                "targets": [gateway.url],
                "workload": workload,
                "concurrency": OVERLOAD_CONCURRENCY,
                "duration_s": self.args.duration,
                "recovery_timeout_s": RECOVERY_TIMEOUT_S,
            }
            result = self.drive(spec, [gateway])
            result["peak_rss_mib"] = gateway.memory()["VmHWM"] / 1024
        result.update(workload=workload, concurrency=OVERLOAD_CONCURRENCY)
        print(f"overload: {report.overload_line(result)}", flush=True)
        return result

    # -- one large partner answer --------------------------------------------------------

    def feed_memory(self) -> list[dict[str, Any]]:
        """The memory a 50 MB partner answer costs one process (``bench.feed_memory``)."""
        from bench.big_feed import serve_files, write_lheo

        rows: list[dict[str, Any]] = []
        folder = self.work / "big-partner"
        (folder / "lheo").mkdir(parents=True, exist_ok=True)
        size = write_lheo(folder / "lheo" / "catalogue.xml", FEED_BYTES)
        with serve_files(folder) as url:
            for kind in ("xml", "rest"):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.feed_memory", kind, url],
                    cwd=stack.ROOT,
                    capture_output=True,
                    check=True,
                    timeout=300,
                )
                row: dict[str, Any] = orjson.loads(done.stdout)
                row["document_bytes"] = size if kind == "xml" else 50 * 2**20
                rows.append(row)
                print(f"feed memory: {report.feed_memory_line(row)}", flush=True)
        return rows


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
    if args.snapshot and not os.environ.get(SNAPSHOT_ENV):
        given = list(sys.argv[1:] if argv is None else argv)
        return run_in_snapshot(given, args.output, args.readme)
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - {"floor", "pool", "memory", "overload", "feed-memory", *MODES})
    if unknown:
        print(f"unknown modes: {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        extra = {mode.name: mode for mode in map(extra_mode, args.extra_mode)}
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    known = {**MODES, **extra}
    modes += [name for name in extra if name not in modes]
    started = datetime.now(UTC)
    clock = time.monotonic()
    code_at_start = code_fingerprint()
    with _workdir() as work:
        runner = Runner(args, work)
        partners_file = stack.write_partners_file(work, stack.shifted_ports(args.port_offset))
        env = stack.gateway_environment(work / "data")
        # record_plan runs a gateway in this process: it reads the same secrets and DSNs
        os.environ.update(env)
        memory_run: dict[str, Any] | None = None
        overload_run: dict[str, Any] | None = None
        feed_memory_run: list[dict[str, Any]] | None = None
        failed = False
        load_start = _loadavg()
        with stack.partners(
            args.latency_ms, args.port_offset, not args.no_partner_memo
        ) as partners_process:
            runner.partners_pid = partners_process.pid
            for mode in modes:
                try:
                    if mode == "floor":
                        runner.floors(partners_file)
                    elif mode == "pool":
                        runner.pools(partners_file)
                    elif mode == "memory":
                        memory_run = runner.memory(partners_file, env)
                    elif mode == "overload":
                        overload_run = runner.overload(partners_file, env)
                    elif mode == "feed-memory":
                        feed_memory_run = runner.feed_memory()
                    else:
                        runner.gateway_mode(known[mode], partners_file, env)
                except Exception as error:  # the other modes' figures are still worth writing
                    traceback.print_exc()
                    runner.notes.append(f"{mode}: failed ({type(error).__name__}: {error})")
                    failed = True
    code_at_end = code_fingerprint()
    if code_at_end != code_at_start:
        runner.notes.append(
            "the gateway's source changed on disk during the run: cells may mix two versions"
        )
    results = {
        "started": started.isoformat(timespec="seconds"),
        "code": {
            "fingerprint": code_at_start,
            "uncommitted_changes": _tree_differs_from_commit(),
            "changed_during_run": code_at_end != code_at_start,
        },
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
            w.name: {
                "title": w.title,
                "filter": w.filter,
                "page": w.page,
                "reference": w.reference.as_json() if w.reference else None,
            }
            for w in runner.workloads
        },
        "modes": {name: known[name].title for name in modes if name in known},
        "cells": runner.cells,
        "memory": memory_run,
        "overload": overload_run,
        "feed_memory": feed_memory_run,
        "notes": runner.notes
        + (
            [f"{runner.busy_starts} cells started while other work was using the CPU"]
            if runner.busy_starts and args.quiet_wait
            else []
        ),
    }
    markdown = report.markdown(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n"
    )
    args.output.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print()
    print(markdown)
    if args.readme and not failed:
        report.update_readme(stack.ROOT / "README.md", markdown)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
