"""The GraphQL endpoint: Strawberry's ASGI view with the hub's context, JSON and GraphiQL.

It answers from the response cache (:mod:`gateway.response_cache`) when it can, and says so in
every answer: ``extensions.cacheHit`` is true for an answer served from it, false otherwise.
``extensions.cost`` is the query's cost and its limit (:mod:`resolvers.cost_limit`). An answer
whose JSON is over ``HUB_MAX_RESPONSE_BYTES`` goes out as one ``RESPONSE_TOO_LARGE`` error
instead (and is never kept).

The request is the hub's to read, not Strawberry's: only a POST whose body is one JSON object
(``query`` a string, ``variables`` and ``extensions`` objects, ``operationName`` a string) is
executed; any other body — malformed JSON, invalid UTF-8, a BOM, ``NaN``, a string, a number, a
batch (a list) — is a 400. GET serves GraphiQL's page when it is on (development) and is a 405
otherwise. A request refused before execution (syntax, validation, a variable's value) is a
400 too, with no ``data``. Every error body has the GraphQL shape and a code; what a client sees
of an error and what the logs keep of it is :mod:`gateway.client_errors`.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from typing import Any, cast

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from adapters import acting
from gateway import graphiql, instrumentation
from gateway.authentication import Identity, refusal
from gateway.client_errors import document_hash, format_errors, is_request_error, operation_name
from gateway.context import new_context
from gateway.error_bodies import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    UNSUPPORTED_MEDIA_TYPE,
    error_response,
)
from gateway.limits import BodyTooLarge, is_json_media_type
from gateway.logs import current_request, request_scope
from gateway.personal_stores import PersonalStores
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from identity.errors import IdentityUnavailable, Unauthenticated
from identity.principal import Principal
from resolvers.context import Context
from sources.cache import HubCache
from sources.freshness import track
from sources.indicators import Indicators
from sources.registry import SourceRegistry
from store.audit import Action, AuditEntry, AuditUnavailable, Outcome, RecordRef

RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"

log = logging.getLogger("alternance_hub.errors")

# Strawberry's HTTP refusals, by status, as the codes a client reads.
_HTTP_CODES = {400: BAD_REQUEST, 405: METHOD_NOT_ALLOWED, 415: UNSUPPORTED_MEDIA_TYPE}
_NOT_AN_OBJECT = 'the body must be one JSON object: {"query": "...", "variables": {...}}'


@dataclasses.dataclass
class _Answered(ExecutionResult):
    """An execution result already encoded: a response-cache hit, or a miss encoded once
    before it was stored."""

    payload: bytes = b""


class _Encoded(dict[str, object]):
    """What :meth:`HubGraphQL.process_result` hands :meth:`HubGraphQL.encode_json` for an
    already encoded answer: its bytes go out as they are."""

    def __init__(self, payload: bytes) -> None:
        super().__init__()
        self.payload = payload


AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
logger = logging.getLogger(__name__)


class HubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        registry: SourceRegistry,
        settings: Settings,
        cache: HubCache | None = None,
        schema: strawberry.Schema | None = None,
        identity: Identity | None = None,
        stores: PersonalStores | None = None,
        indicators: Indicators | None = None,
        **kwargs: Any,
    ) -> None:
        from resolvers.schema import build_schema

        built = schema or build_schema(
            development=settings.development, service_sdl=settings.service_sdl
        )
        super().__init__(
            built,
            graphql_ide="graphiql" if settings.development else None,
            allow_queries_via_get=False,
            subscription_protocols=(),
            **kwargs,
        )
        self.registry = registry
        self.settings = settings
        self.identity = identity
        self.stores = stores
        self.indicators = indicators
        # Off with the cache: the benchmark's cold mode must execute every request.
        on = settings.response_cache and settings.cache_enabled
        self.responses = ResponseCache(built._schema, cache or registry.cache) if on else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        with request_scope(self.settings.log_lines_per_request):
            try:
                if request.method == "POST":
                    response = await self._authenticated(request)
                elif self.graphql_ide and self.should_render_graphql_ide(
                    self.request_adapter_class(request)
                ):
                    response = await self.render_graphql_ide(request)
                else:
                    response = error_response(
                        405, "POST a JSON GraphQL request", METHOD_NOT_ALLOWED, {"Allow": "POST"}
                    )
            except HTTPException as refused:
                code = _HTTP_CODES.get(refused.status_code, BAD_REQUEST)
                response = error_response(refused.status_code, refused.reason, code)
            except BodyTooLarge:
                raise  # RequestLimits answers 413
            except Exception as exc:
                response = _internal_error(exc)
        await response(scope, receive, send)

    async def _authenticated(self, request: Request) -> Response:
        """Run the request as the principal of its credential, or refuse it (401, 503)."""
        principal: Principal | None = None
        if self.identity is not None:
            try:
                principal = await self.identity.authenticator.authenticate(
                    request.headers.get("authorization")
                )
            except (Unauthenticated, IdentityUnavailable) as error:
                return refusal(error)
        elif "authorization" in request.headers:
            # No identity configured: a credential cannot be checked, so it is refused rather
            # than ignored (a client sending one expects to be someone).
            return refusal(Unauthenticated("identity_off"))
        request.state.principal = principal
        # Everything the request runs acts for its principal: personal partner calls carry
        # it, signed with the key loaded once at start-up (never per request).
        signer = self.identity.assertions if self.identity is not None else None
        with acting.scoped(principal, signer):
            return await self.run(request)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        if not is_json_media_type((request.content_type or "").encode("latin-1")):
            raise HTTPException(415, "POST /graphql takes application/json (UTF-8) only")
        try:
            data = self.decode_json(await request.get_body())
        except orjson.JSONDecodeError:
            raise HTTPException(400, "the body is not JSON (RFC 8259, UTF-8, no BOM)") from None
        if isinstance(data, list):
            raise HTTPException(400, "batched operations are not supported: one per request")
        if not isinstance(data, dict):
            raise HTTPException(400, _NOT_AN_OBJECT)
        query = data.get("query")
        variables = data.get("variables")
        name = data.get("operationName")
        extensions = data.get("extensions")
        if not isinstance(query, str):
            raise HTTPException(400, "`query` must be a string holding a GraphQL document")
        if not isinstance(variables, dict | None):
            raise HTTPException(400, "`variables` must be an object or null")
        if not isinstance(name, str | None):
            raise HTTPException(400, "`operationName` must be a string or null")
        if not isinstance(extensions, dict | None):
            raise HTTPException(400, "`extensions` must be an object or null")
        scope = current_request()
        if scope is not None:
            scope.document = document_hash(query)
            scope.operation = operation_name(query, name)
        return GraphQLRequestData(
            query=query, variables=variables, operation_name=name, extensions=extensions
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,  # cross_web.AsyncHTTPRequestAdapter, Strawberry's own dependency
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # An authenticated request's answer is its principal's alone: never kept nor served
        # from the response cache (the scope in the key would separate principals too; this
        # keeps whatever a principal may see out of the shared tiers altogether).
        responses = self.responses if context.principal is None else None
        key = None
        if responses is not None and request_data.query is not None:
            key = responses.key(
                request_data.query,
                request_data.operation_name,
                request_data.variables,
                context.scope,
            )
        if responses is None or key is None or request_data.query is None:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
            return await self._audited(context, request_data, result)
        payload = await responses.get(key)
        if payload is not None:
            return _Answered(data=None, errors=None, payload=payload)
        with track() as inputs:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        if result.errors:
            return result  # never kept; processed as any answer
        answer = cast(dict[str, Any], await self.process_result(request, result))
        encoded = orjson.dumps(answer)
        if len(encoded) > self.settings.max_response_bytes:
            return _Answered(data=None, errors=None, payload=encoded)  # refused by encode_json
        await responses.keep(
            key,
            request_data.query,
            request_data.operation_name,
            request_data.variables,
            answer,
            inputs,
        )
        return _Answered(data=None, errors=None, payload=encoded)

    async def _audited(
        self, context: Context, request_data: GraphQLRequestData, result: ExecutionResult
    ) -> ExecutionResult:
        """The answer, once every personal read and write it holds is in the audit trail; if
        the trail cannot be written, no personal data leaves (fail closed)."""
        if not context.personal_reads:
            return result
        audit = self.stores.audit if self.stores is not None else None
        principal = context.principal
        try:
            if audit is None or principal is None:
                raise AuditUnavailable("no audit trail is configured")
            scope = current_request()
            operation = (scope.operation if scope is not None else None) or (
                request_data.operation_name
            )
            await audit.record_all(
                principal,
                operation=operation,
                entries=[
                    AuditEntry(
                        Action(read.action),
                        read.entity,
                        [RecordRef(partner, partner_id) for partner, _, partner_id in read.refs],
                        Outcome(read.outcome),
                        read.detail,
                    )
                    for read in context.personal_reads
                ],
            )
        except AuditUnavailable:
            logger.error("audit trail unavailable: a personal answer was withheld")
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "the audit trail cannot be written: personal data is not served "
                        "without it; retry later",
                        extensions={"code": AUDIT_UNAVAILABLE},
                    )
                ],
            )
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if isinstance(result, _Answered):
            return cast(GraphQLHTTPResponse, _Encoded(result.payload))
        answer = await super().process_result(request, result)
        if result.errors:
            formatted = format_errors(result.errors, suggestions=self.settings.development)
            answer["errors"] = cast(list[object], formatted)
            if is_request_error(result.errors, result.data):
                answer.pop("data", None)  # never executed: no data entry (GraphQL over HTTP)
        extensions = answer.get("extensions") or {}
        cost = extensions.get("cost")
        if isinstance(cost, dict) and isinstance(cost.get("requested"), int | float):
            instrumentation.observe_cost(cost["requested"])
        answer["extensions"] = {**extensions, "cacheHit": False}
        return answer

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        refused = isinstance(response_data, dict) and "data" not in response_data
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        if refused and errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            code = (first.get("extensions") or {}).get("code")
            # Withheld for want of its audit trail: the gateway's state, not the request's.
            response.status_code = 503 if code == AUDIT_UNAVAILABLE else 400
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = getattr(request.state, "principal", None)
        context = new_context(self.registry, self.settings, principal)
        context.idempotency = self.stores.idempotency if self.stores is not None else None
        context.audit = self.stores.audit if self.stores is not None else None
        context.indicators = self.indicators
        return context

    def encode_json(self, data: object) -> bytes:
        payload = data.payload if isinstance(data, _Encoded) else orjson.dumps(data)
        limit = self.settings.max_response_bytes
        if len(payload) <= limit:
            return payload
        extensions = data.get("extensions") if isinstance(data, dict) else None
        return orjson.dumps(
            {
                "data": None,
                "errors": [
                    {
                        "message": f"The answer is over {limit} bytes: ask for fewer records "
                        "or fields",
                        "extensions": {"code": RESPONSE_TOO_LARGE, "limit": limit},
                    }
                ],
                "extensions": extensions or {},
            }
        )

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(
            graphiql.page(request.scope.get("root_path", "")),
            headers={"content-security-policy": graphiql.CONTENT_SECURITY_POLICY},
        )


def _internal_error(exc: Exception) -> Response:
    """A fault outside GraphQL's own error handling: logged with its frames, answered 500 with
    the id of that log line."""
    error_id = secrets.token_hex(8)
    log.error("internal error", exc_info=exc, extra={"error_id": error_id})
    return error_response(500, "internal error", INTERNAL_ERROR, errorId=error_id)
