"""Fixtures of the adapter tests: adapters built over real partner apps, always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.types import ASGIApp

from adapters.rest import RestAdapter
from adapters.rest_config import RestPartner

ConnectRest = Callable[..., RestAdapter]


@pytest.fixture
async def connect_rest() -> AsyncIterator[ConnectRest]:
    """``connect_rest(app, config, partner="partner")``: a RestAdapter over ``app`` in-process.

    ``app=None`` uses the real network (for a uvicorn server or a closed port).
    """
    made: list[RestAdapter] = []

    def connect(app: ASGIApp | None, config: RestPartner, partner: str = "partner") -> RestAdapter:
        transport = httpx.ASGITransport(app=app) if app is not None else None
        adapter = RestAdapter(partner, config, transport)
        made.append(adapter)
        return adapter

    yield connect
    for adapter in made:
        await adapter.aclose()
