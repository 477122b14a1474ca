"""What every simulated partner app shares: JSON responses, call counting, latency, 400s.

Each app keeps ``app.state.calls`` (a ``Counter`` by route name) so tests and the benchmark
can see how many calls the gateway really made, and ``app.state.latency_s``, slept at the
start of every request to imitate the network. A handler raises :class:`BadRequest` for an
unknown or invalid query value: the partner answers 400 with a JSON error, never 500.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

Handler = Callable[[Request], Awaitable[Response]]


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class BadRequest(Exception):
    """An invalid request; ``body`` is the partner's own JSON error shape."""

    def __init__(self, body: dict[str, Any], status: int = 400) -> None:
        super().__init__(status)
        self.body = body
        self.status = status


def counted(name: str) -> Callable[[Handler], Handler]:
    """Count the call under ``name``, sleep the app's latency, turn BadRequest into JSON."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state = request.app.state
            state.calls[name] += 1
            if state.latency_s:
                await asyncio.sleep(state.latency_s)
            try:
                return await handler(request)
            except BadRequest as error:
                return JSONResponse(error.body, status_code=error.status)

        return endpoint

    return decorate


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse({"error": "not found" if status == 404 else "error"}, status_code=status)


def new_app(routes: Sequence[BaseRoute], latency_ms: float) -> Starlette:
    app = Starlette(routes=list(routes), exception_handlers={HTTPException: _http_error})
    app.state.calls = Counter()
    app.state.latency_s = max(0.0, latency_ms) / 1000
    return app


def check_params(
    request: Request, allowed: Sequence[str], error: Callable[[str], BadRequest]
) -> None:
    for name in request.query_params:
        if name not in allowed:
            raise error(f"unknown parameter {name}")


def comma_list(
    request: Request,
    name: str,
    pattern: re.Pattern[str],
    error: Callable[[str], BadRequest],
    max_items: int = 200,
) -> list[str] | None:
    """A comma-separated parameter, each item checked against ``pattern``; None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",")]
    if not items or len(items) > max_items or not all(pattern.fullmatch(i) for i in items):
        raise error(f"invalid value for {name}")
    return items


def number(
    request: Request,
    name: str,
    error: Callable[[str], BadRequest],
    low: float,
    high: float,
    integer: bool = False,
) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = float(int(raw)) if integer else float(raw)
    except ValueError:
        raise error(f"invalid value for {name}") from None
    if not low <= value <= high:  # also refuses NaN
        raise error(f"{name} out of range")
    return value


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


ROME = re.compile(r"[A-Z]\d{4}")
DEPARTEMENT = re.compile(r"\d{2}|2A|2B|97\d")
INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
UAI = re.compile(r"\d{7}[A-Z]")
SIRET = re.compile(r"\d{14}")
RNCP = re.compile(r"RNCP\d{3,5}")
