"""Runs every simulated partner on its own loopback port, all in one event loop.

The demo command runs :func:`serve_partners` in a child process; tests may run it in a task
with port 0 and read the ports really bound from ``bound_ports``. Sockets are bound before any
server starts, so a port already in use raises ``OSError`` naming the partner instead of
uvicorn's ``sys.exit``. Cancelling the coroutine stops every server gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Generator

import uvicorn
from starlette.applications import Starlette

from demo import (
    academie,
    akto,
    alpes_emploi,
    apprentissage,
    carif,
    francetravail,
    hub3e,
    jobs_montagne,
    sirene,
)

PartnerFactory = Callable[..., Starlette]

PARTNER_APPS: dict[str, PartnerFactory] = {
    "francetravail": francetravail.create_app,
    "apprentissage": apprentissage.create_app,
    "sirene": sirene.create_app,
    "hub3e": hub3e.create_app,
    "academie": academie.create_app,
    "carif": carif.create_app,
    "akto": akto.create_app,
    "alpes-emploi": alpes_emploi.create_app,
    "jobs-montagne": jobs_montagne.create_app,
}
DEFAULT_PORTS: dict[str, int] = {
    "francetravail": 8101,
    "apprentissage": 8102,
    "sirene": 8103,
    "hub3e": 8105,
    "academie": 8107,
    "carif": 8104,
    "akto": 8106,
    "alpes-emploi": 8108,
    "jobs-montagne": 8109,
}
HOST = "127.0.0.1"


class _PartnerServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its caller (several share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(name: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it small answers on a kept-alive connection wait ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        raise OSError(error.errno, f"partner {name}: cannot listen on {HOST}:{port}") from None
    return sock


async def serve_partners(
    ports: dict[str, int],
    latency_ms: float = 0,
    ready: asyncio.Event | None = None,
    bound_ports: dict[str, int] | None = None,
) -> None:
    """Serve ``ports`` (partner name -> port, 0 = any free port) until cancelled."""
    unknown = sorted(set(ports) - set(PARTNER_APPS))
    if unknown:
        raise ValueError(f"unknown partners: {', '.join(unknown)}")
    sockets: list[tuple[str, socket.socket]] = []
    try:
        for name, port in ports.items():
            sockets.append((name, _bind(name, port)))
    except OSError:
        for _, sock in sockets:
            sock.close()
        raise
    servers = []
    for name, _ in sockets:
        app = PARTNER_APPS[name](latency_ms=latency_ms)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        servers.append(_PartnerServer(config))
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock]), name=f"partner-{name}")
        for server, (name, sock) in zip(servers, sockets, strict=True)
    ]
    try:
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                break  # a server failed to start: gather below raises its error
            await asyncio.sleep(0.01)
        if bound_ports is not None:
            bound_ports.update({name: sock.getsockname()[1] for name, sock in sockets})
        if ready is not None:
            ready.set()
        await asyncio.gather(*tasks)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for _, sock in sockets:
            sock.close()
