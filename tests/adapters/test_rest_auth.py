"""Outbound credentials: each partner gets its own, OAuth2 tokens are fetched once and renewed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from adapters.errors import SourceBadResponse, SourceUnavailable
from adapters.rest import RestAdapter
from adapters.types import ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    Recorder,
    ids,
    offer_entity,
    recorded,
    rest_config,
)

QUERY = ListQuery("offer", {}, 10)
BY_ID = {o["id"]: o for o in OFFERS}


def entity() -> dict[str, Any]:
    return offer_entity(
        list={"path": "/offres", "items": "resultats"},
        lookups={"id": {"path": "/offres/{value}"}},
    )


def oauth_block(**settings: Any) -> dict[str, Any]:
    return {
        "type": "oauth2_client_credentials",
        "token_url": "/oauth/token",
        "client_id": {"env": "HUB_TEST_CLIENT_ID"},
        "client_secret": {"env": "HUB_TEST_CLIENT_SECRET"},
        "scope": "api_offresdemploiv2",
        **settings,
    }


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TEST_CLIENT_ID", "client-b")
    monkeypatch.setenv("HUB_TEST_CLIENT_SECRET", "secret-b")
    monkeypatch.setenv("HUB_TEST_API_KEY", "key-a")
    monkeypatch.setenv("HUB_TEST_BEARER", "bearer-c")


@dataclass
class TokenServer:
    """An OAuth2 client-credentials partner: tokens expire, can be revoked, are checked."""

    expires_in: float = 300
    token_status: int = 200
    token_html: bool = False
    refuse_all: bool = False
    issued: list[dict[str, str]] = field(default_factory=list)  # forms the token endpoint got
    valid_until: dict[str, float] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def revoke(self) -> None:
        self.valid_until.clear()

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))  # x-www-form-urlencoded
        self.issued.append(form)
        if self.token_html:
            return HTMLResponse("<html>maintenance</html>")
        if self.token_status != 200 or form.get("client_secret") != "secret-b":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = f"tok-{len(self.issued)}"
        self.valid_until[token] = time.monotonic() + self.expires_in
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        )

    def _allowed(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.used.append(token)
        fresh = time.monotonic() < self.valid_until.get(token, 0)
        if not fresh or self.refuse_all:
            self.refused.append(token)
        return fresh and not self.refuse_all

    async def offres(self, request: Request) -> Response:
        if not self._allowed(request):
            return JSONResponse({"message": "invalid token"}, status_code=401)
        return JSONResponse({"resultats": OFFERS[:2]})

    async def one(self, request: Request) -> Response:
        if not self._allowed(request):
            return JSONResponse({"message": "invalid token"}, status_code=401)
        return JSONResponse(BY_ID[request.path_params["id"]])

    def app(self) -> Recorder:
        return recorded(
            [
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/offres", self.offres),
                Route("/offres/{id}", self.one),
            ]
        )


async def test_the_token_is_fetched_once_for_many_calls(connect_rest: ConnectRest) -> None:
    server = TokenServer()
    adapter = connect_rest(server.app(), rest_config({"offer": entity()}, auth=oauth_block()))

    # Concurrent first calls share one token fetch.
    found = await adapter.lookup("offer", "id", ["OF001", "OF002", "OF003", "OF004", "OF005"])
    for _ in range(3):
        await adapter.list(QUERY)

    assert len(found) == 5
    assert len(server.issued) == 1
    assert server.issued[0] == {
        "grant_type": "client_credentials",
        "client_id": "client-b",
        "client_secret": "secret-b",
        "scope": "api_offresdemploiv2",
    }
    assert set(server.used) == {"tok-1"}
    assert len(server.used) == 8
    assert server.refused == []


async def test_the_token_is_renewed_before_it_expires(connect_rest: ConnectRest) -> None:
    server = TokenServer(expires_in=1.0)
    auth = oauth_block(refresh_margin_s=0.8)  # renew once less than 0.8 s of life is left
    adapter = connect_rest(server.app(), rest_config({"offer": entity()}, auth=auth))

    await adapter.list(QUERY)
    await asyncio.sleep(0.3)  # tok-1 still valid at the partner, but inside the margin
    await adapter.list(QUERY)

    assert server.used == ["tok-1", "tok-2"]
    assert server.refused == []  # the partner never saw an expired token


async def test_a_401_renews_the_token_once_and_replays(connect_rest: ConnectRest) -> None:
    server = TokenServer()
    app = server.app()
    adapter = connect_rest(app, rest_config({"offer": entity()}, auth=oauth_block()))

    await adapter.list(QUERY)
    server.revoke()  # e.g. the partner rotated its signing key
    page = await adapter.list(QUERY)

    assert ids(page.records) == ["OF000", "OF001"]
    assert len(server.issued) == 2
    assert server.used == ["tok-1", "tok-1", "tok-2"]
    assert adapter.http.calls == 2  # the replay is the auth flow's, not a retry


async def test_a_credential_refused_for_good_is_unavailable_without_a_loop(
    connect_rest: ConnectRest,
) -> None:
    server = TokenServer(refuse_all=True)
    adapter = connect_rest(server.app(), rest_config({"offer": entity()}, auth=oauth_block()))

    with pytest.raises(SourceUnavailable, match="credential refused"):
        await adapter.list(QUERY)

    assert len(server.issued) == 2  # the first token, one renewal: no more
    assert len(server.used) == 2
    assert "secret-b" not in str(server.used)


async def test_a_token_endpoint_refusing_the_client_is_unavailable(
    connect_rest: ConnectRest,
) -> None:
    server = TokenServer(token_status=401)
    adapter = connect_rest(server.app(), rest_config({"offer": entity()}, auth=oauth_block()))

    with pytest.raises(SourceUnavailable) as raised:
        await adapter.list(QUERY)

    assert "secret-b" not in str(raised.value)
    assert server.used == []  # the data endpoint is never called without a token


async def test_a_token_endpoint_answering_html_is_a_bad_response(
    connect_rest: ConnectRest,
) -> None:
    server = TokenServer(token_html=True)
    adapter = connect_rest(server.app(), rest_config({"offer": entity()}, auth=oauth_block()))

    with pytest.raises(SourceBadResponse) as raised:
        await adapter.list(QUERY)

    assert "maintenance" not in str(raised.value)


def header_app() -> Recorder:
    async def offres(request: Request) -> Response:
        return JSONResponse({"resultats": OFFERS[:1]})

    return recorded([Route("/offres", offres)])


async def test_api_key_and_bearer_headers_are_sent(connect_rest: ConnectRest) -> None:
    keyed, bearer = header_app(), header_app()
    api_key = {
        "type": "api_key",
        "header": "X-Gravitee-Api-Key",
        "key": {"env": "HUB_TEST_API_KEY"},
    }
    token = {"type": "bearer", "token": {"env": "HUB_TEST_BEARER"}}

    await connect_rest(keyed, rest_config({"offer": entity()}, auth=api_key)).list(QUERY)
    await connect_rest(bearer, rest_config({"offer": entity()}, auth=token)).list(QUERY)

    assert keyed.seen[0].headers["x-gravitee-api-key"] == "key-a"
    assert "authorization" not in keyed.seen[0].headers
    assert bearer.seen[0].headers["authorization"] == "Bearer bearer-c"


async def test_a_partners_credential_never_reaches_another_partner(
    connect_rest: ConnectRest,
) -> None:
    keyed, anonymous = header_app(), header_app()
    server = TokenServer()
    oauth = server.app()
    api_key = {"type": "api_key", "key": {"env": "HUB_TEST_API_KEY"}}
    partners = [
        connect_rest(keyed, rest_config({"offer": entity()}, auth=api_key), "keyed"),
        connect_rest(oauth, rest_config({"offer": entity()}, auth=oauth_block()), "oauth"),
        connect_rest(anonymous, rest_config({"offer": entity()}), "anonymous"),
    ]

    for _ in range(2):
        await asyncio.gather(*(p.list(QUERY) for p in partners))

    def everything_seen(app: Recorder) -> str:
        return repr([(s.raw_path, s.query, list(s.headers.items())) for s in app.seen])

    assert "key-a" in everything_seen(keyed)
    assert "tok-1" in everything_seen(oauth)
    for secret in ("tok-1", "secret-b", "client-b"):
        assert secret not in everything_seen(keyed)
        assert secret not in everything_seen(anonymous)
    assert "key-a" not in everything_seen(oauth)
    assert "key-a" not in everything_seen(anonymous)
    assert all("authorization" not in s.headers for s in anonymous.seen)


def test_a_missing_secret_is_named_when_the_adapter_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUB_TEST_API_KEY")
    api_key = {"type": "api_key", "key": {"env": "HUB_TEST_API_KEY"}}

    with pytest.raises(LookupError, match="HUB_TEST_API_KEY"):
        RestAdapter("keyed", rest_config({"offer": entity()}, auth=api_key))
