"""A gateway in a process of its own, for load tests: ``python -m tests.gateway.served_hub``.

Three processes, as in production: the test's load generator, this gateway (uvicorn with
uvloop and httptools, as ``serve`` runs it) and, in a child process, the demo partners named on
the command line, each on a free 127.0.0.1 port. The first line of stdout gives the gateway's
port: ``listening <port>``. Settings come from ``HUB_*`` variables. SIGTERM stops both.

    python -m tests.gateway.served_hub francetravail apprentissage sirene
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
from multiprocessing.connection import Connection

import uvicorn
import uvloop

from adapters.partners_file import parse_partners
from demo.partner_servers import serve_partners
from demo.secrets import DEMO_SECRETS
from gateway.app import create_app
from gateway.http_protocol import PROTOCOL
from gateway.settings import Settings
from tests.gateway.hubkit import demo_partner_blocks


def _partners_process(names: list[str], ports_to: Connection, parent: int) -> None:
    async def run() -> None:
        ready, bound = asyncio.Event(), dict[str, int]()
        task = asyncio.create_task(
            serve_partners(dict.fromkeys(names, 0), ready=ready, bound_ports=bound)
        )
        await ready.wait()
        ports_to.send(bound)
        # The gateway gone, however it ended (no event says so): stop too.
        while os.getppid() == parent:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        task.cancel()

    uvloop.run(run())


async def serve(names: list[str], ports: dict[str, int]) -> None:
    document = demo_partner_blocks(names)
    for name, port in ports.items():
        document["partners"][name]["base_url"] = f"http://127.0.0.1:{port}"
    app = create_app(Settings(), parse_partners(document))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        http=PROTOCOL,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            break
        await asyncio.sleep(0.01)
    else:
        print(f"listening {sock.getsockname()[1]}", flush=True)
    await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("partners", nargs="+")
    names = parser.parse_args().partners
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    spawn = multiprocessing.get_context("spawn")
    receiving, sending = spawn.Pipe(duplex=False)
    # daemon: stopped when this process exits, however uvicorn ends
    partners = spawn.Process(
        target=_partners_process, args=(names, sending, os.getpid()), daemon=True
    )
    partners.start()
    if not receiving.poll(30):
        raise RuntimeError("the partners did not start")
    uvloop.run(serve(names, receiving.recv()))


if __name__ == "__main__":
    main()
