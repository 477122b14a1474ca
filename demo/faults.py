"""Fault injection around a simulated partner, for the "Partner faults" tests of TEST-PLAN.md.

A pure-ASGI wrapper; tests set ``mode`` (and its parameters) between requests::

    faulty = FaultInjector(francetravail.create_app())
    faulty.mode = "unavailable"        # every answer is now 503 with Retry-After
    faulty.set("slow", delay_s=3.0)    # or change a parameter at the same time

Modes:

=====================  ==========================================================================
``ok``                 the partner's own answer
``slow``               sleeps ``delay_s`` before answering normally
``slow_answer``        handles the request, then sleeps ``delay_s`` before sending its answer:
                       a partner that commits a write and then stalls
``drip``               sends the headers, then one byte every ``drip_interval_s``
``error_once``         one 500, then back to ``ok``
``unavailable``        503 with ``Retry-After: retry_after_s``
``bad_json``           200 ``application/json`` whose body is not JSON
``truncated_json``     the partner's answer cut in the middle
``html``               200 ``text/html`` error page (a proxy's answer)
``wrong_content_type`` the partner's body labelled ``text/plain``
``empty``              200 ``application/json`` with an empty body
``huge``               streams ``huge_mb`` MB of valid-looking JSON, no Content-Length
``wrong_types``        the partner's answer with every number and boolean of its records made
                       a word and an unexpected field added to each object (the envelope:
                       ``pagination``, ``header``... is left intact)
=====================  ==========================================================================

``only_paths`` restricts faults to paths with one of these prefixes (the rest passes through:
e.g. fault the search but not the OAuth2 token endpoint), ``only_methods`` to these methods
(fault the writes, not the reads around them). ``faults`` counts faulted requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MODES = (
    "ok",
    "slow",
    "slow_answer",
    "drip",
    "error_once",
    "unavailable",
    "bad_json",
    "truncated_json",
    "html",
    "wrong_content_type",
    "empty",
    "huge",
    "wrong_types",
)
_HTML = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Service temporairement indisponible</h1></body></html>"
)
_HUGE_RECORD = b'{"id":"000XXXX","intitule":"' + b"x" * 900 + b'","nombrePostes":1},'
_CHUNK = 64 * 1024


class FaultInjector:
    def __init__(self, app: ASGIApp, mode: str = "ok", **parameters: Any) -> None:
        self.app = app
        self.delay_s = 5.0
        self.drip_interval_s = 0.5
        self.drip_body = b'{"resultats": [], "jobs": [], "data": []}'
        self.retry_after_s = 1.0
        self.huge_mb = 50.0
        self.only_paths: tuple[str, ...] = ()
        self.only_methods: tuple[str, ...] = ()
        self.faults = 0
        self.mode = "ok"
        self.set(mode, **parameters)

    def set(self, mode: str, **parameters: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        for name, value in parameters.items():
            if not hasattr(self, name) or name in ("app", "mode", "faults"):
                raise ValueError(f"unknown fault parameter {name!r}")
            setattr(self, name, value)
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        mode = self.mode
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or mode == "ok"
            or (self.only_paths and not path.startswith(self.only_paths))
            or (self.only_methods and scope.get("method") not in self.only_methods)
        ):
            await self.app(scope, receive, send)
            return
        self.faults += 1
        if mode == "slow":
            await asyncio.sleep(self.delay_s)
            await self.app(scope, receive, send)
        elif mode == "slow_answer":
            status, headers, body = await _capture(self.app, scope, receive)
            await asyncio.sleep(self.delay_s)
            kept = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
            content_type = dict(headers).get(b"content-type", b"application/json")
            await _whole(send, status, content_type, body, kept)
        elif mode == "drip":
            await _start(send, 200, b"application/json")
            for index in range(len(self.drip_body)):
                await asyncio.sleep(self.drip_interval_s)
                await send(
                    {
                        "type": "http.response.body",
                        "body": self.drip_body[index : index + 1],
                        "more_body": True,
                    }
                )
            await send({"type": "http.response.body", "body": b""})
        elif mode == "error_once":
            self.mode = "ok"
            await _whole(send, 500, b"application/json", b'{"error": "internal error"}')
        elif mode == "unavailable":
            await _whole(
                send,
                503,
                b"application/json",
                b'{"error": "maintenance"}',
                [(b"retry-after", f"{self.retry_after_s:g}".encode())],
            )
        elif mode == "bad_json":
            await _whole(send, 200, b"application/json", b'{"resultats": [{"id": 1,,]')
        elif mode == "html":
            await _whole(send, 200, b"text/html; charset=utf-8", _HTML)
        elif mode == "empty":
            await _whole(send, 200, b"application/json", b"")
        elif mode == "huge":
            await _start(send, 200, b"application/json")
            for chunk in _huge_body(int(self.huge_mb * 1024 * 1024)):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            await self._rewrite(mode, scope, receive, send)

    async def _rewrite(self, mode: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Modes that alter the partner's real answer: capture it, then send it changed."""
        status, headers, body = await _capture(self.app, scope, receive)
        content_type = dict(headers).get(b"content-type", b"application/json")
        if mode == "truncated_json":
            body = body[: len(body) // 2]
        elif mode == "wrong_content_type":
            content_type = b"text/plain; charset=utf-8"
        elif mode == "wrong_types" and body:
            body = orjson.dumps(_corrupt_body(orjson.loads(body)))
        kept = [(k, v) for k, v in headers if k not in (b"content-type", b"content-length")]
        await _whole(send, status, content_type, body, kept)


async def _start(
    send: Send, status: int, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), *(extra or [])],
        }
    )


async def _whole(
    send: Send,
    status: int,
    content_type: bytes,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-length", str(len(body)).encode()), *(extra or [])]
    await _start(send, status, content_type, headers)
    await send({"type": "http.response.body", "body": body})


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status, headers, parts = 500, [], []

    async def collect(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, collect)
    return status, headers, b"".join(parts)


def _huge_body(size: int) -> Iterator[bytes]:
    """About ``size`` bytes of one JSON document, in chunks (never held whole in memory)."""
    yield b'{"resultats": ['
    per_chunk = max(1, _CHUNK // len(_HUGE_RECORD))
    chunk = _HUGE_RECORD * per_chunk
    for _ in range(max(1, size // len(chunk))):
        yield chunk
    yield b'{"id":"000XXXX"}]}'


# Top-level keys that frame the records rather than being part of them: left intact.
_ENVELOPE = frozenset({"pagination", "header", "filtresPossibles", "warnings"})


def _corrupt_body(body: Any) -> Any:
    if not isinstance(body, dict):
        return _corrupt(body)
    return {k: v if k in _ENVELOPE else _corrupt(v) for k, v in body.items()}


def _corrupt(value: Any) -> Any:
    """Numbers and booleans become words; every object gets an unexpected field."""
    if isinstance(value, dict):
        out = {k: _corrupt(v) for k, v in value.items()}
        out.setdefault("champInattendu", "valeur inattendue")
        return out
    if isinstance(value, list):
        return [_corrupt(v) for v in value]
    if isinstance(value, bool):
        return "peut-être"
    if isinstance(value, int | float):
        return "beaucoup"
    return value
