"""The processes under test: the simulated partners and one or more gateways.

The partners are the demo's own (``demo.partner_servers``) in one child process, as
``alternance-hub demo`` runs them, but on ports shifted by ``PORT_OFFSET`` (8101 -> 18101) and
with a copy of ``demo/partners.toml`` pointing there, so the benchmark never collides with a
demo someone left running. Each gateway is ``alternance-hub serve`` (production settings) in its
own process, so its pid, its memory and its CPU are its own; cache and transport settings are
passed as ``HUB_*`` environment variables, exactly as an operator would.

Run as ``python -m bench.stack --offset N --latency-ms L`` it serves the partners (the child).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PORT_OFFSET = 10_000
GATEWAY_PORT = 18_000
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
MAX_PAGE_SIZE = 500  # Q5 asks 500 offers in one page, as the comparison did
ROOT = Path(__file__).resolve().parent.parent
DEMO_PARTNERS_FILE = ROOT / "demo" / "partners.toml"
_LOCAL_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


def shifted_ports(offset: int = PORT_OFFSET) -> dict[str, int]:
    from demo.partner_servers import DEFAULT_PORTS

    return {name: port + offset for name, port in DEFAULT_PORTS.items()}


def write_partners_file(directory: Path, ports: Mapping[str, int]) -> Path:
    """A copy of the demo's partners file whose loopback base URLs use ``ports`` instead.

    ``ports`` maps a partner name to the port it now listens on; each demo port (8101...) in
    the file is replaced by the port of the partner that the demo puts there.
    """
    from demo.partner_servers import DEFAULT_PORTS

    moved = {DEFAULT_PORTS[name]: port for name, port in ports.items()}
    text = DEMO_PARTNERS_FILE.read_text(encoding="utf-8")
    shifted = _LOCAL_URL.sub(
        lambda m: f"http://{HOST}:{moved.get(int(m.group(1)), int(m.group(1)))}", text
    )
    path = directory / "partners.toml"
    path.write_text(shifted, encoding="utf-8")
    return path


def gateway_environment(data_dir: Path) -> dict[str, str]:
    """The demo's credentials, the SQL partners' DSNs (seeded into SQLite under data_dir), and
    the page size Q5 asks (``first: 500``; the gateway's default bound is lower).

    SQLite only: the benchmark must not touch a PostgreSQL database other work may be using.
    """
    from demo.cfa_erp import seed_demo_databases
    from demo.secrets import DEMO_SECRETS

    env = dict(DEMO_SECRETS)
    env.update(asyncio.run(seed_demo_databases(data_dir, None)))
    env["HUB_MAX_PAGE_SIZE"] = str(MAX_PAGE_SIZE)
    # `serve` is production: it needs a pepper and an audit key, and migrates its own database
    # (under data_dir).
    env["HUB_API_KEY_PEPPER"] = secrets.token_urlsafe(32)
    env["HUB_AUDIT_KEY"] = secrets.token_urlsafe(32)
    env["HUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{data_dir / 'hub.sqlite3'}"
    return env


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) != 0


def wait_listening(ports: Mapping[str, int], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = dict(ports)
    while pending:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not listening after {START_TIMEOUT_S:g} s: {sorted(pending)}")
        for name, port in list(pending.items()):
            if not port_free(port):
                del pending[name]
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of ``pid`` in KiB, from /proc/<pid>/status."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@contextlib.contextmanager
def partners(
    latency_ms: float, offset: int = PORT_OFFSET, memoise: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    ports = shifted_ports(offset)
    busy = [f"{name}:{port}" for name, port in ports.items() if not port_free(port)]
    if busy:
        raise RuntimeError(f"ports in use, give another --port-offset: {', '.join(busy)}")
    command = [sys.executable, "-m", "bench.stack", "--offset", str(offset)]
    command += ["--latency-ms", str(latency_ms)] + ([] if memoise else ["--no-memo"])
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        wait_listening(ports, process)
        yield process
    finally:
        _stop(process)


@dataclass
class Gateway:
    """One ``alternance-hub serve`` process."""

    port: int
    process: subprocess.Popen[bytes]
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def memory(self) -> dict[str, int]:
        return proc_status(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def partner_calls(self) -> dict[str, float]:
        return partner_calls(self.url)


def partner_calls(url: str) -> dict[str, float]:
    """``hub_partner_calls_total`` of one gateway, per partner (success + failure)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    calls: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "hub_partner_calls":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                partner = sample.labels["partner"]
                calls[partner] = calls.get(partner, 0.0) + sample.value
    return calls


@contextlib.contextmanager
def gateways(
    count: int,
    partners_file: Path,
    base_env: Mapping[str, str],
    settings: Mapping[str, str],
    first_port: int = GATEWAY_PORT,
) -> Iterator[list[Gateway]]:
    """``count`` gateways on consecutive ports, each with ``HUB_*`` ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(base_env)
    env.update({"HUB_LOG_LEVEL": "WARNING", **settings})
    started: list[Gateway] = []
    try:
        for index in range(count):
            port = first_port + index
            if not port_free(port):
                raise RuntimeError(f"gateway port {port} in use, give another --port-offset")
            command = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(partners_file)]
            command += ["--host", HOST, "--port", str(port)]
            process = subprocess.Popen(command, cwd=ROOT, env=env)
            started.append(Gateway(port, process, dict(settings)))
            wait_listening({"gateway": port}, process)
        yield started
    finally:
        for gateway in started:
            _stop(gateway.process)


class MemoisedPartner:
    """An ASGI wrapper that answers a request it has already answered from memory.

    The demo partners are deterministic but render every answer in Python; on a 2-core machine
    their CPU would compete with the gateway's and cap what the benchmark can see. Memoised,
    a repeated call costs the partner little more than its latency, which is still slept on
    every call, as a real partner's network and database time would be. Only successful
    answers are kept, keyed by method, path, query, body and credential headers (a refused
    credential is still refused); token requests always reach the partner.
    """

    def __init__(self, app: ASGIApp, latency_s: float) -> None:
        self.app = app
        self.latency_s = latency_s
        self.answers: dict[tuple[object, ...], list[Message]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "token" in scope["path"]:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        credentials = tuple(
            (k, v) for k, v in scope["headers"] if k == b"authorization" or b"key" in k
        )
        key = (scope["method"], scope["path"], scope["query_string"], body, credentials)
        known = self.answers.get(key)
        if known is not None:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            for message in known:
                await send(message)
            return
        sent: list[Message] = []
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            sent.append(message)
            await send(message)

        await self.app(scope, replay, capture)
        if sent and sent[0]["type"] == "http.response.start" and sent[0]["status"] < 300:
            self.answers[key] = sent


def _serve(offset: int, latency_ms: float, memoise: bool) -> None:
    from demo import partner_servers

    # asyncio sets TCP_NODELAY only on sockets whose proto says IPPROTO_TCP; a socket made as
    # socket(AF_INET, SOCK_STREAM) says 0, so without this every small answer on a reused
    # connection waited 40 ms for the client's delayed ACK (Nagle). Re-wrapping the bound
    # socket reads its proto back from the kernel.
    bind = partner_servers._bind

    def bind_tcp(name: str, port: int) -> socket.socket:
        return socket.socket(fileno=bind(name, port).detach())

    partner_servers._bind = bind_tcp
    if memoise:
        for name, factory in list(partner_servers.PARTNER_APPS.items()):
            partner_servers.PARTNER_APPS[name] = _memoising(factory)
    with contextlib.suppress(KeyboardInterrupt):
        coroutine = partner_servers.serve_partners(shifted_ports(offset), latency_ms=latency_ms)
        asyncio.run(coroutine)


def _memoising(factory: Callable[..., Starlette]) -> Callable[..., Starlette]:
    def build(latency_ms: float = 0, **options: Any) -> Starlette:
        app = factory(latency_ms=latency_ms, **options)
        app.add_middleware(MemoisedPartner, latency_s=latency_ms / 1000)
        return app

    return build


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="serve the demo partners on shifted ports")
    cli.add_argument("--offset", type=int, default=PORT_OFFSET)
    cli.add_argument("--latency-ms", type=float, default=20.0)
    cli.add_argument("--no-memo", action="store_true", help="render every answer")
    arguments = cli.parse_args()
    _serve(arguments.offset, arguments.latency_ms, not arguments.no_memo)
