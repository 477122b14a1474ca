"""GraphQL writes: a ``writes.<action>`` block as the partner's own mutation, sent once.

The block is validated when the file is loaded (:class:`~adapters.graphql_config.GraphqlWrite`:
one mutation with one root field, every variable declared and every required one filled).
The variables are built, every value resolved (a value without a partner code refused), before
anything is sent; the mutation is POSTed once by :func:`adapters.http_writes.send_once` (never
retried, under the write budget), with the acting principal's assertion when the partner
declares ``principal``, as its reads are. Example::

    [partners.cfa-gql.entities.application.writes.submit]
    mutation = '''
    mutation Deposer($dossier: ID!, $ref: String!, $statut: Statut!) {
      deposerCandidature(dossier: $dossier, reference: $ref, statut: $statut) { numero }
    }'''
    variables = { dossier = "candidateId", ref = "clientReference",
                  statut = { from = "status", values = { SUBMITTED = "DEPOSEE" } } }
    created_id = "deposerCandidature.numero"

The rule that classifies an answer rests on what GraphQL itself says of errors. A *request
error* (a syntax or validation error, variables that do not fit the partner's schema) is raised
before execution begins: the answer has no ``data`` entry (Apollo, GraphQL over HTTP with a
4xx), or a null one (graphql-core, Strawberry), and its errors carry no ``path``; nothing was
applied. An error raised while *executing* a field carries that field's ``path``, and ``data``
is then an object or null: the mutation's resolver ran, so it may have committed even though
it failed (a commit followed by an error in the selected payload nulls the field all the same).
So the partner *ran* the mutation when ``data`` is an object or an error has a ``path``; then:

- ``data.<root field>`` present with a non-empty list at ``user_errors``:
  :class:`~adapters.errors.WriteRejected` (the partner declined in its payload);
- ``data.<root field>`` present otherwise: applied; the id is read at ``created_id``
  (creating actions) or is the ``id`` value; an id that cannot be read there is an unknown
  outcome (it was applied: reconciliation finds it);
- errors that *all* carry one of the block's ``rejected_codes`` (``BAD_USER_INPUT``) or
  ``not_found_codes`` (``NOT_FOUND``): :class:`~adapters.errors.WriteRejected` (``not_found``
  when they all say not found), whether the mutation ran or not: the partner says it refused;
- any other error, the mutation not run (a request error):
  :class:`~adapters.errors.SourceBadResponse`: nothing applied, and the document or its
  variables do not fit the partner's schema (the configuration's problem, not the client's);
- any other error, the mutation run, or ``data`` with no result and no error:
  :class:`~adapters.errors.OutcomeUnknown`: the partner may have applied it;
- 401/403, or errors that all refuse the caller (``FORBIDDEN``, ``UNAUTHENTICATED``:
  :mod:`adapters.graphql_errors`): :class:`~adapters.errors.PrincipalRefused` when the call
  carried the signed principal, else :class:`~adapters.errors.SourceUnavailable` (an
  authorisation refused before anything is applied); 429/503: ``SourceUnavailable`` (not
  applied: asked to come back later); 413/414: ``WriteRejected`` (too large); other 5xx, and a
  2xx that is not a GraphQL answer: ``OutcomeUnknown``;
- no connection, a timeout, a dropped connection: as :mod:`adapters.http_writes` says.

The partner's error messages never reach the hub's: they may quote the values sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from adapters.errors import (
    OutcomeUnknown,
    SourceBadResponse,
    SourceError,
    SourceUnavailable,
    WriteRejected,
)
from adapters.graphql_config import ACCEPT, GraphqlPartner, GraphqlWrite, error_code, root_field
from adapters.graphql_errors import credential_refusal
from adapters.http import HttpAnswer, PartnerHttp, _retry_after, caller_refused
from adapters.http_writes import json_values, send_once
from adapters.mapping import MISSING, compile_path, read_path
from adapters.writes import DeclaredWrites, Written

_NOT_APPLIED_LATER = frozenset({429, 503})
_TOO_LARGE = frozenset({413, 414})


class GraphqlWriter(DeclaredWrites[GraphqlWrite]):
    """The writes of one GraphQL partner; its :class:`~adapters.graphql.GraphqlAdapter`
    delegates (and finds what was created by its ``lookups.clientReference``)."""

    def __init__(self, partner: str, config: GraphqlPartner, http: PartnerHttp) -> None:
        super().__init__(partner, config.entities)
        self.config = config
        self.http = http

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        spec, given, target = self.inputs(entity, action, values, client_reference)
        body = {"query": spec.mutation, "variables": json_values(spec.variables, given)}
        answer = await send_once(
            self.http, "POST", self.config.endpoint, body, headers={"Accept": ACCEPT}
        )
        return self._outcome(spec, answer, target)

    def _outcome(self, spec: GraphqlWrite, answer: HttpAnswer, target: str | None) -> Written:
        status = answer.status
        if status in (401, 403):
            raise caller_refused(self.partner, f"HTTP {status}")
        if status in _NOT_APPLIED_LATER:
            retry = _retry_after(answer.headers)
            raise SourceUnavailable(self.partner, f"HTTP {status}", retry_after=retry)
        if status in _TOO_LARGE:
            raise WriteRejected(self.partner, f"HTTP {status}: the write is too large")
        if status >= 500:
            raise OutcomeUnknown(self.partner, f"HTTP {status} while writing")
        body = _graphql_answer(answer)
        if body is None or not ("data" in body or body.get("errors")):
            if 200 <= status < 300:
                # Not a GraphQL answer to what was sent: whatever ran there, it is not known.
                raise OutcomeUnknown(self.partner, "the write's answer is not a GraphQL answer")
            raise SourceBadResponse(self.partner, f"HTTP {status}: the mutation was refused")
        data = body.get("data")
        errors = body.get("errors")
        errors = errors if isinstance(errors, list) else [errors] if errors else []
        result = data.get(root_field(spec.mutation)) if isinstance(data, dict) else None
        if result is not None:
            refusals = _read(data, spec.user_errors)
            if isinstance(refusals, list) and refusals:
                raise WriteRejected(self.partner, "the partner refused the write")
            return Written(target if target is not None else self._created_id(spec, data))
        refusal = _refusal(self.partner, spec, errors) or credential_refusal(self.partner, errors)
        if refusal is not None:
            raise refusal
        ran = isinstance(data, dict) or any(isinstance(e, dict) and e.get("path") for e in errors)
        if not ran:
            raise SourceBadResponse(
                self.partner,
                f"the partner refused the mutation before running it ({len(errors)} error(s))",
            )
        raise OutcomeUnknown(self.partner, "the mutation failed at the partner after it ran")

    def _created_id(self, spec: GraphqlWrite, data: Any) -> str:
        created = _read(data, spec.created_id)
        if created is None or isinstance(created, dict | list) or created == "":
            raise OutcomeUnknown(self.partner, "the write's answer names no id")
        return str(created)


def _graphql_answer(answer: HttpAnswer) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one."""
    if "json" not in answer.headers.get("content-type", ""):
        return None
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _refusal(partner: str, spec: GraphqlWrite, errors: list[Any]) -> SourceError | None:
    """A :class:`WriteRejected` when every error carries a code the block says refuses."""
    if not errors:
        return None
    codes = [error_code(error) for error in errors]
    if all(code in spec.not_found_codes for code in codes):
        return WriteRejected(partner, _refused(codes), not_found=True)
    if all(code in spec.rejected_codes or code in spec.not_found_codes for code in codes):
        return WriteRejected(partner, _refused(codes))
    return None


def _refused(codes: Sequence[Any]) -> str:
    # The codes are the block's own (each matched one): no partner text in the message.
    return f"the partner refused the write ({', '.join(sorted(set(map(str, codes))))})"


def _read(data: Any, path: str | None) -> Any:
    if path is None:
        return None
    value = read_path(data, compile_path(path))
    return None if value is MISSING else value
