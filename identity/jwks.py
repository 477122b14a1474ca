"""The identity provider's public keys, from a JWKS file (``HUB_JWKS_FILE``) or URL
(``HUB_JWKS_URL``).

Read on first use and kept. A token whose ``kid`` is not among them makes the set be read again
(the provider may have rotated its key), at most once per ``min_refresh_interval_s``, so a
stream of tokens with made-up key ids cannot make the gateway hammer the provider. Refreshes
are serialised: many requests meeting the same new ``kid`` at once cause one read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

from identity.errors import IdentityUnavailable

__all__ = ["JwksKeys"]

_FETCH_TIMEOUT_S = 2.0


class JwksKeys:
    def __init__(
        self,
        file: Path | None = None,
        url: str | None = None,
        min_refresh_interval_s: float = 30.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (file is None) == (url is None):
            raise ValueError("give exactly one of a JWKS file and a JWKS URL")
        self._file, self._url, self._client = file, url, client
        self._interval = min_refresh_interval_s
        self._clock = clock
        self._keys: dict[str, PyJWK] | None = None
        self._read_at: float | None = None
        self._lock = asyncio.Lock()
        self.reads = 0  # how many times the set was read (tests, metrics)

    async def key(self, kid: str) -> PyJWK | None:
        """The key of ``kid``, reading the set again once if it is unknown."""
        keys = self._keys
        if keys is not None and kid in keys:
            return keys[kid]
        async with self._lock:
            keys = self._keys
            if keys is not None and kid in keys:
                return keys[kid]  # another request's refresh found it
            if keys is None or self._may_refresh():
                keys = await self._read()
            return keys.get(kid)

    def _may_refresh(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self._interval

    async def _read(self) -> dict[str, PyJWK]:
        self._read_at = self._clock()
        self.reads += 1
        try:
            raw = await (self._fetch() if self._url is not None else self._load())
            found = PyJWKSet.from_dict(orjson.loads(raw))
        except (OSError, httpx.HTTPError, orjson.JSONDecodeError, PyJWKSetError):
            if self._keys is not None:
                return self._keys  # keep the last good set
            raise IdentityUnavailable("jwks_unreadable") from None
        self._keys = {k.key_id: k for k in found.keys if k.key_id is not None}
        return self._keys

    async def _load(self) -> bytes:
        assert self._file is not None
        return await asyncio.to_thread(self._file.read_bytes)

    async def _fetch(self) -> bytes:
        assert self._url is not None
        if self._client is not None:
            response = await self._client.get(self._url, timeout=_FETCH_TIMEOUT_S)
        else:
            async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT_S) as client:
                response = await client.get(self._url)
        response.raise_for_status()
        return response.content
