"""Fixtures of the demo tests: an in-process HTTP client for any simulated partner app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

import httpx
import pytest
from starlette.types import ASGIApp

ClientFor = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    """``client_for(app, headers=None)``: an ``httpx.AsyncClient`` on ``app``, closed after."""
    made: list[httpx.AsyncClient] = []

    def connect(app: ASGIApp, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://partner.test", headers=headers
        )
        made.append(client)
        return client

    yield connect
    for client in made:
        await client.aclose()
