"""The GraphQL endpoint: Strawberry's ASGI view with the hub's context, JSON and GraphiQL.

It answers from the response cache (:mod:`gateway.response_cache`) when it can, and says so in
every answer: ``extensions.cacheHit`` is true for an answer served from it, false otherwise.
``extensions.cost`` is the query's cost and its limit (:mod:`resolvers.cost_limit`). An answer
whose JSON is over ``HUB_MAX_RESPONSE_BYTES`` goes out as one ``RESPONSE_TOO_LARGE`` error
instead (and is never kept).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway import graphiql
from gateway.context import new_context
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from resolvers.context import Context
from sources.cache import HubCache
from sources.freshness import track
from sources.registry import SourceRegistry

RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


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


class HubGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        registry: SourceRegistry,
        settings: Settings,
        cache: HubCache | None = None,
        schema: strawberry.Schema | None = None,
        **kwargs: Any,
    ) -> None:
        from resolvers.schema import build_schema

        built = schema or build_schema(development=settings.development)
        super().__init__(
            built,
            graphql_ide="graphiql" if settings.development else None,
            allow_queries_via_get=False,
            **kwargs,
        )
        self.registry = registry
        self.settings = settings
        # Off with the cache: the benchmark's cold mode must execute every request.
        on = settings.response_cache and settings.cache_enabled
        self.responses = ResponseCache(built._schema, cache or registry.cache) if on else None

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,  # cross_web.AsyncHTTPRequestAdapter, Strawberry's own dependency
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        responses = self.responses
        key = None
        if responses is not None and request_data.query is not None:
            key = responses.key(
                request_data.query,
                request_data.operation_name,
                request_data.variables,
                context.scope,
            )
        if responses is None or key is None or request_data.query is None:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
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

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if isinstance(result, _Answered):
            return cast(GraphQLHTTPResponse, _Encoded(result.payload))
        answer = await super().process_result(request, result)
        answer["extensions"] = {**(answer.get("extensions") or {}), "cacheHit": False}
        return answer

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return new_context(self.registry, self.settings)

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
