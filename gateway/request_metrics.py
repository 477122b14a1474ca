"""Request metrics at the HTTP edge, and the separate metrics port.

:func:`instrument` installs three pieces on the app (one line in :func:`gateway.app.create_app`,
after the other middleware, so that the limits' and the deadline's refusals are seen too):

- :class:`RequestMetrics`, a pure ASGI middleware: times every ``/graphql`` request, counts it
  by operation kind and outcome (:data:`gateway.instrumentation.OUTCOMES`), counts its errors
  by code, and the requests in flight. With ``HUB_METRICS_PORT`` it also starts and stops the
  metrics server with the app's lifespan and answers 404 for ``/metrics`` on the public port;
- :class:`OperationMetrics`, a Strawberry extension: tells the middleware which kind of
  operation ran and which error codes its answer holds (the middleware never parses a body);
- the response cache's counters, reported with the app's other metrics.

An answer served whole from the response cache executes nothing: it is counted as a query
(only query documents are kept) whose outcome is ``ok`` (only answers without error are kept).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import orjson
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from gateway.instrumentation import (
    IN_FLIGHT,
    REQUEST_ERRORS,
    REQUEST_SECONDS,
    REQUESTS,
    RequestRecord,
    current_request,
    end_request,
    error_code,
    start_request,
)
from gateway.metrics import registry_for, watch_response_cache
from gateway.metrics_server import MetricsServer
from sources.registry import SourceRegistry

if TYPE_CHECKING:
    from gateway.graphql_view import HubGraphQL
    from gateway.settings import Settings

CLIENT_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "QUERY_TOO_COMPLEX",
        "UNAUTHENTICATED",
        "FORBIDDEN",
    }
)
"""Codes of an answer that is the client's mistake: without data, it is a ``bad_request``."""

REQUEST_ERROR = "GRAPHQL_VALIDATION_FAILED"  # an error without a code, not from a resolver
INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"  # an error without a code raised by a resolver
_ERROR_BODY_BYTES = 4096  # a refusal's body is read for its code, never more than this
_NOT_FOUND = orjson.dumps(
    {"errors": [{"message": "not found", "extensions": {"code": "NOT_FOUND"}}]}
)


def _code_of(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if code is not None:
        return error_code(code)
    original = error.original_error
    return (
        INTERNAL_ERROR
        if original is not None and not isinstance(original, GraphQLError)
        else REQUEST_ERROR
    )


class OperationMetrics(SchemaExtension):
    """Notes the operation's kind and its answer's error codes for :class:`RequestMetrics`."""

    def on_execute(self) -> Iterator[None]:
        record = current_request()
        if record is not None:
            record.executed = True
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is None:
            return
        context = self.execution_context
        try:
            record.operation = context.operation_type.value
        except Exception:  # no document, or no such operation: counted as "other"
            record.operation = None
        result = context.result
        if result is None:
            return
        record.has_data = result.data is not None
        record.codes = [_code_of(error) for error in result.errors or ()]


def outcome_of(record: RequestRecord, status: int, refusal_code: str | None) -> str:
    if record.overloaded or status == 429 or refusal_code == "OVERLOADED":
        return "overloaded"
    if refusal_code == "DEADLINE_EXCEEDED":
        return "deadline_exceeded"
    if status == 200:
        if not record.codes:
            return "ok"
        if record.has_data:
            return "partial"
        return "bad_request" if CLIENT_CODES.issuperset(record.codes) else "error"
    if 400 <= status < 500:
        return "bad_request"
    return "error"


def _refusal_code(body: bytes) -> str | None:
    """The code of a refusal's GraphQL-shaped body (``errors[0].extensions.code``), if any."""
    try:
        code = orjson.loads(body)["errors"][0]["extensions"]["code"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    return error_code(code)


def observe(record: RequestRecord, method: str, status: int, body: bytes, seconds: float) -> None:
    refusal = _refusal_code(body) if status >= 400 and body else None
    if record.operation is not None:
        operation = record.operation
    else:  # executed nothing: a response-cache hit (a query), or a refusal
        operation = "query" if status == 200 and method == "POST" else "other"
    outcome = outcome_of(record, status, refusal)
    REQUESTS.labels(operation, outcome).inc()
    REQUEST_SECONDS.labels(operation, outcome).observe(seconds)
    for code in record.codes or ([refusal] if refusal else []):
        REQUEST_ERRORS.labels(code).inc()


class RequestMetrics:
    """Times the GraphQL requests; owns the metrics port's server when there is one."""

    def __init__(
        self, app: ASGIApp, *, server: MetricsServer | None = None, path: str = "/graphql"
    ) -> None:
        self.app = app
        self.server = server
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.server is not None:
            await self.app(scope, receive, self._serving_metrics(send))
        elif scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["path"] == "/metrics" and self.server is not None:
            await _not_found(send)  # not public: served on the metrics port only
        elif scope["path"] == self.path:
            await self._timed(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _serving_metrics(self, send: Send) -> Send:
        """The lifespan's ``send``: the metrics server starts once the app has started (or
        the start fails, naming the port), and stops once the app has shut down."""
        server = self.server
        assert server is not None

        async def send_and_serve(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                try:
                    server.start()
                except OSError as error:
                    await send(
                        {"type": "lifespan.startup.failed", "message": f"metrics port: {error}"}
                    )
                    return
            elif message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await asyncio.to_thread(server.stop)
            await send(message)

        return send_and_serve

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        record, token = start_request()
        status = 0
        refusal = bytearray()

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif status >= 400 and len(refusal) < _ERROR_BODY_BYTES:
                refusal.extend(message.get("body", b"")[:_ERROR_BODY_BYTES])
            await send(message)

        IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, tracking_send)
        finally:
            IN_FLIGHT.dec()
            end_request(token)
            observe(record, scope["method"], status, bytes(refusal), time.perf_counter() - started)


async def _not_found(send: Send) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": _NOT_FOUND})


def instrument(app: Starlette, settings: Settings, graphql: HubGraphQL) -> None:
    """Install the request metrics on ``app`` (call it after the other middleware); with
    ``HUB_METRICS_PORT``, the metrics server is ``app.state.metrics_server``."""
    schema = graphql.schema
    if isinstance(schema, strawberry.Schema):
        schema.extensions = (*schema.extensions, OperationMetrics)
    sources: SourceRegistry = app.state.registry
    watch_response_cache(sources, graphql.responses)
    server = None
    if settings.metrics_port is not None:
        server = MetricsServer(registry_for(sources), settings.metrics_host, settings.metrics_port)
    app.state.metrics_server = server
    app.add_middleware(RequestMetrics, server=server)


__all__ = ["OperationMetrics", "RequestMetrics", "instrument", "observe", "outcome_of"]
