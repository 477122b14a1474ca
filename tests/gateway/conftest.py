from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.gateway.hubkit import Hub, start_hub


@pytest.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    started = await start_hub(monkeypatch)
    yield started
    await started.aclose()
