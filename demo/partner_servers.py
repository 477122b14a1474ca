"""Runs every simulated partner on its own loopback port, all in one event loop.

The demo command runs :func:`serve_partners` in a child process (:class:`PartnerProcess`);
tests may run it in a task with port 0 and read the ports really bound from ``bound_ports``.
Sockets are bound before any server starts, so a port already in use raises ``OSError``
naming the partner and the port instead of uvicorn's ``sys.exit``. Cancelling the coroutine
stops every server gracefully.

``assertion_jwks`` (the hub's public keys, a JWKS dict) is handed to the partners that hold
personal data (:data:`PERSONAL_PARTNERS`): their personal routes then require the hub's signed
principal assertion. Without it they answer as before (every record, unfiltered).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection
from typing import Any

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
SERVED_BY: dict[str, str] = {"akto-contrats": "akto"}
"""Blocks of the partners file served by another partner's server: AKTO's contracts API (a
REST block) shares the server of its CSV exports (a feed block)."""
PERSONAL_PARTNERS = frozenset({"hub3e", "akto"})
"""The HTTP partners serving personal data, which check the signed principal (the ERPs are
databases: the hub's policy alone guards them)."""
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
        reason = error.strerror or error.__class__.__name__
        raise OSError(
            error.errno, f"partner {name}: cannot listen on {HOST}:{port}: {reason}"
        ) from None
    return sock


async def serve_partners(
    ports: dict[str, int],
    latency_ms: float = 0,
    ready: asyncio.Event | None = None,
    bound_ports: dict[str, int] | None = None,
    assertion_jwks: dict[str, Any] | None = None,
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
        if name in PERSONAL_PARTNERS:
            app = PARTNER_APPS[name](latency_ms=latency_ms, assertion_jwks=assertion_jwks)
        else:
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


class PartnerStartError(RuntimeError):
    """The simulated partners could not start; the message says why (a busy port, by number)."""


async def _serve_until_stopped(
    ports: dict[str, int],
    latency_ms: float,
    report: Connection,
    assertion_jwks: dict[str, Any] | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        # Readable once the demo's process is gone, however it went (even SIGKILL): the
        # partners never outlive it and never hold their ports for the next demo.
        loop.add_reader(parent.sentinel, stop.set)
    ready, bound = asyncio.Event(), dict[str, int]()
    serving = asyncio.create_task(
        serve_partners(ports, latency_ms, ready, bound, assertion_jwks=assertion_jwks)
    )
    started = asyncio.create_task(ready.wait())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, started, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if serving.done() and serving.exception() is not None:
        report.send(("error", str(serving.exception())))
    elif ready.is_set():
        report.send(("ready", bound))
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (serving, started, stopped):
        task.cancel()
    await asyncio.gather(serving, started, stopped, return_exceptions=True)


def _partner_process_main(
    ports: dict[str, int],
    latency_ms: float,
    report: Connection,
    assertion_jwks: dict[str, Any] | None = None,
) -> None:
    # Ctrl-C reaches the whole process group; the demo decides when its partners stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_serve_until_stopped(ports, latency_ms, report, assertion_jwks))
    finally:
        report.close()


class PartnerProcess:
    """Every simulated partner in one spawned child process, so its CPU is not the gateway's.

    :meth:`start` returns the ports really bound (0 in ``ports`` picks a free one) once every
    partner listens, or raises :class:`PartnerStartError` saying which port could not be
    bound: a port in use is an error, never a partner of an earlier demo silently reused.
    :meth:`stop` sends SIGTERM (the child stops its servers gracefully), then SIGKILL past
    ``stop_timeout_s``. The child also stops by itself when the demo's process dies.
    """

    def __init__(
        self,
        ports: dict[str, int],
        latency_ms: float = 0,
        assertion_jwks: dict[str, Any] | None = None,
    ) -> None:
        self.ports = dict(ports)
        self.latency_ms = latency_ms
        self.assertion_jwks = assertion_jwks
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reports: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(
        self, timeout_s: float = 60.0, give_up: Callable[[], bool] = lambda: False
    ) -> dict[str, int]:
        """The ports bound; ``give_up`` returning true ends the wait early (an empty dict)."""
        context = multiprocessing.get_context("spawn")
        self._reports, child_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_partner_process_main,
            args=(self.ports, self.latency_ms, child_end, self.assertion_jwks),
            name="demo-partners",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if give_up():
                return {}
            if self._reports.poll(0.1):
                try:
                    kind, value = self._reports.recv()
                except EOFError:
                    break  # the child died before reporting: said below
                if kind == "ready":
                    return dict(value)
                raise PartnerStartError(str(value))
            if not self._process.is_alive():
                break
        if self._process.is_alive():
            raise PartnerStartError(f"the simulated partners did not start within {timeout_s:g} s")
        raise PartnerStartError(
            f"the simulated partners stopped during start-up (exit code {self._process.exitcode})"
        )

    def stop(self, timeout_s: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.is_alive():
                process.terminate()
                process.join(timeout_s)
            if process.is_alive():
                process.kill()
                process.join(timeout_s)
            process.close()
        if self._reports is not None:
            self._reports.close()
            self._reports = None
