"""``alternance-hub extract --demo``: the extract's gateway in front of the simulated partners.

Like ``alternance-hub demo`` (:mod:`demo.run`) it seeds the two training centres' ERPs (into
SQLite files of its own temporary folder: a running demo's PostgreSQL schema is never touched),
runs the demo's identity provider for its settings (audit trail, gateway database, assertion
key) and reads the demo's partners file. The HTTP partners:

- none of the demo's ports answers: they are started on those ports, in a child process, and
  trust the assertion key generated here (Hub3E and AKTO check the signed principal);
- every port answers (a demo is running): they are reused. They trust that demo's assertion
  key, not this one: the extractor signs with the key the running demo names in its note
  (:mod:`demo.running`), or ``HUB_ASSERTION_KEY_FILE`` when set; without either (a demo of an
  older version, say) their counts of people are in the
  extract's failures (their offers are anybody's: counted either way);
- some answer, not all: something else holds some ports, so they are started on free ports.

Everything started here is stopped, and the folder removed, when the extract ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from starlette.applications import Starlette

from gateway.extract_cli import CommandError

__all__ = ["demo_gateway", "running_demo_ports"]

START_TIMEOUT_S = 60.0


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def running_demo_ports() -> dict[str, int] | None:
    """The demo's partner ports when every one accepts a connection, else None."""
    from demo.partner_servers import DEFAULT_PORTS

    return dict(DEFAULT_PORTS) if all(map(_answers, DEFAULT_PORTS.values())) else None


@contextlib.contextmanager
def demo_gateway(stderr: TextIO) -> Iterator[tuple[Starlette, bytes]]:
    """The extract's gateway app over the demo's partners, and the demo partners file's bytes."""
    try:
        from demo.cfa_erp import seed_demo_databases
        from demo.identity_provider import DemoIdentityProvider
        from demo.partner_servers import DEFAULT_PORTS, PartnerProcess, PartnerStartError
        from demo.run import demo_partners, partners_file
        from demo.running import running_demo_key
        from demo.secrets import DEMO_SECRETS
    except ModuleNotFoundError as missing:
        from gateway.cli import DEMO_EXTRA_HINT

        hint = f"this install has no demo (no module {missing.name}): {DEMO_EXTRA_HINT}"
        raise CommandError(hint) from None
    from gateway.app import create_app
    from gateway.settings import Settings
    from identity.assertions import AssertionSigner
    from store.migrate import upgrade_url

    def say(message: str) -> None:
        print(f"extract --demo: {message}", file=stderr, flush=True)

    folder = Path(tempfile.mkdtemp(prefix="alternance-hub-extract-"))
    process: PartnerProcess | None = None
    try:
        for name, value in DEMO_SECRETS.items():
            os.environ.setdefault(name, value)
        say("seeding the two training centres' ERPs (SQLite)...")
        # SQLite by choice, not for want of a PostgreSQL: the seeder's warning would say so.
        seeder_log = logging.getLogger("demo.cfa_erp")
        level = seeder_log.level
        seeder_log.setLevel(logging.ERROR)
        try:
            dsns = asyncio.run(seed_demo_databases(folder / "erp", None))
        finally:
            seeder_log.setLevel(level)
        os.environ.update(dsns)
        provider = DemoIdentityProvider(folder)
        overrides = provider.settings()
        running = running_demo_ports()
        if running is not None:
            say("reusing the simulated partners of the demo running on this machine")
            bound = running
            demo_key = running_demo_key()
            if os.environ.get("HUB_ASSERTION_KEY_FILE"):
                overrides.pop("assertion_key_file")  # the running demo's key, from the setting
            elif demo_key is not None:
                overrides["assertion_key_file"] = demo_key  # the one its partners trust
            else:
                say(
                    "Hub3E and AKTO trust that demo's assertion key: without "
                    "HUB_ASSERTION_KEY_FILE set to it, their counts of people will fail"
                )
        else:
            taken = any(_answers(port) for port in DEFAULT_PORTS.values())
            ports = dict.fromkeys(DEFAULT_PORTS, 0) if taken else dict(DEFAULT_PORTS)
            jwks = AssertionSigner.from_pem_file(provider.assertion_key_file).jwks()
            process = PartnerProcess(ports, assertion_jwks=jwks)
            say(
                "starting the simulated partners"
                + (" on free ports (some of the demo's are taken)" if taken else "")
                + "..."
            )
            try:
                bound = process.start(START_TIMEOUT_S)
            except PartnerStartError as error:
                raise CommandError(f"the simulated partners did not start: {error}") from None
        settings = Settings(development=True, **overrides)
        upgrade_url(settings.database_url, settings.database_schema)
        app = create_app(settings, demo_partners(bound))
        yield app, partners_file().read_bytes()
    finally:
        if process is not None:
            process.stop()
        shutil.rmtree(folder, ignore_errors=True)
