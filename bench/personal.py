"""The personal half, cold: a centre's page of 50 applications and one apprentice's Dossier.

    .venv/bin/python -m bench.personal [--requests 200]

Everything runs in this process (the gateway over ASGI, the demo's HTTP partners over ASGI,
the two ERPs in SQLite files), as a TRAINING_CENTRE credential of the demo's identity provider.
Personal data is never cached, so every request reads the owners again: each figure is cold.

For each query: the partner operations one request makes (list and look-up calls, counted at
the source layer) and its p50/p95; and the **floor**: those same partner operations, recorded
during one request and replayed directly on the adapters in the same stages (operations that
overlapped run together), without GraphQL, the policy or the resolvers. The difference is what
the gateway adds on top of asking the owners.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import statistics
import tempfile
import time
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters import acting
from adapters.partners_file import parse_partners
from demo import people
from demo.cfa_erp import seed_demo_databases
from demo.identity_provider import DemoIdentityProvider
from demo.partner_servers import PARTNER_APPS, SERVED_BY
from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from gateway.app import create_app
from gateway.settings import Settings
from identity.assertions import AssertionSigner
from resolvers.ids import global_id
from sources.registry import Source
from store.migrate import upgrade_url

APPLICATIONS = """{ applications(first: 50) { edges { node { id status updatedAt
  history { status at } candidate { lastName } employer { siret } } } } }"""
DOSSIER = """query($id: ID!) { dossier(candidate: $id) {
  candidate { lastName birthDate provenance { partner } }
  applications { status history { status at } }
  contracts { decaNumber status funding { decision } }
  followUps { kind date visibility }
  timeline { at event } } }"""


@dataclass
class Operation:
    started: float
    ended: float
    call: Callable[[], Awaitable[Any]]
    acting_for: acting.Acting | None  # who the request acted for: replayed with the call

    async def replay(self) -> Any:
        with acting.restored(self.acting_for):
            return await self.call()


class Recorder:
    """Every partner operation of the source layer, with when it ran (wraps Source.call)."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.recording = False
        self._original = Source.call

    def install(self) -> None:
        recorder, original = self, self._original

        async def call(source: Source, operation: Callable[[], Awaitable[Any]]) -> Any:
            started = time.perf_counter()
            try:
                return await original(source, operation)
            finally:
                if recorder.recording:
                    recorder.operations.append(
                        Operation(started, time.perf_counter(), operation, acting.current())
                    )

        setattr(Source, "call", call)  # noqa: B010 - a benchmark probe, replaced for the run

    def stages(self) -> list[list[Operation]]:
        """Operations that overlapped form a stage; one starting after all ended, the next."""
        stages: list[list[Operation]] = []
        ended = -1.0
        for operation in sorted(self.operations, key=lambda o: o.started):
            if not stages or operation.started >= ended:
                stages.append([])
            stages[-1].append(operation)
            ended = max(ended, operation.ended)
        return stages


async def run(requests: int) -> None:
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    folder = Path(tempfile.mkdtemp(prefix="alternance-hub-bench-personal-"))
    for name, dsn in (await seed_demo_databases(folder / "erp", None)).items():
        os.environ[name] = dsn
    provider = DemoIdentityProvider(folder / "idp")
    options = provider.settings()
    await asyncio.to_thread(upgrade_url, options["database_url"])
    jwks = AssertionSigner.from_pem_file(provider.assertion_key_file).jwks()
    config = parse_partners(tomllib.loads(partners_file().read_text(encoding="utf-8")))
    transports = {}
    apps: dict[str, Any] = {}
    for name in config.partners:
        served_by = SERVED_BY.get(name, name)  # akto-contrats is served by the akto app
        factory = PARTNER_APPS.get(served_by)
        if factory is None:
            continue
        if served_by not in apps:
            # Only the partners holding personal data take the hub's keys (and check them).
            checks = "assertion_jwks" in inspect.signature(factory).parameters
            apps[served_by] = factory(assertion_jwks=jwks) if checks else factory()
        transports[name] = httpx.ASGITransport(app=apps[served_by])
    app = create_app(Settings(development=False, **options), config, transports)
    token = provider.credentials()["TRAINING_CENTRE"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    candidate = global_id("candidate", people.WALKTHROUGH_ERP, str(people.WALKTHROUGH_CANDIDATE_ID))
    recorder = Recorder()
    recorder.install()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub.test", timeout=30
        ) as client,
    ):
        for label, query, variables in (
            ("50 applications of a centre", APPLICATIONS, {}),
            ("one Dossier", DOSSIER, {"id": candidate}),
        ):
            body = {"query": query, "variables": variables}

            async def once(body: dict[str, Any] = body) -> float:
                started = time.perf_counter()
                answer = await client.post("/graphql", json=body, headers=headers)
                assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
                return time.perf_counter() - started

            await once()  # connections, feeds, imports
            recorder.operations.clear()
            recorder.recording = True
            await once()
            recorder.recording = False
            stages = recorder.stages()
            operations = sum(len(s) for s in stages)
            gateway = sorted([await once() for _ in range(requests)])
            floor = sorted([await _replay(stages) for _ in range(requests)])
            print(
                f"{label}: {operations} partner operations in {len(stages)} stages; "
                f"gateway p50 {_ms(gateway, 50)} p95 {_ms(gateway, 95)} ms; "
                f"floor p50 {_ms(floor, 50)} p95 {_ms(floor, 95)} ms; "
                f"the gateway adds {_ms(gateway, 50) - _ms(floor, 50):.1f} ms at p50"
            )


async def _replay(stages: list[list[Operation]]) -> float:
    started = time.perf_counter()
    for stage in stages:
        await asyncio.gather(*(operation.replay() for operation in stage))
    return time.perf_counter() - started


def _ms(samples: list[float], percentile: int) -> float:
    if percentile == 50:
        return round(statistics.median(samples) * 1000, 1)
    index = min(len(samples) - 1, round(len(samples) * percentile / 100))
    return round(samples[index] * 1000, 1)


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.personal", description=__doc__)
    cli.add_argument("--requests", type=int, default=200)
    asyncio.run(run(cli.parse_args().requests))


if __name__ == "__main__":
    main()
