"""The benchmark's Markdown: progress lines, the results table, the README section."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

P50_TARGET_MS = 4.0  # the target: p50 at concurrency 1 within 4 ms of the floor
WARM_TARGET_RPS = 1_500  # the target for 20 offers from the response cache
REFERENCE_CONCURRENCY = 32  # the concurrency of the Mesh and Tailcall figures
REFERENCE_NOTE = (
    "² GraphQL Mesh (Hive Gateway, one Node process) and Tailcall 1.6.14 figures for the same "
    "kind of query at concurrency 32, cold: measured on this machine by the issue's author, "
    "not by this run (shown on the concurrency-32 rows of each gateway setup)."
)
BUSY_CORES = 0.3  # other processes' CPU above which a cell is marked as shared
MODE_TITLES = {
    "floor": "floor: the same partner calls, direct",
    "cold": "gateway, cold (cache off), httpx pool",
    "cold-aiohttp": "gateway, cold (cache off), aiohttp transport (default)",
    "warm-memory": "gateway, warm, in-process tier",
    "warm-redis": "gateway, warm, Redis only",
    "warm-2workers": "2 gateways, warm, Redis + in-process",
}


POOL_TITLES = {
    "pool:aiohttp": "aiohttp (the driver's own client)",
    "pool:httpx-default": "httpx, default pool (100 connections, 20 kept alive)",
    "pool:httpx-sized": "httpx, pool sized to the concurrency (as the gateway sizes it)",
    "pool:httpx-aiohttp": "httpx over the aiohttp transport (HUB_HTTP_TRANSPORT=aiohttp)",
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
    mapped = cell.get("records_mapped_per_query")
    records = f"  mapped/q {mapped:.0f}" if mapped is not None else ""
    return (
        f"{cell['mode']:>14} {cell['workload']} c={cell['concurrency']:<3} "
        f"{cell['rps']:8.1f} req/s  p50 {_ms(latency.get('p50'))} p95 {_ms(latency.get('p95'))} "
        f"p99 {_ms(latency.get('p99'))} ms  calls/q {_num(calls, 2)}{records}{errors}"
    )


def memory_line(row: dict[str, Any]) -> str:
    errors = f", {row['errors']} errors" if row.get("errors") else ""
    return (
        f"after {row['after']}: RSS {row['rss_mib']:.0f} MiB, peak {row['peak_rss_mib']:.0f} MiB, "
        f"{row['rps']:.0f} req/s{errors}"
    )


def _seconds(value: float | None, bound: float | None = None) -> str:
    if value is None:
        return f"not within {bound:g} s" if bound else "–"
    return f"{value:.2f} s"


def overload_line(run: dict[str, Any]) -> str:
    accepted = run.get("accepted_latency_ms") or {}
    return (
        f"{run['workload']} c={run['concurrency']}: {run['accepted_rps']:.1f} accepted req/s, "
        f"{run['refused']} refused {run.get('refused_by_status') or ''}, {run['failed']} failed, "
        f"accepted p50 {_ms(accepted.get('p50'))} p99 {_ms(accepted.get('p99'))} ms; recovered: "
        f"first success {_seconds(run['recovery_first_success_s'], run['recovery_timeout_s'])}, "
        f"breakers closed {_seconds(run['recovery_breakers_closed_s'], run['recovery_timeout_s'])}"
    )


def feed_memory_line(row: dict[str, Any]) -> str:
    return (
        f"{row['kind']}: {row['outcome']}, RSS {row['rss_before_mib']:.0f} MiB before, "
        f"peak +{row['peak_growth_mib']:.1f} MiB, kept +{row['kept_mib']:.1f} MiB"
    )


def _overload(run: dict[str, Any] | None) -> list[str]:
    if not run:
        return []
    accepted = run.get("accepted_latency_ms") or {}
    refused = run.get("refused_latency_ms") or {}
    statuses = ", ".join(f"{n} × {s}" for s, n in (run.get("refused_by_status") or {}).items())
    degraded = run["degraded"] / run["accepted"] if run["accepted"] else 0.0
    bound = run["recovery_timeout_s"]
    return [
        f"Overload: one cold gateway (`HUB_CACHE_ENABLED=false`), {run['workload']} sent by "
        f"{run['concurrency']} clients for {run['elapsed_s']:.0f} s, each its next request as "
        "soon as the last is answered; recovery timed from the end of the load "
        "(`bench/overload.py`):",
        "",
        "| accepted req/s | accepted with errors | refused (503/429) | refused p99 ms | failed "
        "| accepted p50 ms | accepted p99 ms | first success after | breakers closed after "
        "| peak RSS MiB |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| {run['accepted_rps']:.1f} | {degraded:.0%} | {run['refused']:,}"
        f"{f' ({statuses})' if statuses else ''} | {_ms(refused.get('p99'))} | {run['failed']} "
        f"| {_ms(accepted.get('p50'))} | {_ms(accepted.get('p99'))} "
        f"| {_seconds(run['recovery_first_success_s'], bound)} "
        f"| {_seconds(run['recovery_breakers_closed_s'], bound)} "
        f"| {_num(run.get('peak_rss_mib'))} |",
    ]


def _feed_memory(rows: list[dict[str, Any]] | None) -> list[str]:
    if not rows:
        return []
    what = {
        "xml": "LHEO catalogue (`xml_feed`, the demo's Carif-Oref block), read whole",
        "rest": "REST answer without Content-Length, cut at `max_response_bytes` (10 MiB)",
    }
    lines = [
        "Memory of one 50 MB partner answer, in a process of its own (`bench/feed_memory.py`; "
        "kept: RSS after the read, the snapshot still held):",
        "",
        "| answer | outcome | records | RSS before MiB | peak growth MiB | kept MiB |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(
            f"| {what.get(row['kind'], row['kind'])} | {row['outcome']} | {row['records']:,} "
            f"| {row['rss_before_mib']:.0f} | {row['peak_growth_mib']:.1f} "
            f"| {row['kept_mib']:.1f} |"
        )
    return lines


def _cell(cells: Iterable[dict[str, Any]], mode: str, workload: str, c: int) -> dict[str, Any]:
    for cell in cells:
        if (cell["mode"], cell["workload"], cell["concurrency"]) == (mode, workload, c):
            return cell
    return {}


def mode_title(results: dict[str, Any], mode: str) -> str:
    return MODE_TITLES.get(mode) or results.get("modes", {}).get(mode) or mode


def _reference(results: dict[str, Any], workload: str, mode: str, c: int) -> tuple[str, str]:
    """The issue's Mesh and Tailcall req/s for this row, on gateway rows at concurrency 32."""
    reference = (results["workloads"].get(workload) or {}).get("reference")
    if not reference or mode == "floor" or c != REFERENCE_CONCURRENCY:
        return "", ""
    return _num(reference["mesh_rps"]), _num(reference["tailcall_rps"])


def _table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| query | setup | conc. | req/s | errors | p50 ms | p95 ms | p99 ms "
        "| partner calls / query | records mapped / query | µs / record "
        "| gateway CPU ms / req | peak RSS MiB | Mesh req/s ² | Tailcall req/s ² |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
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
                busy = " ¹" if (cell.get("other_cpu_cores") or 0) > BUSY_CORES else ""
                mesh, tailcall = _reference(results, workload, mode, c)
                lines.append(
                    f"| {workload} | {mode_title(results, mode)}{busy} | {c} "
                    f"| {_num(cell['rps'])} | {_errors(cell)} | {_ms(latency.get('p50'))} "
                    f"| {_ms(latency.get('p95'))} | {_ms(latency.get('p99'))} | {calls} "
                    f"| {_blank(cell.get('records_mapped_per_query'), 0)} "
                    f"| {_blank(cell.get('us_per_record'), 1)} "
                    f"| {_ms(cell.get('gateway_cpu_ms_per_request'))} "
                    f"| {_num(cell.get('peak_rss_mib'))} | {mesh} | {tailcall} |"
                )
    return lines


def _blank(value: float | None, digits: int) -> str:
    """A figure the gateway may not export yet: empty when absent, not a dash or a 0."""
    return "" if value is None else f"{value:,.{digits}f}"


def _error_share(cell: dict[str, Any]) -> float:
    """Percentage of the cell's answers that carried errors."""
    return 100 * (cell.get("errors") or 0) / max(cell.get("requests") or 0, 1)


def _errors(cell: dict[str, Any]) -> str:
    """Share of answers with errors (a partner timed out, a breaker open): those answers are
    fast and partial, so a cell with many of them has a flattering req/s."""
    if not cell.get("errors"):
        return "0"
    share = _error_share(cell)
    return f"**{share:.0f} %**" if share >= 1 else f"{share:.1f} %"


def _pool_table(results: dict[str, Any]) -> list[str]:
    cells = [c for c in results["cells"] if c["mode"].startswith("pool:")]
    if not cells:
        return []
    lines = [
        "HTTP client alone (Q1's partner call replayed directly, no gateway):",
        "",
        "| client | conc. | req/s | p50 ms | p99 ms | client CPU ms / call |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for cell in cells:
        latency = cell.get("latency_ms", {})
        lines.append(
            f"| {POOL_TITLES.get(cell['mode'], cell['mode'])} | {cell['concurrency']} "
            f"| {_num(cell['rps'])} | {_ms(latency.get('p50'))} | {_ms(latency.get('p99'))} "
            f"| {_num(cell.get('driver_cpu_ms_per_request'), 2)} |"
        )
    return lines


def _calls_table(results: dict[str, Any]) -> list[str]:
    """Who each workload calls: the gateway's own count (cold, warm) and the HTTP requests."""
    lines = [
        "| query | partner calls cold, one at a time (by partner) | warm, in-process "
        "| warm, 2 workers | HTTP requests (floor plan, by stage) |",
        "|---|---|--:|--:|---|",
    ]
    c = max(results["settings"]["concurrency"])
    c1 = min(results["settings"]["concurrency"])  # one at a time: no sharing of calls in flight
    for workload in results["workloads"]:
        cold = _cell(results["cells"], "cold", workload, c1)
        floor = _cell(results["cells"], "floor", workload, c1)
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


SMALL_QUERIES = ("Q1", "Q2", "Q3", "Q6", "Q7")  # the "small queries" for the p50 target
ONE_PARTNER_PAGES = ("Q1", "Q6")  # 20 offers of one partner: one partner call is the minimum
COLD_MODES = ("cold", "cold-aiohttp")


def _targets(results: dict[str, Any]) -> list[str]:
    cells = results["cells"]
    lines = ["| target | measured | met |", "|---|---|:-:|"]
    for workload in SMALL_QUERIES:
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
    c1 = min(results["settings"]["concurrency"])
    for workload in ONE_PARTNER_PAGES:
        # the gateway counts a walk over several pages as one call: the HTTP requests it made
        # (recorded for the floor) say whether it read one page
        calls = _cell(cells, "cold", workload, c1).get("calls_per_query")
        http = _cell(cells, "floor", workload, c1).get("http_calls_per_query")
        if calls is None:
            continue
        counted = f"{calls:.2f} partner calls" + (f", {http} HTTP requests" if http else "")
        one_call = round(calls, 2) == 1 and http in (None, 1)
        lines.append(
            f"| {workload}: 1 partner call for 20 offers of one partner, cold | {counted} "
            f"| {'yes' if one_call else 'NO'} |"
        )
    cold = _cell(cells, "cold", "Q2", c1).get("calls_per_query")
    warm = _cell(cells, "warm-memory", "Q2", c1).get("calls_per_query")
    if cold is not None:
        lines.append(
            f"| Q2: 2 partner calls cold | {cold:.2f} | {'yes' if round(cold, 2) == 2 else 'NO'} |"
        )
    if warm is not None:
        lines.append(f"| Q2: 0 partner calls warm | {warm:.2f} | {'yes' if warm == 0 else 'NO'} |")
    c32 = max(results["settings"]["concurrency"])
    for workload, about in results["workloads"].items():
        reference = about.get("reference")
        measured = {m: _cell(cells, m, workload, c32) for m in COLD_MODES}
        measured = {m: cell for m, cell in measured.items() if cell}  # the modes that ran
        if not reference or not measured or c32 != REFERENCE_CONCURRENCY:
            continue
        # a cell whose answers are errors (timeouts, an open breaker) is fast, not good
        clean = [cell["rps"] for cell in measured.values() if _error_share(cell) < 1]
        best = max(clean, default=0.0)
        each = ", ".join(
            f"{m} {cell['rps']:.0f}" + (f" with {_errors(cell)} errors" if cell["errors"] else "")
            for m, cell in measured.items()
        )
        mesh = reference["mesh_rps"]
        lines.append(
            f"| {workload}: at least half of GraphQL Mesh's {mesh:,.0f} req/s ² "
            f"({reference['what']}), one process, cold, concurrency {c32} "
            f"| {best:.0f} req/s without errors ({each}) | {'yes' if best >= mesh / 2 else 'NO'} |"
        )
    for workload in ONE_PARTNER_PAGES:
        warm_cell = _cell(cells, "warm-memory", workload, c32)
        if warm_cell and c32 == REFERENCE_CONCURRENCY:
            rps = warm_cell["rps"] if _error_share(warm_cell) < 1 else 0.0
            met = "yes" if rps >= WARM_TARGET_RPS else "NO"
            lines.append(
                f"| {workload}: warm (response cache) at least {WARM_TARGET_RPS:,} req/s, "
                f"concurrency {c32} | {rps:.0f} req/s | {met} |"
            )
    loud = [
        cell
        for cell in cells
        if cell["mode"] in COLD_MODES and cell["concurrency"] == c32 and cell.get("errors")
    ]
    if any(cell["mode"] in COLD_MODES and cell["concurrency"] == c32 for cell in cells):
        which = ", ".join(sorted({f"{c['workload']} {c['mode']}" for c in loud})) or "none"
        lines.append(
            f"| no error at concurrency {c32}, cold, default deadlines | cells with errors: "
            f"{which} | {'yes' if not loud else 'NO'} |"
        )
    worst = max(
        (
            (cell["calls_per_query"] / max(cell.get("items") or 1, 1), cell["workload"])
            for cell in cells
            if cell["mode"] == "cold" and cell["concurrency"] == c1 and cell.get("calls_per_query")
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
    bound = run.get("local_max_bytes")
    bound_text = (
        f"{bound / 2**20:.0f} MiB" if bound else f"{run.get('local_max_entries', 0):,} entries"
    )
    lines = [
        f"Memory of one gateway (in-process tier bounded at {bound_text}) answering "
        f"distinct queries: {run['title']} (`{_filter(run['filter'])}`), each a new cache key "
        f"(`publishedSince` shifted by one second), {run.get('concurrency', 8)} at a time:",
        "",
        "| after | RSS MiB | peak RSS MiB | partner answers loaded | req/s | errors |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    stored = 0.0
    for row in run["steps"]:
        stored += (row.get("cache_events") or {}).get("loads", 0.0)
        lines.append(
            f"| {row['after']} | {row['rss_mib']:.0f} | {row['peak_rss_mib']:.0f} "
            f"| {stored:,.0f} | {_num(row.get('rps'))} | {row.get('errors', 0)} |"
        )
    lines += [
        "",
        "The tier is bounded by the encoded size of what it holds (`HUB_CACHE_LOCAL_MAX_BYTES`), "
        "so RSS stops growing once that many bytes are cached, whatever the size of each answer.",
    ]
    return lines


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        f"Measured {results['started']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}, commit {m['commit'] or '?'}{_dirty(results)}; `python -m bench"
        f"{' --quick' if s['quick'] else ''}` ({results['wall_s']:.0f} s). Simulated partners "
        f"(the demo's, one process{_memo(s)}) answer after **{s['latency_ms']:g} ms**; each "
        "gateway is one `alternance-hub serve` process (one uvicorn worker); the load driver "
        "(aiohttp) is its "
        f"own process; {s['duration_s']:g} s measured per cell after {s['warmup_s']:g} s of "
        f"warm-up; gateways restarted for each query. {_contention(results)}",
        "",
        "| query | what | filter |",
        "|---|---|---|",
    ]
    for name, workload in results["workloads"].items():
        lines.append(f"| {name} | {workload['title']} | `{_filter(workload['filter'])}` |")
    if results["cells"]:
        lines += ["", *_table(results)]
    if results["cells"] and any(w.get("reference") for w in results["workloads"].values()):
        lines += ["", REFERENCE_NOTE]
    if any(c["mode"] == "cold" for c in results["cells"]):
        lines += ["", "Partner calls per query:", "", *_calls_table(results)]
    pool = _pool_table(results)
    if pool:
        lines += ["", *pool]
    targets = _targets(results)
    if len(targets) > 2:
        lines += ["", "Targets:", "", *targets]
    memory = _memory(results.get("memory"))
    if memory:
        lines += ["", *memory]
    for section in (_overload(results.get("overload")), _feed_memory(results.get("feed_memory"))):
        if section:
            lines += ["", *section]
    if results.get("notes"):
        lines += ["", *(f"- {note}" for note in results["notes"])]
    return "\n".join(lines) + "\n"


def _memo(settings: dict[str, Any]) -> str:
    return ", each answer rendered once then replayed" if settings.get("partner_memo") else ""


def _dirty(results: dict[str, Any]) -> str:
    code = results.get("code") or {}
    return " with uncommitted changes" if code.get("uncommitted_changes") else ""


def _contention(results: dict[str, Any]) -> str:
    others = [c.get("other_cpu_cores") or 0.0 for c in results["cells"]]
    if not others:
        return ""
    busy = sum(1 for o in others if o > BUSY_CORES)
    text = (
        f"CPU used by processes outside the benchmark: {sum(others) / len(others):.2f} cores on "
        f"average, {max(others):.2f} at most"
    )
    if busy:
        text += f"; ¹ marks the {busy} cells where it exceeded {BUSY_CORES:g} core"
    return text + "."


def _filter(flt: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in flt.items()).replace("'", '"')


README_PREFACE = (
    "`.venv/bin/python -m bench` starts the demo's partners and gateways and measures every "
    "cell below (`--quick` for a short run); `bench/README.md` explains each setup and column. "
    "Q5–Q7 ask Alpes Emploi, the simulated job board with a catalogue of real size (5,000 "
    "offers, pages of at most 500, one value per filter). The columns marked ² are the "
    "GraphQL Mesh and Tailcall figures the issue quotes, measured on this machine by the "
    "issue's author, not by this run. The figures of the last run:\n"
)

_SECTION = re.compile(r"(^## Benchmark\n)(.*?)(?=^## )", re.MULTILINE | re.DOTALL)


def update_readme(path: Path, table: str, preface: str = README_PREFACE) -> None:
    """Replace the body of README.md's "## Benchmark" section (and nothing else)."""
    text = path.read_text(encoding="utf-8")
    if not _SECTION.search(text):
        raise RuntimeError(f"{path}: no '## Benchmark' section followed by another section")
    body = (preface + "\n" if preface else "") + table
    updated = _SECTION.sub(lambda m: m.group(1) + "\n" + body + "\n", text, count=1)
    path.write_text(updated, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report [RESULTS.json] [--readme]``: render a results file again."""
    import argparse

    import orjson

    cli = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    default = Path(__file__).resolve().parent / "results" / "latest.json"
    cli.add_argument("results", nargs="?", type=Path, default=default)
    cli.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = cli.parse_args(argv)
    results = orjson.loads(args.results.read_bytes())
    text = markdown(results)
    args.results.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    if args.readme:
        update_readme(Path(__file__).resolve().parent.parent / "README.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
