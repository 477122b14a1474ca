"""The outbound HTTP seam shared by every HTTP kind (rest, xml_feed, csv_feed, graphql).

:class:`PartnerHttp` owns one partner's ``httpx.AsyncClient`` (handed in, so tests plug an
``ASGITransport``) and turns the network into the :mod:`adapters.errors` vocabulary:

- the body is streamed and cut at ``max_response_bytes`` (memory stays flat on a 50 MB answer);
  :meth:`PartnerHttp.stream` hands the body out chunk by chunk, for a parser that reads it as it
  arrives (a feed), instead of holding it whole;
- a read is retried once with jitter on a retryable failure, honouring ``Retry-After`` when it
  fits the time left (the call's deadline, :mod:`adapters.deadline`); a mutation
  (``idempotent=False``) is never retried;
- a call made on behalf of a principal carries its signed assertion (:mod:`adapters.acting`);
- a status is classified once: 5xx and 429 are the partner unavailable, 401/403 a credential it
  refuses (:class:`PrincipalRefused` when the call carried the signed principal: the hub's
  problem, not counted by the breaker), a 4xx in :data:`_REFUSED_STATUS` the partner refusing
  the question's values (:class:`SourceRejected`: the client's problem, not counted either);
- nothing of the partner's body or of the request's values reaches an error message.

The overall deadline is *not* here: httpx timeouts are per read, so the source registry wraps
the whole call (retries included) in ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import orjson

from adapters import acting, deadline
from adapters.auth import build_auth
from adapters.config import HttpPartnerBase
from adapters.errors import (
    PrincipalRefused,
    SourceBadResponse,
    SourceError,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)

_RETRYABLE_STATUS = {429, 502, 503, 504, 500}
# Answers about what was asked (a malformed or unknown key, too many of them), not about the
# partner's health. 404 is not here: on a list or a batch it means the endpoint moved (a
# one-by-one look-up takes it as "not found" itself); 405/406/415 mean the configuration and the
# partner disagree, which is worth a breaker.
_REFUSED_STATUS = frozenset({400, 409, 410, 413, 414, 422})
_MAX_RETRY_AFTER_S = 5.0

QueryParams = Mapping[str, Any] | list[tuple[str, Any]]
"""A mapping, or (name, value) pairs when a parameter repeats."""


@dataclass(slots=True)
class HttpAnswer:
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self, partner: str) -> Any:
        ctype = self.headers.get("content-type", "")
        if "json" not in ctype:
            raise SourceBadResponse(partner, "expected a JSON response")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise SourceBadResponse(partner, "invalid JSON") from None


@dataclass(slots=True)
class HttpStream:
    """An accepted answer whose body is still to be read: ``async for chunk in answer.chunks``.

    The chunks stop with :class:`SourceBadResponse` past ``max_response_bytes``, and a network
    failure while reading is the same :class:`SourceError` as for :meth:`PartnerHttp.request`.
    """

    status: int
    headers: httpx.Headers
    chunks: AsyncIterator[bytes]


def _retry_after(response_headers: httpx.Headers) -> float | None:
    value = response_headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: not worth honouring inside a request budget


def _with_principal(partner: str, headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``headers`` and, for a call made on behalf of a principal, its signed assertion (a fresh
    one per request, retries included: it lives 60 s)."""
    signed = acting.outbound_headers(partner)
    return {**(headers or {}), **signed} if signed else headers


def _refused(error: httpx.TimeoutException) -> bool:
    """A connection refused or reset that the aiohttp transport reports as a ConnectTimeout
    (its exception map prefers the parent class): the partner is down, not slow."""
    cause = error.__cause__
    return isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(cause, TimeoutError)


TRANSPORT_ENV = "HUB_HTTP_TRANSPORT"
"""``aiohttp`` (default) or ``httpx``: which connection pool carries partner calls."""


def _pool_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
    """The aiohttp-backed transport, unless httpx's own pool is asked for (None).

    httpx's pool slows down sharply with many connections in flight (the benchmark measured 143
    against 941 calls/s at 32 in flight, and half the client CPU per call); aiohttp's connector
    keeps the httpx API (auth flows, streaming, errors) while pooling and parsing in C. Its
    connector limit is ``limits.max_connections`` (the partner's bulkhead size).
    """
    if os.environ.get(TRANSPORT_ENV, "aiohttp") == "httpx":
        return None
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits, trust_env=False)


def make_client(
    config: HttpPartnerBase, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The client of one partner: its base URL, its own auth, its own pool."""
    limits = httpx.Limits(
        max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency
    )
    timeout = httpx.Timeout(config.deadline_s, connect=min(1.0, config.deadline_s))
    if transport is None:
        transport = _pool_transport(limits)
    return httpx.AsyncClient(
        base_url=config.base_url,
        auth=build_auth(config.auth, config.base_url),
        headers={"Accept": "application/json", **config.headers},
        transport=transport,
        limits=limits,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def caller_refused(partner: str, how: str) -> SourceError:
    """The partner refused whoever called (401/403, or a GraphQL answer saying so in band;
    ``how`` says which, for the message). The call carried the hub's signed principal: most
    likely what was refused (the partner does not know the key yet, or the clocks disagree),
    :class:`PrincipalRefused`, not the partner's health. Else the hub's own credential was:
    :class:`SourceUnavailable`."""
    if acting.carrying(partner) is not None:
        return PrincipalRefused(partner, f"{how}: the signed principal was refused")
    return SourceUnavailable(partner, f"{how}: credential refused")


class PartnerHttp:
    def __init__(self, partner: str, config: HttpPartnerBase, client: httpx.AsyncClient) -> None:
        self.partner = partner
        self.config = config
        self.client = client
        self.calls = 0  # partner calls made (benchmark and tests count them)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        idempotent: bool = True,
        ok_statuses: frozenset[int] = frozenset({200}),
    ) -> HttpAnswer:
        attempts = self.config.retry.attempts if (idempotent and self.config.retry.enabled) else 1
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                answer = await self._once(method, url, params, headers, json, content)
            except SourceError as error:
                if attempt == attempts or not error.retryable:
                    raise
                await self._pause(error, started)
                continue
            if answer.status in ok_statuses:
                return answer
            refusal = self._status_error(answer)
            # A refused credential was already renewed once by the auth flow: asking again
            # with the same credential only adds load on the partner.
            if attempt == attempts or not refusal.retryable or answer.status in (401, 403):
                raise refusal
            await self._pause(refusal, started)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pause(self, error: SourceError, started: float) -> None:
        left = self.config.deadline_s - (time.monotonic() - started)
        call_left = deadline.remaining()
        if call_left is not None:
            left = min(left, call_left)
        wait = random.uniform(0, self.config.retry.backoff_s)
        if isinstance(error, SourceUnavailable) and error.retry_after is not None:
            if error.retry_after > min(left, _MAX_RETRY_AFTER_S):
                raise error  # the partner asks for more time than this call has: fail fast
            wait = error.retry_after
        await asyncio.sleep(wait)

    def _status_error(self, answer: HttpAnswer) -> SourceError:
        status = answer.status
        if status in _RETRYABLE_STATUS:
            return SourceUnavailable(
                self.partner, f"HTTP {status}", retry_after=_retry_after(answer.headers)
            )
        if status in (401, 403):
            return caller_refused(self.partner, f"HTTP {status}")
        if status in _REFUSED_STATUS:
            return SourceRejected(self.partner, f"HTTP {status}: the partner refused the question")
        if status == 404:
            return SourceBadResponse(self.partner, "HTTP 404: endpoint not found")
        return SourceBadResponse(self.partner, f"unexpected HTTP {status}")

    async def _once(
        self,
        method: str,
        url: str,
        params: QueryParams | None,
        headers: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
    ) -> HttpAnswer:
        self.calls += 1
        limit = self.config.max_response_bytes
        if json is not None:
            content = orjson.dumps(json)
            headers = {**(headers or {}), "Content-Type": "application/json"}
        headers = _with_principal(self.partner, headers)
        with self._network_errors():
            request = self.client.build_request(
                method, url, params=params, headers=headers, content=content
            )
            response = await self.client.send(request, stream=True)
            try:
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise SourceBadResponse(self.partner, "response larger than allowed")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise SourceBadResponse(self.partner, "response larger than allowed")
                    chunks.append(chunk)
            finally:
                await response.aclose()
        return HttpAnswer(response.status_code, response.headers, b"".join(chunks))

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset({200}),
    ) -> AsyncIterator[HttpStream]:
        """The answer of a read, its body unread: ``async with http.stream(...) as answer``.

        Retried as :meth:`request` retries a read, as long as nothing of an accepted answer was
        handed out; a status outside ``ok_statuses`` is read (within the size limit) and
        refused as :meth:`request` refuses it. The connection is released on exit.
        """
        attempts = self.config.retry.attempts if self.config.retry.enabled else 1
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                response = await self._open(method, url, params, headers)
            except SourceError as error:
                if attempt == attempts or not error.retryable:
                    raise
                await self._pause(error, started)
                continue
            try:
                if response.status_code in ok_statuses:
                    yield HttpStream(response.status_code, response.headers, self._body(response))
                    return
                body = b"".join([chunk async for chunk in self._body(response)])
            finally:
                await response.aclose()
            refusal = self._status_error(HttpAnswer(response.status_code, response.headers, body))
            if attempt == attempts or not refusal.retryable or response.status_code in (401, 403):
                raise refusal
            await self._pause(refusal, started)

    async def _open(
        self,
        method: str,
        url: str,
        params: QueryParams | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        self.calls += 1
        headers = _with_principal(self.partner, headers)
        with self._network_errors():
            request = self.client.build_request(method, url, params=params, headers=headers)
            response = await self.client.send(request, stream=True)
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise SourceBadResponse(self.partner, "response larger than allowed")
        return response

    async def _body(self, response: httpx.Response) -> AsyncIterator[bytes]:
        size = 0
        with self._network_errors():
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._limit:
                    raise SourceBadResponse(self.partner, "response larger than allowed")
                yield chunk

    @property
    def _limit(self) -> int:
        return self.config.max_response_bytes

    @contextlib.contextmanager
    def _network_errors(self) -> Iterator[None]:
        """httpx's failures as the partner's, in one place for a whole answer and a stream."""
        try:
            yield
        except httpx.TimeoutException as error:
            if _refused(error):
                raise SourceUnavailable(self.partner, "connection failed") from None
            raise SourceTimeout(self.partner, "no answer in time") from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.NetworkError):
            raise SourceUnavailable(self.partner, "connection failed") from None
        except httpx.HTTPStatusError:
            raise SourceUnavailable(self.partner, "credential refused") from None
        except httpx.DecodingError:
            raise SourceBadResponse(self.partner, "undecodable response") from None

    async def aclose(self) -> None:
        await self.client.aclose()
