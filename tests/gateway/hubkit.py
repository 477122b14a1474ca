"""A gateway wired to the real simulated partners, in-process (httpx.ASGITransport).

``Hub`` holds the gateway app, the partner apps (whose ``state.calls`` counters tell how many
calls each partner served) and a client; ``hub.query(...)`` posts a GraphQL document.
"""

from __future__ import annotations

import contextlib
import gc
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.partners_file import parse_partners
from demo.faults import FaultInjector
from demo.partner_servers import PARTNER_APPS, SERVED_BY
from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from gateway.app import create_app
from gateway.settings import Settings

SKELETON_PARTNERS = ("francetravail", "apprentissage", "sirene")

# A test gateway gives each partner this deadline unless the test sets its own: the demo's 2 s
# is a production figure, and a test that is not about time (a field's value whatever else is
# selected, say) must not fail because the whole suite on a loaded CI machine once paused the
# shared event loop for 2 s. Tests about deadlines set ``deadline_s`` in ``overrides``.
TEST_PARTNER_DEADLINE_S = 4.5
ALL_PARTNERS = (
    "francetravail",
    "apprentissage",
    "sirene",
    "cfa-btp",
    "cfa-hotellerie",
    "hub3e",
    "academie",
    "carif",
    "akto",
)


def demo_partner_blocks(names: Iterable[str]) -> dict[str, Any]:
    data = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    wanted = set(names)
    return {**data, "partners": {k: v for k, v in data["partners"].items() if k in wanted}}


@dataclass
class Hub:
    app: Starlette
    partner_apps: dict[str, Any]
    faults: dict[str, FaultInjector]
    client: httpx.AsyncClient
    extra: dict[str, Any] = field(default_factory=dict)

    async def query(self, document: str, variables: Mapping[str, Any] | None = None) -> Any:
        response = await self.client.post(
            "/graphql", json={"query": document, "variables": dict(variables or {})}
        )
        answer = response.json()
        # A document refused before execution (syntax, validation, a variable) is a 400 with
        # no `data`; everything executed is a 200.
        assert response.status_code == (200 if "data" in answer else 400), response.text
        return answer

    def calls(self, partner: str) -> int:
        return sum(self.partner_apps[partner].state.calls.values())

    def all_calls(self) -> dict[str, int]:
        return {name: self.calls(name) for name in self.partner_apps}

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.app.state.registry.aclose()
        await self.app.state.cache.aclose()
        if self.app.state.stores is not None:
            await self.app.state.stores.aclose()
        await self.app.state.identity.aclose()


async def start_hub(
    monkeypatch: Any,
    partners: Iterable[str] = SKELETON_PARTNERS,
    settings: Settings | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    apps: Mapping[str, Any] | None = None,
) -> Hub:
    """A gateway over the demo blocks ``partners``; ``apps`` replaces the partner app of a
    block (one built with the hub's JWKS, say), else each is the demo's default app."""
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    names = list(partners)
    document = demo_partner_blocks(names)
    for block in document["partners"].values():
        block["deadline_s"] = max(block.get("deadline_s", 0.0), TEST_PARTNER_DEADLINE_S)
    for partner, changes in (overrides or {}).items():
        document["partners"][partner] = {**document["partners"][partner], **changes}
    config = parse_partners(document)
    given = dict(apps or {})
    built: dict[str, Any] = {}
    for n in names:
        served_by = SERVED_BY.get(n, n)  # akto-contrats is served by the akto app
        if n in given:
            built[n] = given[n]
        elif served_by in given:
            built[n] = given[served_by]
        elif served_by in built:
            built[n] = built[served_by]
        elif served_by in PARTNER_APPS:
            built[n] = built[served_by] = PARTNER_APPS[served_by]()
    partner_apps = {n: app for n, app in built.items() if n in names}
    by_app: dict[int, FaultInjector] = {}
    faults = {n: by_app.setdefault(id(app), FaultInjector(app)) for n, app in partner_apps.items()}
    transports = {
        n: httpx.ASGITransport(app=fault)  # type: ignore[arg-type]
        for n, fault in faults.items()
    }
    app = create_app(settings or Settings(development=True), config, transports)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test", timeout=30
    )
    return Hub(app, partner_apps, faults, client)


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """What a long test session piled up is moved out of the collector's way (``gc.freeze``),
    so that a timing a test asserts is the gateway's, not a full collection of the thousands
    of objects earlier tests left (a 2 s pause in the whole suite, none alone)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
