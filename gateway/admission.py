"""Admission control: at most ``HUB_MAX_IN_FLIGHT`` GraphQL requests executing per worker.

Past that, a request waits in a short FIFO queue (at most ``HUB_ADMISSION_QUEUE`` requests,
each for at most ``HUB_ADMISSION_MAX_WAIT_S``); past the queue, or once its wait is over, it is
refused at once with 503, a GraphQL-shaped body and ``Retry-After``, before its body is read or
parsed. An overloaded gateway thus serves the requests it accepted at their usual latency
instead of making every request slow, and no request runs past its deadline (the queue's wait
counts in the request's deadline, opened outside this middleware). Only the GraphQL path is
gated: ``/healthz``, ``/readyz`` and ``/metrics`` always answer.

    gate = AdmissionGate(max_in_flight=32, queue_size=32, max_wait_s=0.1)
    app = Admission(app, gate, retry_after_s=1, paths=("/graphql",))

``Admission`` is the outermost layer of the gateway's app (``gateway.app.HubApp``), in front of
Starlette's own middleware, the request metrics, the deadline and the access log: under a storm
of clients retrying at once, a refusal must cost as little as it can, since it is paid on the
same event loop as the accepted requests. So a refusal is counted by direct metric calls, is
not an access-log line (one summary line a second says how many were refused), and the time a
request waited in the queue is put in its scope (``ARRIVED_AT``) for the deadline to count.

The gate's counters (``in_flight``, ``waiting``, ``rejected``) are for metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections import deque

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import instrumentation
from gateway.http_protocol import REFUSED

OVERLOADED = "OVERLOADED"
ARRIVED_AT = "hub.arrived_at"
"""Scope key: ``time.perf_counter()`` when the request reached the gateway, before any wait."""

log = logging.getLogger("alternance_hub.admission")


class Decision(enum.Enum):
    """What the gate answered a request: a slot, or why not (the metrics' ``decision``)."""

    ADMITTED = "admitted"
    QUEUE_FULL = "queue_full"  # refused at once: the queue was full
    QUEUE_TIMEOUT = "queue_timeout"  # refused after waiting ``max_wait_s`` in the queue


class AdmissionGate:
    def __init__(self, max_in_flight: int, queue_size: int, max_wait_s: float) -> None:
        self.max_in_flight = max_in_flight
        self.queue_size = queue_size
        self.max_wait_s = max_wait_s
        self.in_flight = 0
        self.rejected = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def enter(self) -> Decision:
        """Take a slot (``ADMITTED``), or give up: the queue is full, or the wait too long."""
        if self.in_flight < self.max_in_flight and not self._queue:
            self.in_flight += 1
            return Decision.ADMITTED
        if len(self._queue) >= self.queue_size:
            self.rejected += 1
            return Decision.QUEUE_FULL
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            async with asyncio.timeout(self.max_wait_s):
                await turn  # resolved by leave(): the slot is handed over, in_flight unchanged
        except BaseException as error:  # the wait ran out, or the client went away
            if turn.done() and not turn.cancelled():
                self.leave()  # handed a slot while giving up: pass it on
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):
                    self._queue.remove(turn)
            if isinstance(error, TimeoutError):
                self.rejected += 1
                return Decision.QUEUE_TIMEOUT
            raise
        return Decision.ADMITTED

    def leave(self) -> None:
        """Give the slot back: to the first request still waiting, else to the pool."""
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.in_flight -= 1


def overloaded_body() -> bytes:
    return orjson.dumps(
        {
            "errors": [
                {
                    "message": "the gateway is at capacity; retry after the delay given",
                    "extensions": {"code": OVERLOADED},
                }
            ]
        }
    )


class Admission:
    def __init__(
        self,
        app: ASGIApp,
        gate: AdmissionGate,
        retry_after_s: int,
        paths: tuple[str, ...] = ("/graphql",),
    ) -> None:
        self.app = app
        self.gate = gate
        self.paths = paths
        instrumentation.watch_admission(lambda: gate.in_flight, lambda: gate.waiting)
        self._body = overloaded_body()
        self._headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self._body)).encode()),
            (b"retry-after", str(retry_after_s).encode()),
            (b"cache-control", b"no-store"),
        ]
        self._summary = RefusalSummary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        arrived = scope[ARRIVED_AT] = time.perf_counter()
        decision = await self.gate.enter()
        if decision is not Decision.ADMITTED:
            scope[REFUSED] = True  # the HTTP protocol pauses this connection (http_protocol)
            await send({"type": "http.response.start", "status": 503, "headers": self._headers})
            await send({"type": "http.response.body", "body": self._body})
            instrumentation.refused_overloaded(decision.value, time.perf_counter() - arrived)
            self._summary.refused()
            return
        instrumentation.admitted(time.perf_counter() - arrived)
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()


class RefusalSummary:
    """One log line a second at most while requests are refused, with how many: a line per
    refusal would cost a storm's worth of CPU and log volume (the metrics count each)."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.every_s = every_s
        self._count = 0
        self._since = time.monotonic()

    def refused(self) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._since >= self.every_s:
            log.warning(
                "requests refused: at capacity",
                extra={"refused": self._count, "seconds": round(now - self._since, 1)},
            )
            self._count, self._since = 0, now
