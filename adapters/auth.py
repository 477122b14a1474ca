"""Outbound authentication for HTTP partners, as ``httpx.Auth`` flows.

Each partner's calls carry that partner's own credential only: the flow is bound to one
partner's client. The OAuth2 client-credentials token is cached in the flow (in memory, never
in a shared cache) and refreshed ``refresh_margin_s`` before it expires; a 401 forces one
refresh and one replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator

import httpx

from adapters.config import ApiKeyAuth, BearerAuth, HttpAuth, NoAuth, OAuth2ClientCredentials


class _HeaderAuth(httpx.Auth):
    def __init__(self, header: str, value: str) -> None:
        self._header, self._value = header, value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value
        yield request


class OAuth2ClientCredentialsAuth(httpx.Auth):
    requires_response_body = True

    def __init__(self, config: OAuth2ClientCredentials, base_url: str) -> None:
        self._token_url = str(httpx.URL(base_url).join(config.token_url))
        self._client_id = config.client_id.resolve()
        self._client_secret = config.client_secret.resolve()
        self._scope = config.scope
        self._margin = config.refresh_margin_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def _token_request(self) -> httpx.Request:
        data = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._scope:
            data["scope"] = self._scope
        return httpx.Request("POST", self._token_url, data=data)

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                "token endpoint refused the client credentials",
                request=response.request,
                response=response,
            )
        try:
            body = response.json()
        except ValueError:  # an HTML error page, a truncated answer
            raise httpx.DecodingError("token endpoint answered without JSON") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise httpx.DecodingError("token endpoint answered without an access_token")
        lifetime = body.get("expires_in", 300)
        lifetime = float(lifetime) if isinstance(lifetime, int | float) else 300.0
        self._token = token
        self._expires_at = time.monotonic() + lifetime - self._margin

    def _fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._expires_at

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("partners are called with an async client")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self._store(token_response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._token = None
            token_response = yield self._token_request()
            await token_response.aread()
            self._store(token_response)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


def build_auth(config: HttpAuth, base_url: str) -> httpx.Auth | None:
    """The auth flow of one partner; raises ``LookupError`` naming a missing env secret."""
    if isinstance(config, NoAuth):
        return None
    if isinstance(config, ApiKeyAuth):
        return _HeaderAuth(config.header, config.key.resolve())
    if isinstance(config, BearerAuth):
        return _HeaderAuth("Authorization", f"Bearer {config.token.resolve()}")
    if isinstance(config, OAuth2ClientCredentials):
        return OAuth2ClientCredentialsAuth(config, base_url)
    raise TypeError(type(config).__name__)
