from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from tests.gateway.hubkit import Hub, settled_heap, start_hub
from tests.services import redis_url


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


@pytest.fixture
def namespace() -> Iterator[tuple[str, str]]:
    """A Redis URL and a cache namespace of this test's own, emptied afterwards (the test is
    skipped without Redis, failed under HUB_REQUIRE_SERVICES=1)."""
    url = redis_url()
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield url, name
    with redis.Redis.from_url(url) as client:
        for key in client.scan_iter(f"{name}:*"):
            client.delete(key)
