"""The benchmark's machinery on a real loopback demo: a handful of requests, no timing asserted.

Every simulated partner and one gateway run on free loopback ports in this event loop; the
driver (:func:`bench.driver.run`, what ``python -m bench.driver`` runs) sends a few requests to
the gateway and replays a recorded floor plan against the partners. What is checked is what
the benchmark's table would be wrong without: requests counted, no errors, the latency summary
ordered, partner calls per query read from ``/metrics``, the plan's stages.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn

from bench import driver, floor, report, stack
from bench.workloads import MEMORY, WORKLOADS
from demo.cfa_erp import seed_demo_databases
from demo.partner_servers import PARTNER_APPS, serve_partners
from demo.secrets import DEMO_SECRETS


class _Server(uvicorn.Server):
    """A uvicorn server that says when it listens and leaves signals to the test's loop."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
async def partners_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    """Every demo partner on free ports, and a partners file pointing at them."""
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    for name, value in (await seed_demo_databases(tmp_path / "data", None)).items():
        monkeypatch.setenv(name, value)
    ready, bound = asyncio.Event(), dict[str, int]()
    task = asyncio.create_task(
        serve_partners(dict.fromkeys(PARTNER_APPS, 0), ready=ready, bound_ports=bound)
    )
    async with asyncio.timeout(30):
        await ready.wait()
    try:
        yield stack.write_partners_file(tmp_path, bound)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def gateway_url(partners_file: Path) -> AsyncIterator[str]:
    """One cache-off gateway (the benchmark's cold setting) on a free loopback port."""
    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.settings import Settings

    app = create_app(Settings(cache_enabled=False), load_partners(partners_file))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(30):
        await server.listening.wait()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_driver_counts_requests_and_partner_calls(gateway_url: str) -> None:
    result = await driver.run(
        {
            "kind": "graphql",
            "targets": [gateway_url],
            "workload": "Q1",
            "concurrency": 2,
            "requests": 6,  # six distinct variants: six partner calls, caching off
            "first_variant": 1,
        }
    )

    assert result["requests"] == 6
    assert result["errors"] == 0, result["error_sample"]
    latency = result["latency_ms"]
    assert 0 < latency["min"] <= latency["p50"] <= latency["p95"] <= latency["p99"]
    assert latency["p99"] <= latency["max"]
    assert result["rps"] > 0
    # Q1 asks one partner, once per query
    assert result["partner_calls"] == {"francetravail": 6.0}
    assert result["calls_per_query"] == 1.0


async def test_timed_cell_reports_a_sample_answer(gateway_url: str) -> None:
    result = await driver.run(
        {
            "kind": "graphql",
            "targets": [gateway_url],
            "workload": "Q2",
            "concurrency": 1,
            "warmup_s": 0.05,
            "duration_s": 0.2,
        }
    )

    assert result["errors"] == 0, result["error_sample"]
    assert result["requests"] >= 1
    assert result["items"] == WORKLOADS["Q2"].page  # the filter matches more than a page
    assert result["total_count"] > result["items"]
    # the offers, then the employers (batched): never one call per offer
    assert "apprentissage" in result["partner_calls"]
    assert "sirene" in result["partner_calls"]
    assert result["calls_per_query"] < 10


async def test_floor_plan_replays_the_gateways_calls(partners_file: Path) -> None:
    plan = await floor.record_plan(partners_file, WORKLOADS["Q2"])

    # the page of offers first, then its employers from the directory, in one batch
    assert [c.partner for c in plan[0]] == ["apprentissage"]
    assert [c.partner for c in plan[1]].count("sirene") == 1
    assert floor.describe(plan).startswith("apprentissage → ")
    result = await driver.run(
        {"kind": "floor", "plan": floor.plan_to_json(plan), "concurrency": 2, "requests": 4}
    )
    assert result["requests"] == 4
    assert result["errors"] == 0, result["error_sample"]


def test_stages_group_calls_that_overlap() -> None:
    def call(partner: str, started: float, ended: float) -> floor.Call:
        return floor.Call(partner, "GET", "http://x/", {}, b"", started, ended, 200)

    plan = floor.stages(
        [call("b", 1.0, 2.0), call("a", 0.0, 1.0), call("c", 1.1, 1.9), call("d", 2.5, 3.0)]
    )

    assert [[c.partner for c in stage] for stage in plan] == [["a"], ["b", "c"], ["d"]]


def test_variants_are_distinct_queries_of_the_same_shape() -> None:
    first, second = MEMORY.variables(1), MEMORY.variables(2)

    assert first != second
    assert first["filter"]["publishedSince"] < second["filter"]["publishedSince"]
    assert MEMORY.variables(0) == {"filter": MEMORY.filter}


def test_readme_section_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Benchmark\n\n<!-- BENCH -->\n\n## Limits\n\nkept\n")

    report.update_readme(readme, "| table |\n", preface="")
    report.update_readme(readme, "| newer |\n", preface="Run it.\n")

    assert readme.read_text() == (
        "# x\n\n## Benchmark\n\nRun it.\n\n| newer |\n\n## Limits\n\nkept\n"
    )


async def test_aiohttp_transport_carries_partner_calls(
    partners_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HUB_HTTP_TRANSPORT=aiohttp`` (the benchmark's transport comparison) answers alike."""
    import httpx
    from httpx_aiohttp import AiohttpTransport

    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.settings import Settings

    monkeypatch.setenv("HUB_HTTP_TRANSPORT", "aiohttp")
    app = create_app(Settings(cache_enabled=False), load_partners(partners_file))
    registry = app.state.registry
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for name in ("Q1", "Q2"):
                workload = WORKLOADS[name]
                response = await client.post(
                    "/graphql",
                    content=workload.payload(0),
                    headers={"content-type": "application/json"},
                )
                answer = response.json()
                assert "errors" not in answer
                assert len(answer["data"][workload.root]["edges"]) == workload.page
        client_transport = registry.source("francetravail").adapter.http.client._transport
        assert isinstance(client_transport, AiohttpTransport)
    finally:
        await registry.aclose()
