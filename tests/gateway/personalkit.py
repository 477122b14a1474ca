"""A gateway over the demo's personal half, for the tests of the personal half: both ERPs
seeded (SQLite files, or PostgreSQL for the hotel school where given), Hub3E and AKTO checking
the hub's signed principal, the demo's identity provider and a migrated gateway database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from demo import akto, hub3e
from demo.cfa_erp import seed_demo_databases
from demo.identity_provider import DemoIdentityProvider
from gateway.settings import Settings
from identity.assertions import AssertionSigner
from store.migrate import upgrade_url
from tests.gateway.hubkit import Hub, start_hub

PERSONAL_PARTNERS = ("cfa-btp", "cfa-hotellerie", "hub3e", "akto-contrats", "sirene")


def checking_apps(provider: DemoIdentityProvider) -> dict[str, Any]:
    """Hub3E and AKTO as the demo runs them: checking the hub's signed principal."""
    jwks = AssertionSigner.from_pem_file(provider.assertion_key_file).jwks()
    return {
        "hub3e": hub3e.create_app(assertion_jwks=jwks),
        "akto-contrats": akto.create_app(assertion_jwks=jwks),
    }


async def personal_hub(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    provider: DemoIdentityProvider,
    migrate: bool = True,
    **settings: Any,
) -> Hub:
    for name, dsn in (await seed_demo_databases(folder / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    options = {"development": True, **provider.settings(), **settings}
    if migrate:
        await asyncio.to_thread(upgrade_url, options["database_url"])
    return await start_hub(
        monkeypatch,
        partners=PERSONAL_PARTNERS,
        settings=Settings(**options),
        apps=checking_apps(provider),
    )


async def ask(
    hub: Hub, provider: DemoIdentityProvider, role: str | None, query: str, **variables: Any
) -> Any:
    """The answer to ``query`` asked with the demo credential of ``role`` (None: anonymous)."""
    headers = {}
    if role is not None:
        headers["Authorization"] = f"Bearer {provider.credentials()[role]['token']}"
    response = await hub.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()
