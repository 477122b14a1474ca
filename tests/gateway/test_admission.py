"""Admission control (issue 7, item 5; TEST-PLAN "Load: overload").

At most ``HUB_MAX_IN_FLIGHT`` GraphQL requests execute per worker, a few more wait; the rest are
refused at once with 503 ``OVERLOADED`` and ``Retry-After``, health checks always answer, and
the gateway serves normally within a second once the load stops. The HTTP tests run the gateway
behind a real uvicorn on a free loopback port, the demo partners in-process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from gateway.admission import AdmissionGate, Decision, RefusalSummary
from gateway.http_protocol import PROTOCOL, PausingHttpToolsProtocol
from gateway.settings import Settings
from tests.adapters.rest_partners import served
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.metrics_text import grown, samples, value

pytestmark = pytest.mark.timed  # bounds in seconds: the heap is frozen around them

OFFERS = """{ offers(filter: {departements: ["73"], sources: ["apprentissage"]}, first: 3)
  { edges { node { id title } } } }"""
COLD = """query($d: [String!]) { offers(filter: {departements: $d}, first: 10)
  { totalCount edges { node { id title employer { name } } } } }"""

# -- the gate ------------------------------------------------------------------------------------


async def test_the_gate_admits_in_order_and_refuses_past_its_queue() -> None:
    gate = AdmissionGate(max_in_flight=2, queue_size=2, max_wait_s=5.0)
    assert await gate.enter() is Decision.ADMITTED and await gate.enter() is Decision.ADMITTED
    first, second = asyncio.create_task(gate.enter()), asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    assert gate.waiting == 2
    started = time.monotonic()
    assert await gate.enter() is Decision.QUEUE_FULL  # refused at once
    assert time.monotonic() - started < 0.05
    gate.leave()
    assert await first is Decision.ADMITTED  # the slot went to the first in line
    assert not second.done()
    gate.leave()
    assert await second is Decision.ADMITTED
    assert (gate.in_flight, gate.waiting, gate.rejected) == (2, 0, 1)


async def test_a_wait_past_its_bound_is_refused_and_a_gone_waiter_frees_its_place() -> None:
    gate = AdmissionGate(max_in_flight=1, queue_size=2, max_wait_s=0.05)
    assert await gate.enter() is Decision.ADMITTED
    started = time.monotonic()
    assert await gate.enter() is Decision.QUEUE_TIMEOUT  # waited 50 ms, still full
    assert time.monotonic() - started >= 0.05
    leaving = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    leaving.cancel()  # the client went away while waiting
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert gate.waiting == 0
    gate.leave()
    assert gate.in_flight == 0
    assert await gate.enter() is Decision.ADMITTED  # the slot was not lost


# -- over HTTP -----------------------------------------------------------------------------------


@asynccontextmanager
async def gateway(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, partners: tuple[str, ...]
) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    hub = await start_hub(monkeypatch, partners=partners, settings=settings)
    try:
        async with (
            served(hub.app) as url,
            httpx.AsyncClient(
                base_url=url, timeout=15, limits=httpx.Limits(max_connections=250)
            ) as client,
        ):
            yield hub, client
    finally:
        await hub.aclose()


async def timed_post(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any] | None = None
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post("/graphql", json={"query": document, "variables": variables})
    return response, time.monotonic() - started


def test_the_refusal_summary_says_how_many_were_refused_since_its_last_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    summary = RefusalSummary(every_s=3600)
    with caplog.at_level(logging.WARNING, logger="alternance_hub.admission"):
        for _ in range(5):
            summary.refused()
        assert caplog.records == []  # within the second: counted, not logged
        summary.every_s = 0.0
        summary.refused()
    (line,) = caplog.records
    assert line.refused == 6  # type: ignore[attr-defined]


def assert_overloaded(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"] == {"code": "OVERLOADED"}


def breakers(hub: Hub) -> set[str]:
    return {s.breaker.state for s in hub.app.state.registry.sources}


async def test_requests_past_in_flight_and_queue_are_refused_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        cache_enabled=False, max_in_flight=2, admission_queue=2, admission_max_wait_s=2.0
    )
    async with gateway(monkeypatch, settings, ("apprentissage",)) as (hub, client):
        hub.faults["apprentissage"].set("slow", delay_s=1.0)
        burst = [asyncio.create_task(timed_post(client, OFFERS)) for _ in range(12)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        health = await client.get("/healthz")  # never queued
        assert health.status_code == 200 and time.monotonic() - started < 0.5
        answers = await asyncio.gather(*burst)

        accepted = [(r, s) for r, s in answers if r.status_code == 200]
        refused = [(r, s) for r, s in answers if r.status_code != 200]
        assert len(accepted) == 4  # two executing, then the two that waited
        assert len(refused) == 8
        for response, seconds in refused:
            assert_overloaded(response)
            assert seconds < 0.5
        for response, seconds in accepted:
            assert response.json()["data"]["offers"]["edges"]
            assert seconds < settings.request_deadline_s
        assert hub.calls("apprentissage") <= 2  # refused requests reached no partner

        hub.faults["apprentissage"].set("ok")
        response, seconds = await timed_post(client, OFFERS)
        assert response.status_code == 200 and "errors" not in response.json()
        assert seconds < 1.0
        assert breakers(hub) == {"closed"}
        assert (hub.app.state.admission.in_flight, hub.app.state.admission.waiting) == (0, 0)


async def test_refusals_are_counted_but_not_logged_one_line_each(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A refusal is answered in front of the middleware (metrics, deadline, access log): the
    request metrics still count it; the log says how many, not one line per refusal."""
    settings = Settings(
        cache_enabled=False, max_in_flight=1, admission_queue=0, admission_max_wait_s=0.0
    )
    async with gateway(monkeypatch, settings, ("apprentissage",)) as (hub, client):
        before = samples((await client.get("/metrics")).text)
        hub.faults["apprentissage"].set("slow", delay_s=3.0)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            held = asyncio.create_task(timed_post(client, OFFERS))
            await asyncio.sleep(0.3)
            refused = [await timed_post(client, OFFERS) for _ in range(30)]
            await held
        after = samples((await client.get("/metrics")).text)

    # The slot is held until the partner answers: a loaded machine may let the last few in.
    refusals = sum(1 for r, _ in refused if r.status_code == 503)
    assert refusals >= 20
    assert all(r.status_code in (200, 503) for r, _ in refused)
    counted = grown(before, after, "hub_requests_total", operation="other", outcome="overloaded")
    assert counted == refusals
    assert grown(before, after, "hub_request_errors_total", code="OVERLOADED") == refusals
    access = [
        getattr(r, "status", None) for r in caplog.records if r.name == "alternance_hub.access"
    ]
    assert access.count(503) == 0
    assert access.count(200) == 31 - refusals  # the held request, and any let in after it
    summaries = [r for r in caplog.records if r.name == "alternance_hub.admission"]
    assert len(summaries) <= 4  # one a second at most
    assert sum(getattr(r, "refused", 0) for r in summaries) <= refusals


@asynccontextmanager
async def gateway_process(
    partners: tuple[str, ...], settings: dict[str, str]
) -> AsyncIterator[int]:
    """The port of a gateway in a process of its own (:mod:`tests.gateway.served_hub`): the
    load generator shares neither its event loop nor its core."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.gateway.served_hub",
        *partners,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, **settings},
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("listening "), line
        yield int(line.split()[1])
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from the request written to the whole answer read


async def burst(port: int, bodies: list[bytes]) -> list[Answer]:
    """Each body POSTed at once on a connection of its own, opened beforehand, written in one
    tight loop: the timings measure the gateway, not a client library or TCP handshakes."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in bodies]

    async def answer(reader: asyncio.StreamReader, sent: float) -> Answer:
        head, rest = (await reader.read(-1)).split(b"\r\n\r\n", 1)  # HTTP/1.0: ends at EOF
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        return Answer(int(status_line.split()[1]), headers, rest, time.monotonic() - sent)

    reading = []
    for (reader, writer), body in zip(connections, bodies, strict=True):
        writer.write(
            b"POST /graphql HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        reading.append(asyncio.create_task(answer(reader, time.monotonic())))
    try:
        return await asyncio.gather(*reading)
    finally:
        for _, writer in connections:
            writer.close()


async def test_an_overload_of_200_is_refused_fast_and_recovers_within_a_second() -> None:
    settings = {
        "HUB_CACHE_ENABLED": "false",
        "HUB_MAX_IN_FLIGHT": "8",
        "HUB_ADMISSION_QUEUE": "8",
        "HUB_ADMISSION_MAX_WAIT_S": "0.1",
    }
    departements = [["73"], ["74"], ["73", "74"], None]
    bodies = [
        orjson.dumps({"query": COLD, "variables": {"d": departements[i % 4]}}) for i in range(200)
    ]
    async with (
        gateway_process(("francetravail", "apprentissage", "sirene"), settings) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) as client,
    ):
        for d in departements:  # warm the process up (imports, first calls); nothing is cached
            assert (await timed_post(client, COLD, {"d": d}))[0].status_code == 200
        load = asyncio.create_task(burst(port, bodies))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        health = await client.get("/healthz")
        health_s = time.monotonic() - started
        answers = await load
        ended = time.monotonic()

        accepted = [a for a in answers if a.status == 200]
        refused = [a for a in answers if a.status != 200]
        for a in accepted:
            assert orjson.loads(a.body)["data"]["offers"]["edges"]
        for a in refused:
            assert a.status == 503 and a.headers["retry-after"] == "1"
            assert orjson.loads(a.body)["errors"][0]["extensions"] == {"code": "OVERLOADED"}
        assert len(accepted) >= 8 and len(refused) >= 100
        # Seen from the client, the refusals are answered before the accepted requests, not
        # behind their work, and none is left hanging to its deadline. (Client-side seconds
        # are bounded loosely on purpose: on CI's shared machine the gateway process is at
        # times descheduled for a second or more, which says nothing of the gateway.)
        waits = sorted(a.seconds for a in refused)
        assert statistics.median(waits) < statistics.median(a.seconds for a in accepted)
        assert waits[-1] < 5.0
        assert max(a.seconds for a in accepted) < 5.0 + 0.3  # none past its deadline
        # /healthz is never queued and the loop is never frozen: it answers during the burst.
        # (A loop held by the accepted requests' CPU would hold it for seconds; 2 s, not 1,
        # leaves room for the descheduling spikes of CI's shared machine.)
        assert health.status_code == 200 and health_s < 2.0

        response, _ = await timed_post(client, COLD, {"d": ["73"]})
        status = await client.post("/graphql", json={"query": "{ partners { id health } }"})
        assert time.monotonic() - ended < 1.0
        assert response.status_code == 200 and "errors" not in response.json()
        assert "CIRCUIT_OPEN" not in {p["health"] for p in status.json()["data"]["partners"]}

        # Refused fast, measured where it is decided: the gateway's histogram of admission
        # (from a request reaching admission control to its 503 sent). Past the queue, the
        # refusal is a matter of milliseconds; a queued request is refused only once it has
        # waited HUB_ADMISSION_MAX_WAIT_S (0.1 s) — then, as late as the gateway's loop runs
        # its timer, which a shared machine can hold back (CI's held it 0.2 s and more).
        scrape = samples((await client.get("/metrics")).text)  # read once recovery is timed
        counted = value(
            scrape, "hub_request_duration_seconds_count", operation="other", outcome="overloaded"
        )
        full = value(scrape, "hub_admission_seconds_count", decision="queue_full")
        full_fast = value(scrape, "hub_admission_seconds_bucket", decision="queue_full", le="0.01")
        waited = value(scrape, "hub_admission_seconds_count", decision="queue_timeout")
        waited_short = value(
            scrape, "hub_admission_seconds_bucket", decision="queue_timeout", le="0.05"
        )
        assert counted == full + waited == len(refused)
        assert full >= 1 and full - full_fast <= max(2, 0.1 * full)
        assert waited_short == 0  # no queued request refused before its wait was over


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes
) -> tuple[int, float]:
    """One HTTP/1.1 request on a kept-alive connection: its status and seconds to the answer."""
    sent = time.monotonic()
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length"
    )
    await reader.readexactly(length)
    return int(status_line.split()[1]), time.monotonic() - sent


async def test_a_connection_refused_is_read_again_only_after_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that ignores Retry-After and retries at once on its connection: its refusal
    leaves at once, its next request waits in the socket buffer for the pause, then is
    answered; another connection is refused at once meanwhile."""
    monkeypatch.setattr(PausingHttpToolsProtocol, "refused_pause_s", 0.6)
    settings = Settings(cache_enabled=False, max_in_flight=1, admission_queue=0)
    body = orjson.dumps({"query": OFFERS})
    hub = await start_hub(monkeypatch, partners=("apprentissage",), settings=settings)
    try:
        async with served(hub.app, http=PROTOCOL) as url:
            port = int(url.rsplit(":", 1)[1])
            hub.faults["apprentissage"].set("slow", delay_s=2.0)
            async with httpx.AsyncClient(base_url=url, timeout=15) as client:
                holding = asyncio.create_task(timed_post(client, OFFERS))  # takes the slot
                await asyncio.sleep(0.3)
                retrying = await asyncio.open_connection("127.0.0.1", port)
                other = await asyncio.open_connection("127.0.0.1", port)
                first = await exchange(*retrying, body)
                again = asyncio.create_task(exchange(*retrying, body))
                await asyncio.sleep(0.05)
                elsewhere = await exchange(*other, body)
                second = await again
                for _, writer in (retrying, other):
                    writer.close()
                response, _ = await holding
    finally:
        await hub.aclose()
    assert first[0] == 503 and first[1] < 0.5  # the refusal itself is not delayed
    assert elsewhere[0] == 503 and elsewhere[1] < 0.5  # nor another connection's
    assert second[0] == 503 and second[1] >= 0.5  # read again after the pause, then refused
    assert response.status_code == 200


async def test_the_observatory_page_takes_the_same_slots_as_graphql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(cache_enabled=False, max_in_flight=1, admission_queue=0)
    async with gateway(monkeypatch, settings, ("apprentissage",)) as (hub, client):
        hub.faults["apprentissage"].set("slow", delay_s=1.0)
        holding = asyncio.create_task(timed_post(client, OFFERS))
        await asyncio.sleep(0.3)
        page = await client.get("/observatory")
        csv = await client.get("/observatory/cells.csv")
        stylesheet = await client.get("/observatory/static/observatory.css")
        response, _ = await holding
    assert_overloaded(page)
    assert_overloaded(csv)
    assert stylesheet.status_code == 200  # files are not gated
    assert response.status_code == 200
