"""``alternance-hub demo``: every simulated partner in a child process, the gateway in this one.

Partners run in their own process so that their CPU does not count against the gateway's (the
benchmark measures the gateway), and so that stopping the demo with Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import sys
import time
import tomllib
from importlib import resources
from pathlib import Path

import uvicorn

from adapters.partners_file import PartnersFile, parse_partners
from demo.secrets import DEMO_SECRETS

STARTUP_TIMEOUT_S = 60.0


def partners_file() -> Path:
    return Path(str(resources.files("demo") / "partners.toml"))


def _run_partners(ports: dict[str, int], latency_ms: float) -> None:
    from demo.partner_servers import serve_partners

    asyncio.run(serve_partners(ports, latency_ms=latency_ms))


def _wait_for(ports: dict[str, int], child: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    pending = dict(ports)
    while pending:
        if not child.is_alive():
            raise RuntimeError("the simulated partners stopped during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"partners not listening after {STARTUP_TIMEOUT_S:g} s: {sorted(pending)}"
            )
        for name, port in list(pending.items()):
            with socket.socket() as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    del pending[name]
        time.sleep(0.1)


EXAMPLES = """
Open http://{host}:{port}/graphql in a browser: GraphiQL, with an example query preloaded.
Or POST plain JSON, e.g.:

  curl -s http://{host}:{port}/graphql -H 'content-type: application/json' \\
    -d '{{"query": "{{ partners(probe: true) {{ id kind health }} }}"}}'

More queries to paste into GraphiQL:

  {{ trainingPrograms(filter: {{departements: ["74"]}}, first: 5) {{
      edges {{ node {{ title sessions {{ start capacity }} responsible {{ name uai }} }} }} }} }}
  {{ organisation(siret: "12345678901234") {{ name }} }}   # a typed BAD_USER_INPUT error
  {{ commune(inseeCode: "73065") {{ name population departement {{ academie {{ name }} }} }} }}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_partners(ports: dict[str, int]) -> PartnersFile:
    """The demo's partners file, with each simulated HTTP partner at its actual port."""
    data = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    for name, port in ports.items():
        block = data["partners"].get(name)
        if block is not None and "base_url" in block:
            block["base_url"] = f"http://127.0.0.1:{port}"
    return parse_partners(data, str(partners_file()))


def run_demo(
    port: int = 8000,
    host: str = "127.0.0.1",
    latency_ms: float = 0.0,
    partner_port_base: int | None = None,
) -> int:
    """Run the demo; ``partner_port_base`` 0 picks free ports for the partners."""
    from demo.cfa_erp import prepare_demo_databases
    from demo.partner_servers import DEFAULT_PORTS
    from gateway.app import create_app
    from gateway.logs import configure, uvicorn_logging
    from gateway.runtime import tune_gc
    from gateway.settings import Settings

    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    configure("WARNING")
    if partner_port_base is None:
        ports = dict(DEFAULT_PORTS)
    elif partner_port_base == 0:
        ports = {name: free_port() for name in DEFAULT_PORTS}
    else:
        first = min(DEFAULT_PORTS.values())
        ports = {n: partner_port_base + p - first for n, p in DEFAULT_PORTS.items()}
    for name, dsn in prepare_demo_databases().items():
        os.environ.setdefault(name, dsn)
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_run_partners, args=(ports, latency_ms), name="demo-partners", daemon=True
    )
    child.start()
    try:
        _wait_for(ports, child)
        settings = Settings(development=True)
        app = create_app(settings, demo_partners(ports))
        print(f"alternance-hub demo: http://{host}:{port}/graphql", flush=True)
        print(f"partners: {', '.join(f'{n} :{p}' for n, p in ports.items())}")
        print(EXAMPLES.format(host=host, port=port), flush=True)
        tune_gc()
        uvicorn.run(app, host=host, port=port, **uvicorn_logging("WARNING"))
    except RuntimeError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    finally:
        child.terminate()
        child.join(5)
    return 0
