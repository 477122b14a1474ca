"""Canary values planted in query literals, variables, partner data and headers reach no log
line, cache key or value, metric, error message or partner URL — except, as the escaped value
of a look-up, the partner that look-up is for (TEST-PLAN "Personal data", issue 7 item 6).

The gateway runs in production settings against the demo's partners, each behind a tap that
records what the partner saw (method, raw path and query, headers, body) and can rewrite its
answers (records with unmapped and mistyped canary fields, an error body quoting a canary).
Logs are the production JSON configuration, read from stderr (capfd).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
import redis
import strawberry
import uvicorn
from graphql import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from stdnum import luhn

from gateway.graphql_view import HubGraphQL
from gateway.logs import JsonFormatter, uvicorn_logging
from gateway.settings import Settings
from reference import identifiers
from resolvers.schema import HubSchema
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.logkit import json_lines, json_logging
from tests.services import redis_url

TAPPED = ("francetravail", "apprentissage", "sirene", "hub3e", "academie", "carif", "akto")


def _siret(prefix: str) -> str:
    siren = prefix[:8] + luhn.calc_check_digit(prefix[:8])
    body = siren + prefix[8:12]
    return identifiers.siret(body + luhn.calc_check_digit(body))


def _uai(digits: str) -> str:
    for letter in "ABCDEFGHJKLMNPRSTUVWXYZ":
        try:
            return identifiers.uai(digits + letter)
        except identifiers.InvalidIdentifier:
            continue
    raise AssertionError("no UAI check letter")


def _node_id(partner_id: str) -> str:
    return base64.urlsafe_b64encode(f"Offer:francetravail:{partner_id}".encode()).decode()


SIRET_LITERAL = _siret("739917265301")  # look-ups: allowed at the partners asked
SIRET_VARIABLE = _siret("739928374102")
SIRET_FAILING = _siret("739939485203")  # sirene answers 500 quoting a canary for this one
UAI_FAILING = _uai("0739941")  # academie answers GraphQL errors quoting a canary
NODE_CANARY = "QXCANARYNODE7731"  # a partner id: allowed in francetravail's look-up path
LOOKUPS = {SIRET_LITERAL, SIRET_VARIABLE, SIRET_FAILING, UAI_FAILING, NODE_CANARY}

LITERAL_BAD = "QXCANARYLIT4410"  # invalid values: sent to no partner
VARIABLE_BAD = "QXCANARYVAR5521"
ECHOED = "QXCANARYECHO6632"  # graphql-core quotes it back to the client, to the client only
HEADER = "QXCANARYHDR7743"
PARTNER_UNMAPPED = "qxcanary.pd8854@example.org"
PARTNER_MISTYPED = "QXCANARYPD9965"
PARTNER_ERROR = "QXCANARYPE1076"
NEVER = {LITERAL_BAD, VARIABLE_BAD, ECHOED, HEADER, PARTNER_UNMAPPED, PARTNER_MISTYPED}
NEVER |= {PARTNER_ERROR, _node_id(NODE_CANARY).rstrip("=")}
EVERY = NEVER | LOOKUPS

CANARY_HEADERS = {
    "cookie": f"session={HEADER}",
    "user-agent": f"agent/{HEADER}",
    "x-forwarded-for": f"10.0.0.1, {HEADER}",
    "referer": f"https://example.org/?q={HEADER}",
    "x-user-id": HEADER,
    "x-canary": HEADER,
    "x-hub-principal": HEADER,  # forged identity: never read, never forwarded
}
# A bearer credential the gateway refuses (401): not in any log line either.
REFUSED_HEADERS = {**CANARY_HEADERS, "authorization": f"Bearer {HEADER}"}


@dataclass
class Seen:
    partner: str
    method: str
    target: str  # raw path and query string, as on the wire
    headers: str
    body: str


@dataclass
class PartnerTap:
    """Pure ASGI, in front of a partner app: records each request; ``rewrite(path, request
    body, status, body)`` may replace an answer (status, body)."""

    app: ASGIApp
    partner: str
    seen: list[Seen]
    rewrite: Callable[[str, str, int, bytes], tuple[int, bytes]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive() -> Message:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        raw = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        record = Seen(
            self.partner,
            scope["method"],
            (raw + (b"?" + query if query else b"")).decode("latin-1"),
            repr(scope["headers"]),
            "",
        )
        self.seen.append(record)
        if self.rewrite is None:
            await self.app(scope, recording_receive, send)
            record.body = b"".join(chunks).decode("utf-8", "replace")
            return
        start: Message = {}
        body: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, recording_receive, buffering_send)
        record.body = b"".join(chunks).decode("utf-8", "replace")
        status, payload = self.rewrite(scope["path"], record.body, start["status"], b"".join(body))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _francetravail(path: str, asked: str, status: int, body: bytes) -> tuple[int, bytes]:
    if not path.endswith("/offres/search") or status >= 300:
        return status, body
    answer = orjson.loads(body)
    for index, record in enumerate(answer.get("resultats", [])):
        record["courrielContact"] = PARTNER_UNMAPPED  # not in the mapping: never read
        if index == 0:
            record["nombrePostes"] = PARTNER_MISTYPED  # not an integer: the record is dropped
    return status, orjson.dumps(answer)


def _sirene(path: str, asked: str, status: int, body: bytes) -> tuple[int, bytes]:
    if SIRET_FAILING in path + asked:
        return 500, f"<html>Internal error for {PARTNER_ERROR}</html>".encode()
    return status, body


def _academie(path: str, asked: str, status: int, body: bytes) -> tuple[int, bytes]:
    errors = [{"message": f"unknown uai {PARTNER_ERROR}", "extensions": {"value": PARTNER_ERROR}}]
    return 200, orjson.dumps({"data": None, "errors": errors})


REWRITES = {"francetravail": _francetravail, "sirene": _sirene, "academie": _academie}

DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    (f'query Lit {{ organisation(siret: "{SIRET_LITERAL}") {{ name siret }} }}', {}),
    ("query Var($s: String) { organisation(siret: $s) { name } }", {"s": SIRET_VARIABLE}),
    (f'query Fails {{ organisation(siret: "{SIRET_FAILING}") {{ name }} }}', {}),
    (f'query Gql {{ organisation(uai: "{UAI_FAILING}") {{ name }} }}', {}),
    (f'query Node {{ node(id: "{_node_id(NODE_CANARY)}") {{ id }} }}', {}),
    (f'query BadLit {{ commune(inseeCode: "{LITERAL_BAD}") {{ name }} }}', {}),
    ("query BadVar($d: String!) { departement(code: $d) { name } }", {"d": VARIABLE_BAD}),
    (
        'query Offers { offers(filter: {sources: ["francetravail"], departements: ["73"]},'
        " first: 10) { totalCount edges { node { title positions employer { name } } } } }",
        {},
    ),
    ("query Again($s: String) { organisation(siret: $s) { name } }", {"s": SIRET_VARIABLE}),
]
ECHO_DOCUMENT = f'query Echo {{ offers(first: "{ECHOED}") {{ totalCount }} }}'


@pytest.fixture
async def tapped_hub(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Hub, list[Seen], str | None]]:
    redis_db = None
    if request.param == "redis":
        redis_db = re.sub(r"/\d*$", "", redis_url()) + "/15"
        redis.Redis.from_url(redis_db).flushdb()  # db 15 is this test's alone
    settings = Settings(
        development=False, cache_url=redis_db or "memory://", cache_namespace="canary"
    )
    hub = await start_hub(monkeypatch, TAPPED, settings=settings)
    seen: list[Seen] = []
    for name in TAPPED:
        fault = hub.faults[name]
        fault.app = PartnerTap(fault.app, name, seen, REWRITES.get(name))
    try:
        yield hub, seen, redis_db
    finally:
        await hub.aclose()
        if redis_db is not None:
            redis.Redis.from_url(redis_db).flushdb()


def _found(text: str, canaries: set[str]) -> set[str]:
    lowered = text.lower()
    return {c for c in canaries if c.lower() in lowered}


@pytest.mark.parametrize("tapped_hub", ["memory", "redis"], indirect=True)
async def test_no_canary_leaves_the_request(
    tapped_hub: tuple[Hub, list[Seen], str | None], capfd: pytest.CaptureFixture[str]
) -> None:
    hub, seen, redis_db = tapped_hub
    answers: list[str] = []
    with json_logging("DEBUG"):
        for document, variables in DOCUMENTS:
            response = await hub.client.post(
                "/graphql",
                json={"query": document, "variables": variables},
                headers=CANARY_HEADERS,
            )
            assert response.status_code < 500, response.text
            answers.append(response.text)
        echo = await hub.client.post(
            "/graphql", json={"query": ECHO_DOCUMENT}, headers=CANARY_HEADERS
        )
        assert echo.status_code == 400
        refused = await hub.client.post(
            "/graphql", json={"query": ECHO_DOCUMENT}, headers=REFUSED_HEADERS
        )
        assert refused.status_code == 401
        assert not _found(refused.text, EVERY)
        metrics = (await hub.client.get("/metrics", headers=CANARY_HEADERS)).text
    logs = capfd.readouterr().err
    lines = json_lines(logs)

    # The requests did reach the partners, failed where planted, and were logged.
    assert any(s.partner == "sirene" and SIRET_LITERAL in s.target + s.body for s in seen)
    assert any(s.partner == "francetravail" and NODE_CANARY in s.target for s in seen)
    assert any(line["msg"] == "partner call failed" for line in lines)
    assert any(line["msg"] == "graphql errors" for line in lines)
    assert any("dropped" in line["msg"] for line in lines), "the mistyped record is dropped"
    assert {line.get("operation") for line in lines} >= {"Fails", "Gql", "BadLit", "Echo"}

    assert not _found(logs, EVERY), "a canary in a log line"
    assert not _found(metrics, EVERY), "a canary in /metrics"
    for answer in answers:
        assert not _found(answer, NEVER - {ECHOED}), answer
    assert PARTNER_ERROR not in answers[2] and PARTNER_ERROR not in answers[3]

    cache = hub.app.state.cache
    local = "\n".join(f"{k} {entry.payload!r}" for k, entry in cache._local.items())
    assert local, "the answers were cached"
    assert not _found(local, EVERY), "a canary in the in-process cache"
    if redis_db is not None:
        client = redis.Redis.from_url(redis_db)
        keys = list(client.scan_iter(count=1000))
        assert keys, "the answers reached Redis"
        stored = "\n".join(f"{k!r} {client.get(k)!r} ttl={client.ttl(k)}" for k in keys)
        assert not _found(stored, EVERY), "a canary in Redis"
        assert all(client.ttl(k) > 0 for k in keys), "every key has a TTL"

    for call in seen:
        text = f"{call.target}\n{call.headers}\n{call.body}"
        assert not _found(text, NEVER), f"{call.partner} saw {text[:300]}"
        if call.partner != "francetravail":
            assert NODE_CANARY not in text
        assert HEADER not in call.headers


async def test_canaries_pass_as_one_escaped_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one place a look-up value may appear: the path of the partner asked, escaped."""
    hub = await start_hub(monkeypatch, ("francetravail",), settings=Settings(development=False))
    seen: list[Seen] = []
    fault = hub.faults["francetravail"]
    fault.app = PartnerTap(fault.app, "francetravail", seen)
    try:
        hostile = f"{NODE_CANARY}/../x?y=1#z"
        answer = await hub.query(f'{{ node(id: "{_node_id(hostile)}") {{ id }} }}')
        assert answer["data"] == {"node": None}
        lookups = [s.target for s in seen if NODE_CANARY in s.target]
        assert lookups == [
            "/partenaire/offresdemploi/v2/offres/QXCANARYNODE7731%2F..%2Fx%3Fy%3D1%23z"
        ]
    finally:
        await hub.aclose()


def test_the_canary_test_reads_what_it_claims() -> None:
    """The checks above would fail on a leak: each canary is found where planted."""
    line = json.dumps({"msg": f"leak {PARTNER_MISTYPED.lower()}"})
    assert _found(line, EVERY) == {PARTNER_MISTYPED}
    assert _found(f"GET /siret/{SIRET_LITERAL}", LOOKUPS) == {SIRET_LITERAL}


# --- bounded volume -------------------------------------------------------------------------


async def test_a_large_invalid_document_writes_a_few_lines(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """59.5 KB with 100 unknown fields: one errors line and the access line, not megabytes."""
    fields = " ".join(f"unknown{i:03d}{'x' * 585}" for i in range(100))
    document = f"{{ {fields} }}"
    assert 59_000 < len(document) < 60_000
    hub = await start_hub(monkeypatch, ("sirene",), settings=Settings(development=False))
    try:
        with json_logging("DEBUG"):
            response = await hub.client.post("/graphql", json={"query": document})
        assert response.status_code == 400
        assert len(response.json()["errors"]) == 100
        written = capfd.readouterr().err
        lines = json_lines(written)
        assert len(written) < 2_000, written[:500]
        assert [line["msg"] for line in lines] == ["graphql errors", "request"]
        assert lines[0]["codes"] == {"GRAPHQL_VALIDATION_FAILED": 100}
        assert "unknown000" not in written
    finally:
        await hub.aclose()


@strawberry.type
class _Noisy:
    @strawberry.field
    def noisy(self, lines: int) -> int:
        for index in range(lines):
            logging.getLogger("adapters.noise").warning("noise %d", index)
        return lines


async def test_a_request_writes_at_most_its_budget_then_one_summary(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(development=False, log_lines_per_request=5)
    hub = await start_hub(monkeypatch, ("sirene",), settings=settings)
    view = HubGraphQL(hub.app.state.registry, settings, schema=HubSchema(query=_Noisy))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=view), base_url="http://t")
    try:
        with json_logging("DEBUG"):
            many = await client.post("/graphql", json={"query": "{ noisy(lines: 500) }"})
            few = await client.post("/graphql", json={"query": "{ noisy(lines: 3) }"})
        assert many.json()["data"] == {"noisy": 500} and few.json()["data"] == {"noisy": 3}
        lines = json_lines(capfd.readouterr().err)
        first = [line for line in lines if line.get("request") == lines[0]["request"]]
        assert [line["msg"] for line in first] == [f"noise {i}" for i in range(5)] + [
            "log lines dropped"
        ]
        assert first[-1]["dropped"] == 495 and first[-1]["limit"] == 5
        assert [line["msg"] for line in lines[6:]] == ["noise 0", "noise 1", "noise 2"]
    finally:
        await client.aclose()
        await hub.aclose()


# --- the formatter --------------------------------------------------------------------------


def _format(record: logging.LogRecord) -> dict[str, Any]:
    return dict(json.loads(JsonFormatter().format(record)))


def _record(name: str, msg: object, *args: object, exc: BaseException | None = None) -> Any:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args or None, info)


def _raise_with_locals(value: str) -> None:
    secret_local = f"local {value}"
    try:
        dict[str, str]()[value]
    except KeyError as missing:
        raise ValueError(f"cannot use {secret_local}") from missing


def test_lines_carry_the_time_with_its_offset() -> None:
    line = _format(_record("alternance_hub", "started"))
    stamp = datetime.fromisoformat(line["t"])
    assert stamp.utcoffset() is not None
    assert line["t"].endswith("+00:00")


def test_other_libraries_messages_keep_no_argument_but_numbers() -> None:
    assert _format(_record("strawberry.ws", "origin %r host %r", HEADER, "h"))["msg"] == (
        "origin %r host %r"
    )
    assert _format(_record("uvicorn.error", "Started server process [%d]", 42))["msg"] == (
        "Started server process [42]"
    )
    asyncio_message = f"Task exception was never retrieved\nfuture: <Task exception={HEADER!r}>"
    assert _format(_record("asyncio", asyncio_message))["msg"] == (
        "Task exception was never retrieved"
    )
    assert _format(_record("strawberry.execution", GraphQLError(HEADER)))["msg"] == ("GraphQLError")
    access = _record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        "10.1.2.3:5",
        "GET",
        f"/x?q={HEADER}",
        "1.1",
        200,
    )
    assert _format(access) | {"t": ""} == {
        "t": "", "level": "ERROR", "logger": "uvicorn.access", "msg": "request",
        "method": "GET", "path": "/x", "status": 200,
    }  # fmt: skip


def test_an_exception_is_its_types_and_frames_without_messages_or_locals() -> None:
    try:
        _raise_with_locals(HEADER)
    except ValueError as error:
        line = _format(_record("alternance_hub", "internal error", exc=error))
    assert HEADER not in json.dumps(line)
    assert [entry["type"] for entry in line["exc"]] == ["KeyError", "ValueError"]
    frames = line["exc"][1]["frames"]
    assert any("in _raise_with_locals" in frame for frame in frames)
    # The source line is code: it names the local, never its value (HEADER, checked above).
    assert any("from missing" in frame for frame in frames)


# --- a real server --------------------------------------------------------------------------


async def _crash(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    _raise_with_locals(HEADER)


class _Server(uvicorn.Server):
    """A uvicorn server that says when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


async def test_uvicorn_writes_json_lines_without_values(capfd: pytest.CaptureFixture[str]) -> None:
    """uvicorn's own loggers, configured by uvicorn itself from uvicorn_logging()."""
    with json_logging("INFO"):
        config = uvicorn.Config(_crash, host="127.0.0.1", port=0, **uvicorn_logging("INFO"))
        server = _Server(config)
        task = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(5):
                await server.listening.wait()
                port = server.servers[0].sockets[0].getsockname()[1]
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET /?q={HEADER} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
                await writer.drain()
                assert (await reader.readline()).startswith(b"HTTP/1.1 500")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"NOT HTTP {HEADER}\r\n\r\n".encode())
                await writer.drain()
                await reader.read()
                writer.close()
        finally:
            server.should_exit = True
            await task
    written = capfd.readouterr().err
    lines = json_lines(written)
    assert HEADER not in written
    crash = [line for line in lines if line["msg"].startswith("Exception in ASGI application")]
    assert len(crash) == 1 and crash[0]["logger"] == "uvicorn.error"
    assert [entry["type"] for entry in crash[0]["exc"]] == ["KeyError", "ValueError"]
    assert any(line["msg"] == "Invalid HTTP request received." for line in lines)
