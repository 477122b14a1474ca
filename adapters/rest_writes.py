"""REST writes: a ``writes.<action>`` block as one HTTP request, sent once.

The body is built (and every value resolved, a value without a partner code refused) before
anything is sent; the request is sent once by :func:`adapters.http_writes.send_once`, which
says when a failure may have come after the request left.

Answers:

- 2xx: written; the id is read at ``created_id`` (creating actions) or is the ``id`` value;
  a 2xx without a readable id is an unknown outcome (it was applied; reconcile finds it);
- 400, 404, 409, 410, 413, 414, 422: :class:`~adapters.errors.WriteRejected` (404: the
  record to change, or one the request names, does not exist there);
- 401/403 on a call carrying the signed principal: :class:`~adapters.errors.PrincipalRefused`;
- 401/403 otherwise, 429 and 503: :class:`~adapters.errors.SourceUnavailable` (not applied: the
  credential was refused, or the partner asked to come back later);
- 500, 502, 504 (and any other 5xx): :class:`~adapters.errors.OutcomeUnknown`: the partner or a
  proxy failed while handling it, it may have been applied;
- no connection (refused, connect timeout, pool full): the usual :class:`SourceError`, nothing
  sent; a timeout, a dropped connection or an unusable answer *after* the request was handed to
  the connection: :class:`~adapters.errors.OutcomeUnknown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from adapters.errors import (
    OutcomeUnknown,
    SourceBadResponse,
    SourceUnavailable,
    WriteRejected,
)
from adapters.http import PartnerHttp, _retry_after, caller_refused
from adapters.http_writes import json_values, send_once
from adapters.mapping import compile_path, read_path
from adapters.rest_config import RestPartner, RestWrite
from adapters.writes import DeclaredWrites, Written

_REJECTED = frozenset({400, 404, 409, 410, 413, 414, 422})
_NOT_APPLIED_LATER = frozenset({429, 503})


class RestWriter(DeclaredWrites[RestWrite]):
    """The writes of one REST partner; its :class:`~adapters.rest.RestAdapter` delegates."""

    def __init__(self, partner: str, config: RestPartner, http: PartnerHttp) -> None:
        super().__init__(partner, config.entities)
        self.config = config
        self.http = http

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        spec, given, target = self.inputs(entity, action, values, client_reference)
        body = json_values(spec.body, given)
        path = spec.path
        if "{id}" in path:
            path = path.replace("{id}", quote(given.target_id, safe=""))
        answer = await send_once(self.http, spec.method, path, body)
        status = answer.status
        if 200 <= status < 300:
            if target is not None:
                return Written(target)
            return Written(self._created_id(spec, answer.body, answer.headers))
        if status in _REJECTED:
            refused = f"HTTP {status}: the partner refused the write"
            raise WriteRejected(self.partner, refused, not_found=status == 404)
        if status in (401, 403):
            raise caller_refused(self.partner, f"HTTP {status}")  # as for reads
        if status in _NOT_APPLIED_LATER:
            retry = _retry_after(answer.headers)
            raise SourceUnavailable(self.partner, f"HTTP {status}", retry_after=retry)
        if status >= 500:
            raise OutcomeUnknown(self.partner, f"HTTP {status} while writing")
        raise SourceBadResponse(self.partner, f"unexpected HTTP {status} to a write")

    def _created_id(self, spec: RestWrite, body: bytes, headers: httpx.Headers) -> str:
        assert spec.created_id is not None  # checked by the config model for creating actions
        if "json" not in headers.get("content-type", ""):
            raise OutcomeUnknown(self.partner, "the write's answer is not JSON")
        try:
            created = read_path(orjson.loads(body), compile_path(spec.created_id))
        except orjson.JSONDecodeError:
            raise OutcomeUnknown(self.partner, "the write's answer is not JSON") from None
        if created is None or isinstance(created, dict | list) or created == "":
            raise OutcomeUnknown(self.partner, "the write's answer names no id")
        return str(created)
