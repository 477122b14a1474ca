"""What the HTTP kinds' writes share (``rest``, ``graphql``): one request, sent once.

:func:`send_once` hands the request to the partner's :class:`~adapters.http.PartnerHttp` as a
non-idempotent call (the seam never retries it) with every status accepted (each writer
classifies the answer itself), under the write's own timeout, slightly inside the enclosing
deadline (:func:`adapters.sql_writes.write_budget`). What it raises says whether the request may
have reached the partner:

- no connection (refused, connect timeout, pool full, no credential to send): the usual
  :class:`~adapters.errors.SourceError`, nothing was sent;
- a timeout, a dropped connection or an unreadable answer *after* the request was handed to the
  connection: :class:`~adapters.errors.OutcomeUnknown`, it may have been applied.

:func:`json_values` builds a JSON object from a block's ``name -> value`` mapping (dotted names
nest, instants are written in UTC), every value resolved before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx

from adapters.errors import OutcomeUnknown, SourceBadResponse, SourceError, SourceTimeout
from adapters.http import HttpAnswer, PartnerHttp
from adapters.sql_writes import write_budget
from adapters.writes import WriteInput, WriteValue

_ANY_STATUS = frozenset(range(100, 600))  # every status is classified by the writer

# httpx errors raised before the request could leave: no connection was made.
# (HTTPStatusError: the auth flow could not get a credential, so the write never left.)
_NOT_SENT = (
    httpx.ConnectError,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
    httpx.HTTPStatusError,
)


async def send_once(
    http: PartnerHttp,
    method: str,
    path: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> HttpAnswer:
    """The partner's answer to one write request, whatever its status (see the module)."""
    partner = http.partner
    budget = write_budget(http.config.deadline_s)
    if budget <= 0:
        raise SourceTimeout(partner, "no time left for the write; nothing sent")
    try:
        async with asyncio.timeout(budget):
            return await http.request(
                method, path, json=body, headers=headers, idempotent=False, ok_statuses=_ANY_STATUS
            )
    except TimeoutError:
        # Whether the request had left is not known here: the safe answer is "maybe".
        raise OutcomeUnknown(partner, "no answer to the write in time") from None
    except SourceError as error:
        if _sent(error):
            raise OutcomeUnknown(partner, "the write's answer was lost") from None
        raise


def json_values(values: Mapping[str, WriteValue], given: WriteInput) -> dict[str, Any]:
    """The JSON object of ``values`` resolved for ``given``; dotted names nest
    (``candidat.id``)."""
    built: dict[str, Any] = {}
    for name, value in values.items():
        resolved = given.resolve(value)
        if isinstance(resolved, datetime):
            resolved = resolved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        node = built
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = resolved
    return built


def _sent(error: SourceError) -> bool:
    """Whether a failure of the HTTP seam may have come after the request left.

    The seam's errors keep the httpx error as their context. Only a failure to connect proves
    nothing was sent; with the aiohttp transport a connection dropped by the server also
    surfaces as ``ConnectTimeout``, told apart by its aiohttp cause.
    """
    if isinstance(error, SourceBadResponse):
        return True  # an answer came and could not be read (too large, undecodable)
    cause = error.__context__
    if cause is None or isinstance(cause, _NOT_SENT):
        return False
    origin = cause.__cause__ or cause.__context__
    if isinstance(origin, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return False  # aiohttp could not connect (mapped to a timeout by the transport)
    if isinstance(cause, httpx.ConnectTimeout):
        # httpx's own connect timeout; or aiohttp's dropped connection (sent, maybe applied)
        return isinstance(origin, aiohttp.ClientConnectionError)
    return True  # read or write timeout, connection reset or closed mid-answer
