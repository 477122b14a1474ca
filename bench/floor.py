"""The floor of a workload: the partner HTTP calls the gateway makes for it, recorded once.

:func:`record_plan` runs the gateway in this process (caching off, every HTTP partner behind a
recording transport that forwards to the real simulated partners), answers the workload once to
warm credentials and feeds, then once more while recording each outgoing request with its start
and end. Requests that start before any request of the current stage has ended run in parallel;
one that starts after is a new stage (it needed an earlier answer: the employers of a page of
offers). The driver then replays the stages directly, at the same concurrency: the cost of the
partner calls alone, without the gateway.

The credential headers are recorded as sent (the demo's fake credentials, a demo OAuth2 token
valid 25 minutes): the plan lives in memory and in a temporary file only for one run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.workloads import Workload

_DROPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True, slots=True)
class Call:
    partner: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    started: float
    ended: float
    status: int

    def to_json(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
        }


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to a real HTTP transport; remembers each request while ``calls`` is a list."""

    def __init__(self, partner: str, calls: list[Call]) -> None:
        self.partner = partner
        self.calls = calls
        self.recording = False
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        ended = time.perf_counter()
        if self.recording:
            headers = {k: v for k, v in request.headers.items() if k not in _DROPPED_HEADERS}
            self.calls.append(
                Call(
                    self.partner,
                    request.method,
                    str(request.url),
                    headers,
                    body,
                    started,
                    ended,
                    response.status_code,
                )
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def stages(calls: list[Call]) -> list[list[Call]]:
    """Group calls into sequential stages of parallel calls (see the module docstring)."""
    grouped: list[list[Call]] = []
    for call in sorted(calls, key=lambda c: c.started):
        if grouped and call.started < min(c.ended for c in grouped[-1]):
            grouped[-1].append(call)
        else:
            grouped.append([call])
    return grouped


async def record_plan(partners_file: Path, workload: Workload) -> list[list[Call]]:
    """The stages of partner calls that answering ``workload`` once costs, cache off."""
    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.settings import Settings

    partners = load_partners(partners_file)
    calls: list[Call] = []
    transports = {name: RecordingTransport(name, calls) for name in partners.partners}
    app = create_app(Settings(cache_enabled=False), partners, transports)
    registry = app.state.registry
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    try:
        body = workload.payload(0)
        for recording in (False, True):  # the first answer fetches tokens and feeds
            for transport in transports.values():
                transport.recording = recording
            response = await client.post("/graphql", content=body, headers=_JSON)
            answer = response.json()
            if response.status_code != 200 or answer.get("errors"):
                raise RuntimeError(f"{workload.name}: the gateway answered with errors: {answer}")
    finally:
        await client.aclose()
        await registry.aclose()
        for transport in transports.values():
            await transport.aclose()
    failed = [c for c in calls if c.status >= 400]
    if failed:
        raise RuntimeError(f"{workload.name}: partner calls failed: {[c.url for c in failed]}")
    return stages(calls)


_JSON = {"content-type": "application/json"}


def plan_to_json(plan: list[list[Call]]) -> list[list[dict[str, Any]]]:
    return [[call.to_json() for call in stage] for stage in plan]


def describe(plan: list[list[Call]]) -> str:
    """``francetravail + (sirene, apprentissage)``: who is called, stage by stage."""
    parts = []
    for stage in plan:
        names = [c.partner for c in stage]
        counted = [
            f"{n}×{names.count(n)}" if names.count(n) > 1 else n for n in dict.fromkeys(names)
        ]
        parts.append(counted[0] if len(counted) == 1 else "(" + ", ".join(counted) + ")")
    return " → ".join(parts)


def dumps(plan: list[list[Call]]) -> bytes:
    return orjson.dumps(plan_to_json(plan))
