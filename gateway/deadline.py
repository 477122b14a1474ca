"""The request's overall deadline, and one access-log line per request.

The deadline is opened here, at the HTTP edge, as the scope of :mod:`adapters.deadline`: every
partner call inside the request gets at most what the request has left minus a margin
(``HUB_DEADLINE_MARGIN_S``), so a slow partner is a partial answer (``SOURCE_TIMEOUT``) before
this deadline, and CPU-bound loops check it between items. ``asyncio.timeout`` is the backstop
for everything else (a slow client, work that never awaits): past it the client gets 503 with a
GraphQL-shaped error, never a hung connection.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import deadline
from gateway.admission import ARRIVED_AT

log = logging.getLogger("alternance_hub.access")

_DEADLINE_BODY = orjson.dumps(
    {
        "errors": [
            {"message": "request deadline exceeded", "extensions": {"code": "DEADLINE_EXCEEDED"}}
        ]
    }
)


class RequestDeadline:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # From arrival: a request that waited in the admission queue spends its own budget.
        started = scope.get(ARRIVED_AT) or time.perf_counter()
        seconds = self.seconds - (time.perf_counter() - started)
        status = 0

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with deadline.within(seconds):
                async with asyncio.timeout(max(seconds, 0.0)):
                    await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if status == 0:
                status = 503
                await send(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": _DEADLINE_BODY})
        finally:
            # Method, path and status only: the query string and body may carry personal data.
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
