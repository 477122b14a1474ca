"""The benchmark's Markdown: progress lines, the results table, the README section."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

P50_TARGET_MS = 4.0  # the target: p50 at concurrency 1 within 4 ms of the floor
MODE_TITLES = {
    "floor": "floor: the same partner calls, direct",
    "cold": "gateway, cold (cache off)",
    "cold-aiohttp": "gateway, cold, aiohttp transport",
    "warm-memory": "gateway, warm, in-process tier",
    "warm-redis": "gateway, warm, Redis only",
    "warm-2workers": "2 gateways, warm, Redis + in-process",
}


def _ms(value: float | None) -> str:
    if value is None or value != value:  # NaN
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def progress_line(cell: dict[str, Any]) -> str:
    latency = cell.get("latency_ms", {})
    calls = cell.get("calls_per_query", cell.get("http_calls_per_query"))
    errors = f" ERRORS {cell['errors']}: {cell['error_sample']}" if cell.get("errors") else ""
    return (
        f"{cell['mode']:>14} {cell['workload']} c={cell['concurrency']:<3} "
        f"{cell['rps']:8.1f} req/s  p50 {_ms(latency.get('p50'))} p95 {_ms(latency.get('p95'))} "
        f"p99 {_ms(latency.get('p99'))} ms  calls/q {_num(calls, 2)}{errors}"
    )


def memory_line(row: dict[str, Any]) -> str:
    return (
        f"after {row['after']}: RSS {row['rss_mib']:.0f} MiB, peak {row['peak_rss_mib']:.0f} MiB"
        + (f", {row['rps']:.0f} req/s" if "rps" in row else "")
    )


def _cell(cells: Iterable[dict[str, Any]], mode: str, workload: str, c: int) -> dict[str, Any]:
    for cell in cells:
        if (cell["mode"], cell["workload"], cell["concurrency"]) == (mode, workload, c):
            return cell
    return {}


def _table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| query | setup | conc. | req/s | p50 ms | p95 ms | p99 ms | partner calls / query "
        "| gateway CPU ms / req | peak RSS MiB |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    modes = ["floor", *results["modes"]]
    for workload in results["workloads"]:
        for mode in modes:
            for c in results["settings"]["concurrency"]:
                cell = _cell(results["cells"], mode, workload, c)
                if not cell:
                    continue
                latency = cell.get("latency_ms", {})
                if mode == "floor":
                    calls = f"{cell['http_calls_per_query']} HTTP"
                else:
                    calls = _num(cell.get("calls_per_query"), 2)
                errors = f" ({cell['errors']} errors)" if cell.get("errors") else ""
                lines.append(
                    f"| {workload} | {MODE_TITLES.get(mode, mode)}{errors} | {c} "
                    f"| {_num(cell['rps'])} | {_ms(latency.get('p50'))} "
                    f"| {_ms(latency.get('p95'))} | {_ms(latency.get('p99'))} | {calls} "
                    f"| {_ms(cell.get('gateway_cpu_ms_per_request'))} "
                    f"| {_num(cell.get('peak_rss_mib'))} |"
                )
    return lines


def _calls_table(results: dict[str, Any]) -> list[str]:
    """Who each workload calls: the gateway's own count (cold, warm) and the HTTP requests."""
    lines = [
        "| query | partner calls cold (by partner) | warm, in-process | warm, 2 workers "
        "| HTTP requests (floor plan) |",
        "|---|---|--:|--:|---|",
    ]
    c = max(results["settings"]["concurrency"])
    for workload in results["workloads"]:
        cold = _cell(results["cells"], "cold", workload, c)
        floor = _cell(results["cells"], "floor", workload, c)
        by_partner = cold.get("partner_calls") or {}
        done = cold.get("requests") or 0
        parts = ", ".join(f"{p} {n / done:.2g}" for p, n in sorted(by_partner.items()) if done)
        total = _num(cold.get("calls_per_query"), 2)
        warm = _cell(results["cells"], "warm-memory", workload, c)
        two = _cell(results["cells"], "warm-2workers", workload, c)
        plan = f"{floor.get('http_calls_per_query', '–')}: {floor.get('plan', '–')}"
        lines.append(
            f"| {workload} | {total} ({parts or '–'}) | {_num(warm.get('calls_per_query'), 2)} "
            f"| {_num(two.get('calls_per_query'), 2)} | {plan} |"
        )
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    cells = results["cells"]
    lines = ["| target | measured | met |", "|---|---|:-:|"]
    for workload in ("Q1", "Q2", "Q3"):
        gateway = _cell(cells, "cold", workload, 1).get("latency_ms", {}).get("p50")
        base = _cell(cells, "floor", workload, 1).get("latency_ms", {}).get("p50")
        if gateway is None or base is None:
            continue
        gap = gateway - base
        met = "yes" if gap <= P50_TARGET_MS else "NO"
        lines.append(
            f"| {workload}: p50 at concurrency 1, cold, within {P50_TARGET_MS:g} ms of the floor "
            f"| {gateway:.1f} − {base:.1f} = {gap:+.1f} ms | {met} |"
        )
    c = max(results["settings"]["concurrency"])
    cold = _cell(cells, "cold", "Q2", c).get("calls_per_query")
    warm = _cell(cells, "warm-memory", "Q2", c).get("calls_per_query")
    if cold is not None:
        lines.append(
            f"| Q2: 2 partner calls cold | {cold:.2f} | {'yes' if round(cold, 2) == 2 else 'NO'} |"
        )
    if warm is not None:
        lines.append(f"| Q2: 0 partner calls warm | {warm:.2f} | {'yes' if warm == 0 else 'NO'} |")
    worst = max(
        (
            (cell["calls_per_query"] / max(cell.get("items") or 1, 1), cell["workload"])
            for cell in cells
            if cell["mode"] == "cold" and cell.get("calls_per_query")
        ),
        default=None,
    )
    if worst is not None:
        lines.append(
            f"| no query costs one partner call per item | worst: {worst[1]}, "
            f"{worst[0]:.2f} calls per item | {'yes' if worst[0] < 0.5 else 'NO'} |"
        )
    return lines


def _memory(run: dict[str, Any] | None) -> list[str]:
    if not run:
        return []
    lines = [
        f"Memory of one gateway (in-process tier, bound {run['local_max_entries']:,} entries) "
        f"answering distinct {run['workload']} queries (each a new cache key: `publishedSince` "
        "shifted by one second), 32 at a time:",
        "",
        "| after | RSS MiB | peak RSS MiB | req/s | partner calls / query | cache loads |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for row in run["steps"]:
        lines.append(
            f"| {row['after']} | {row['rss_mib']:.0f} | {row['peak_rss_mib']:.0f} "
            f"| {_num(row.get('rps'))} | {_num(row.get('calls_per_query'), 2)} "
            f"| {_num((row.get('cache_events') or {}).get('loads'))} |"
        )
    return lines


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        f"Measured {results['started']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}, commit {m['commit'] or '?'}; `python -m bench"
        f"{' --quick' if s['quick'] else ''}` ({results['wall_s']:.0f} s). Simulated partners "
        f"(the demo's, one process) answer after **{s['latency_ms']:g} ms**; each gateway is one "
        f"`alternance-hub serve` process (one uvicorn worker); the load driver (aiohttp) is its "
        f"own process; {s['duration_s']:g} s measured per cell after {s['warmup_s']:g} s of "
        f"warm-up. Load average {s['loadavg_start']:.2f} at start, {s['loadavg_end']:.2f} at "
        "end (gateway, partners and driver share the 2 cores).",
        "",
        "| query | what | filter |",
        "|---|---|---|",
    ]
    for name, workload in results["workloads"].items():
        lines.append(f"| {name} | {workload['title']} | `{_filter(workload['filter'])}` |")
    lines += ["", *_table(results), "", "Partner calls per query:", "", *_calls_table(results)]
    lines += ["", "Targets:", "", *_targets(results)]
    memory = _memory(results.get("memory"))
    if memory:
        lines += ["", *memory]
    if results.get("notes"):
        lines += ["", *(f"- {note}" for note in results["notes"])]
    return "\n".join(lines) + "\n"


def _filter(flt: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in flt.items()).replace("'", '"')


_SECTION = re.compile(r"(^## Benchmark\n)(.*?)(?=^## )", re.MULTILINE | re.DOTALL)


def update_readme(path: Path, table: str, preface: str = "") -> None:
    """Replace the body of README.md's "## Benchmark" section (and nothing else)."""
    text = path.read_text(encoding="utf-8")
    if not _SECTION.search(text):
        raise RuntimeError(f"{path}: no '## Benchmark' section followed by another section")
    body = (preface + "\n" if preface else "") + table
    updated = _SECTION.sub(lambda m: m.group(1) + "\n" + body + "\n", text, count=1)
    path.write_text(updated, encoding="utf-8")
