"""``HUB_METRICS_PORT``: ``/metrics`` on a port of its own, started and stopped with the app's
lifespan, and no longer on the public port (a real uvicorn on 127.0.0.1, lifespan on)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from gateway.metrics_server import MetricsServer
from gateway.settings import Settings
from tests.gateway.hubkit import start_hub
from tests.gateway.metrics_text import samples


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """``app`` behind uvicorn on a free port, its lifespan run (startup and shutdown)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # bounded: 5 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def test_metrics_move_to_their_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(monkeypatch, settings=Settings(metrics_port=0))
    server: MetricsServer = hub.app.state.metrics_server
    try:
        async with serving(hub.app) as public, httpx.AsyncClient() as client:
            port = server.port
            assert port is not None
            answer = await client.post(
                f"{public}/graphql", json={"query": '{ departement(code: "73") { name } }'}
            )
            hidden = await client.get(f"{public}/metrics")
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await hub.aclose()

    assert answer.status_code == 200
    assert hidden.status_code == 404
    assert hidden.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert scraped.status_code == 200
    names = {name for name, _ in samples(scraped.text)}
    assert {"hub_requests_total", "hub_partner_breaker_state", "process_cpu_seconds_total"} <= names
    assert server.port is None  # stopped with the app
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/metrics")


async def test_without_a_metrics_port_metrics_stay_on_the_public_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(monkeypatch, settings=Settings())
    try:
        response = await hub.client.get("/metrics")
    finally:
        await hub.aclose()
    assert hub.app.state.metrics_server is None
    assert response.status_code == 200
    assert "hub_requests_in_flight" in response.text


def test_a_busy_metrics_port_moves_to_the_next_free_one() -> None:
    """What each worker of ``serve --workers N`` does after the first took the port."""
    from prometheus_client import CollectorRegistry

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = MetricsServer(CollectorRegistry(), "127.0.0.1", busy)
        bound = server.start()
        try:
            assert busy < bound < busy + 64
            assert httpx.get(f"http://127.0.0.1:{bound}/metrics").status_code == 200
        finally:
            server.stop()
