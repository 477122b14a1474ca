from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.gateway.hubkit import Hub, settled_heap, start_hub


@pytest.fixture(autouse=True)
def _settled_heap_when_timed(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked ``timed`` asserts seconds: what 1,600 earlier tests left on the heap must
    not add a full collection's pause to them (see ``settled_heap``)."""
    if request.node.get_closest_marker("timed") is None:
        yield
        return
    with settled_heap():
        yield


@pytest.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    started = await start_hub(monkeypatch)
    yield started
    await started.aclose()
