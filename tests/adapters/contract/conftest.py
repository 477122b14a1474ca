"""The contract suite's fixtures: one fixture partner per adapter kind, its adapter built the way
the gateway builds it (block validated as a partners file, then ``build_adapter``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter
from tests.adapters.contract.partners import (
    OFFERS,
    ContractPartner,
    CsvFeedOffers,
    FixturePartner,
    GraphqlOffers,
    Offer,
    RestOffers,
    SqlOffers,
    XmlFeedOffers,
)
from tests.services import postgres_url

KINDS = [
    "rest",
    "sql",
    "xml_feed",
    "csv_feed",
    "graphql",
    pytest.param("sql_postgres", marks=pytest.mark.postgres),
]

Open = Callable[[FixturePartner], Awaitable[ContractPartner]]
Serve = Callable[[Sequence[Offer]], Awaitable[ContractPartner]]


def built(name: str, block: dict[str, Any], server: FixturePartner, live: bool) -> Adapter:
    config = parse_partners({"version": 1, "partners": {name: block}}).partners[name]
    # A dead partner is reached over the real network (a closed port), not in-process.
    return build_adapter(name, config, server.transport() if live else None)


def with_settings(block: dict[str, Any], server: FixturePartner) -> dict[str, Any]:
    return {**block, **server.settings}


@pytest.fixture
async def open_partner(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Open]:
    """``await open_partner(server)``: ``server`` started, its adapters built; all closed after."""
    servers: list[FixturePartner] = []
    adapters: list[Adapter] = []

    async def open_(server: FixturePartner) -> ContractPartner:
        for variable, value in server.env.items():
            monkeypatch.setenv(variable, value)
        servers.append(server)
        await server.start()
        name = f"contract-{server.kind}"
        dead_block, dead_target = server.dead_block()
        partner = ContractPartner(
            name=name,
            server=server,
            adapter=built(name, with_settings(server.block(), server), server, live=True),
            dead=built(name, with_settings(dead_block, server), server, live=False),
            dead_target=dead_target,
        )
        adapters.extend([partner.adapter, partner.dead])
        server.watch(partner.adapter)
        return partner

    try:
        yield open_
    finally:
        for adapter in adapters:
            await adapter.aclose()
        for server in servers:
            await server.stop()


PAGED_KINDS = [
    "rest",
    "sql",
    "xml_feed",
    "csv_feed",
    "graphql",
    pytest.param("sql_postgres", marks=pytest.mark.postgres),
]
"""Kinds whose list reads about one page and resumes at a position (the paged contract)."""


def server_for(kind: str, offers: Sequence[Offer], tmp_path: Path) -> FixturePartner:
    if kind == "rest":
        return RestOffers(offers)
    if kind == "sql":
        return SqlOffers.sqlite(offers, tmp_path)
    if kind == "sql_postgres":
        return SqlOffers.postgres(offers, postgres_url())
    if kind == "xml_feed":
        return XmlFeedOffers(offers)
    if kind == "csv_feed":
        return CsvFeedOffers(offers)
    if kind == "graphql":
        return GraphqlOffers(offers)
    raise AssertionError(f"no fixture partner of kind {kind}")


def serving(kind: str, open_partner: Open, tmp_path: Path) -> Serve:
    async def serve_(offers: Sequence[Offer]) -> ContractPartner:
        return await open_partner(server_for(kind, offers, tmp_path))

    return serve_


@pytest.fixture(params=KINDS)
def serve(request: pytest.FixtureRequest, open_partner: Open, tmp_path: Path) -> Serve:
    """``await serve(offers)``: a partner of this test's kind serving ``offers``."""
    return serving(request.param, open_partner, tmp_path)


@pytest.fixture(params=PAGED_KINDS)
def serve_paged(request: pytest.FixtureRequest, open_partner: Open, tmp_path: Path) -> Serve:
    """``await serve_paged(offers)``: a partner of a kind that follows the paged contract."""
    return serving(request.param, open_partner, tmp_path)


@pytest.fixture
async def contract_partner(serve: Serve) -> ContractPartner:
    """A partner of each kind serving :data:`OFFERS`, and a fresh adapter over it."""
    return await serve(OFFERS)
