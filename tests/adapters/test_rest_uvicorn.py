"""End to end over a real socket: the adapter against partner apps served by uvicorn."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.errors import SourceUnavailable
from adapters.types import ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    company_entity,
    directory_app,
    echo_app,
    ids,
    offer_entity,
    range_app,
    range_entity,
    rest_config,
    served,
    siret,
)

API_KEY = {"type": "api_key", "header": "X-Api-Key", "key": {"env": "HUB_TEST_E2E_KEY"}}


def guarded(app: ASGIApp, key: str) -> ASGIApp:
    """Refuses any request without the partner's API key."""

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and Headers(scope=scope).get("x-api-key") != key:
            await JSONResponse({"message": "clé invalide"}, status_code=401)(scope, receive, send)
            return
        await app(scope, receive, send)

    return guard


async def test_a_range_walk_over_tcp(
    connect_rest: ConnectRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_TEST_E2E_KEY", "e2e-key")
    app, gauge = range_app(in_flight_pause=0.01)
    async with served(guarded(app, "e2e-key")) as url:
        config = rest_config(
            {"offer": range_entity(page_size=4)}, base_url=url, auth=API_KEY, max_concurrency=8
        )
        adapter = connect_rest(None, config)

        page = await adapter.list(ListQuery("offer", {}, 100))
        await adapter.aclose()

    assert ids(page.records) == [o["id"] for o in OFFERS]
    assert page.total == 23
    assert len(app.seen) == 6
    assert 1 < gauge["peak"] <= 4


async def test_a_wrong_key_over_tcp_is_unavailable(
    connect_rest: ConnectRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_TEST_E2E_KEY", "not-the-key")
    app, _ = range_app()
    async with served(guarded(app, "e2e-key")) as url:
        config = rest_config({"offer": range_entity()}, base_url=url, auth=API_KEY)
        adapter = connect_rest(None, config)
        with pytest.raises(SourceUnavailable) as raised:
            await adapter.list(ListQuery("offer", {}, 10))
        await adapter.aclose()

    assert raised.value.code == "SOURCE_UNAVAILABLE"
    assert "not-the-key" not in str(raised.value)
    assert len(app.seen) == 0  # refused at the door, and not asked twice


async def test_hostile_values_reach_a_real_server_as_one_segment(
    connect_rest: ConnectRest,
) -> None:
    values = ["../admin", "..%2Fadmin", "x?y=1#z", "x\r\nHost: evil", "x\x00y"]
    app = echo_app(answer={"id": "unused"})
    async with served(app) as url:
        entity = offer_entity(lookups={"id": {"path": "/offres/{value}"}})
        adapter = connect_rest(None, rest_config({"offer": entity}, base_url=url))

        await adapter.lookup("offer", "id", values)
        await adapter.aclose()

    # One segment each, decoding back to the value exactly. (The aiohttp transport leaves ':'
    # and '=' unescaped, which RFC 3986 allows inside a segment; '/', '?', '#', CR LF and NUL
    # stay escaped.)
    segments = [s.raw_path.removeprefix(b"/offres/") for s in app.seen]
    assert all(b"/" not in segment for segment in segments)
    assert sorted(unquote(segment.decode()) for segment in segments) == sorted(values)
    for segment in segments:
        assert not set(segment) & set(b"?#\r\n\x00 ")
    assert all(s.query == [] for s in app.seen)
    assert all(s.headers.get("host", "").startswith("127.0.0.1") for s in app.seen)


async def test_a_batch_look_up_over_tcp(connect_rest: ConnectRest) -> None:
    app, batch_sizes = directory_app()
    lookup = {
        "path": "/etablissements/{value}",
        "batch": {
            "path": "/etablissements/batch",
            "body_field": "sirets",
            "items": "etablissements",
        },
    }
    async with served(app) as url:
        entity = company_entity(lookups={"siret": lookup})
        config = rest_config({"organisation": entity}, base_url=url)
        adapter = connect_rest(None, config)

        found = await adapter.lookup("organisation", "siret", [siret(n) for n in range(1, 251)])
        await adapter.aclose()

    assert len(found) == 250
    assert sorted(batch_sizes) == [50, 100, 100]
