"""REST writes: Hub3E's placement submit through its block of demo/partners.toml against its
real app, and small partners that misbehave in the ways a write must survive: committing and
then not answering in time, dropping the connection after reading the request, answering a
5xx. A write is sent once, whatever happens, and an unknown outcome says so."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import socket
import tempfile
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import acting
from adapters.errors import OutcomeUnknown, PrincipalRefused, SourceUnavailable, WriteRejected
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter
from adapters.rest import RestAdapter
from adapters.writes import Writer
from demo import hub3e, people
from demo.data import dataset
from demo.personal import personal_dataset
from demo.run import partners_file
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from tests.adapters.rest_partners import BASE_URL, Recorder

SUBMIT = {
    "trainingProgramId": "FORM-0001",
    "session": "2027-09-06",
    "employerSiret": None,
    "channel": "hub",
    "status": "SUBMITTED",
    "actorRole": "TRAINING_CENTRE",
}


def hub3e_block() -> dict[str, Any]:
    data = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    return copy.deepcopy(data["partners"]["hub3e"])


def a_file_and_a_mission() -> tuple[str, str]:
    file = sorted(personal_dataset().hub3e_candidates, key=lambda f: f.id)[0]
    mission = sorted(s.publishers["hub3e"] for s in dataset().offers_published_on("hub3e"))[0]
    return file.id, mission


Connect = Callable[..., RestAdapter]

CENTRE = Principal(Role.TRAINING_CENTRE, people.BTP_UAI, "staff-btp-1")


class _ActingForACentre:
    """The adapter, each personal call made on behalf of a training centre (as the hub makes
    writes: always for a principal), with a signer of its own."""

    def __init__(self, adapter: RestAdapter) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._adapter, name)
        if not asyncio.iscoroutinefunction(found):
            return found

        async def acting_for(*args: Any, **kwargs: Any) -> Any:
            with acting.scoped(CENTRE, SIGNER):
                return await found(*args, **kwargs)

        return acting_for


def _signer() -> AssertionSigner:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key.pem"
        write_new_key(path)
        return AssertionSigner.from_pem_file(path)


SIGNER = _signer()


@pytest.fixture
async def connect(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Connect]:
    monkeypatch.setenv("HUB_HUB3E_API_KEY", hub3e.API_KEY)
    made: list[RestAdapter] = []

    def make(block: dict[str, Any], app: Any = None, name: str = "hub3e") -> RestAdapter:
        config = parse_partners({"partners": {name: block}}).partners[name]
        transport = httpx.ASGITransport(app=app) if app is not None else None
        adapter = build_adapter(name, config, transport)
        assert isinstance(adapter, RestAdapter)
        made.append(adapter)
        return _ActingForACentre(adapter)  # type: ignore[return-value]

    yield make
    for adapter in made:
        await adapter.aclose()


# -- Hub3E, its real app -------------------------------------------------------------------


async def test_hub3e_creates_one_placement_and_finds_it_by_reference(connect: Connect) -> None:
    app = Recorder(hub3e.create_app())
    adapter = connect(hub3e_block(), app)
    candidate, mission = a_file_and_a_mission()
    values = {**SUBMIT, "candidateId": candidate, "offerId": mission}
    assert isinstance(adapter, Writer)
    assert adapter.writes("application") == {"submit", "transition"}

    written = await adapter.write("application", "submit", values, "hub-ref-0001")

    assert written.partner_id.startswith("PLC-9")
    assert len(app.to("/api/v2/placements")) == 1
    assert await adapter.find_by_reference("application", "hub-ref-0001") == written.partner_id
    assert await adapter.find_by_reference("application", "hub-ref-unknown") is None
    found = await adapter.lookup("application", "id", [written.partner_id])
    (record,) = found[written.partner_id]
    assert record.fields["status"] == "SUBMITTED"
    assert record.fields["candidate"]["id"] == candidate
    assert record.fields["offer"]["id"] == mission
    assert record.fields["clientReference"] == "hub-ref-0001"


async def test_hub3e_answers_a_reused_reference_with_the_first_placement(connect: Connect) -> None:
    adapter = connect(hub3e_block(), hub3e.create_app())
    candidate, mission = a_file_and_a_mission()
    values = {**SUBMIT, "candidateId": candidate, "offerId": mission}

    first = await adapter.write("application", "submit", values, "hub-ref-0002")
    again = await adapter.write("application", "submit", values, "hub-ref-0002")

    assert again == first


async def test_hub3e_refuses_a_placement_of_an_unknown_file(connect: Connect) -> None:
    adapter = connect(hub3e_block(), hub3e.create_app())
    _, mission = a_file_and_a_mission()
    values = {**SUBMIT, "candidateId": "CAN-000000", "offerId": mission}

    with pytest.raises(WriteRejected) as refused:
        await adapter.write("application", "submit", values, "hub-ref-0003")

    assert refused.value.not_found
    assert refused.value.partner_fault is False  # the client's problem: not for the breaker
    assert await adapter.find_by_reference("application", "hub-ref-0003") is None


async def test_a_write_whose_signed_principal_hub3e_refuses_is_principal_refused(
    connect: Connect,
) -> None:
    """Hub3E trusts another signer's keys: the write is refused for who it acts for, like a
    read would be (PRINCIPAL_REFUSED, not the partner's failure), and nothing is created."""
    strangers = _signer().jwks()
    app = hub3e.create_app(assertion_jwks=strangers)
    adapter = connect(hub3e_block(), app)
    candidate, mission = a_file_and_a_mission()
    values = {**SUBMIT, "candidateId": candidate, "offerId": mission}

    with pytest.raises(PrincipalRefused) as refused:
        await adapter.write("application", "submit", values, "hub-ref-0004")

    assert refused.value.partner_fault is False
    assert not [p for p in app.state.people.placements.values() if p.client_reference]


# -- partners that misbehave --------------------------------------------------------------


class SlowCommitter:
    """Stores each placement, then takes far longer than any deadline to answer."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.by_reference: dict[str, str] = {}

    async def create(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.posts.append(body)
        made = f"P-{len(self.posts)}"
        self.by_reference[body["ref"]] = made  # committed...
        await asyncio.sleep(60)  # ...and the answer never comes in time
        return JSONResponse({"id": made}, status_code=201)

    async def by_ref(self, request: Request) -> Response:
        made = self.by_reference.get(request.path_params["ref"])
        if made is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({"id": made, "ref": request.path_params["ref"]})

    async def status(self, request: Request) -> Response:
        self.posts.append(orjson.loads(await request.body()))
        return JSONResponse({"error": "x"}, status_code=int(request.path_params["code"]))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/placements", self.create, methods=["POST"]),
                Route("/placements/ref/{ref}", self.by_ref, methods=["GET"]),
                Route("/status/{code}", self.status, methods=["POST", "PATCH"]),
            ]
        )


def plain_block(
    path: str = "/placements", base_url: str = BASE_URL, **write: Any
) -> dict[str, Any]:
    return {
        "kind": "rest",
        "base_url": base_url,
        "deadline_s": 0.5,
        "retry": {"enabled": True, "attempts": 3, "backoff_s": 0},
        "entities": {
            "application": {
                "id": "id",
                "lookups": {"clientReference": {"path": "/placements/ref/{value}"}},
                "fields": {"clientReference": "ref"},
                "writes": {
                    "submit": {
                        "method": "POST",
                        "path": path,
                        "body": {
                            "candidate": "candidateId",
                            "ref": "clientReference",
                            "sent.at": "now",
                        },
                        "created_id": "id",
                        **write,
                    }
                },
            }
        },
    }


async def test_a_partner_that_commits_and_then_times_out_gives_an_unknown_outcome(
    connect: Connect,
) -> None:
    partner = SlowCommitter()
    adapter = connect(plain_block(), partner.app(), name="slow")

    with pytest.raises(OutcomeUnknown) as unknown:
        await adapter.write("application", "submit", {"candidateId": "C1"}, "ref-1")

    assert unknown.value.code == "OUTCOME_UNKNOWN"
    assert len(partner.posts) == 1  # sent once: never retried, though retries are enabled
    assert partner.posts[0]["candidate"] == "C1"
    assert partner.posts[0]["sent"]["at"].endswith("Z")
    # The reconciliation the hub does on a retry: ask the owner by the reference it sent.
    assert await adapter.find_by_reference("application", "ref-1") == "P-1"
    assert len(partner.posts) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, OutcomeUnknown),
        (502, OutcomeUnknown),
        (504, OutcomeUnknown),
        (503, SourceUnavailable),
        (429, SourceUnavailable),
        (422, WriteRejected),
        (409, WriteRejected),
        (400, WriteRejected),
    ],
)
async def test_a_failed_write_is_never_resent(
    connect: Connect, status: int, error: type[Exception]
) -> None:
    partner = SlowCommitter()
    adapter = connect(plain_block(path=f"/status/{status}"), partner.app(), name="failing")

    with pytest.raises(error) as raised:
        await adapter.write("application", "submit", {"candidateId": "C1"}, "ref-2")

    assert type(raised.value) is error
    assert len(partner.posts) == 1


async def test_a_value_without_a_partner_code_is_refused_before_sending(
    connect: Connect,
) -> None:
    block = plain_block()
    body = block["entities"]["application"]["writes"]["submit"]["body"]
    body["statut"] = {"from": "status", "values": {"SUBMITTED": "NEW"}}
    partner = SlowCommitter()
    app = Recorder(partner.app())
    adapter = connect(block, app, name="mapped")

    with pytest.raises(WriteRejected):
        await adapter.write("application", "submit", {"status": "PLACED"}, "ref-3")

    assert app.seen == []


# -- over a real socket: a dropped connection, a refused one -------------------------------


@contextlib.asynccontextmanager
async def hang_up_after_reading() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server that reads each request whole and closes the connection without answering."""
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        received.append(head + await reader.readexactly(length))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_connection_dropped_after_the_request_gives_an_unknown_outcome(
    connect: Connect, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    monkeypatch.setenv("HUB_HTTP_TRANSPORT", transport)
    async with hang_up_after_reading() as (url, received):
        adapter = connect(plain_block(base_url=url), name="dropper")

        with pytest.raises(OutcomeUnknown):
            await adapter.write("application", "submit", {"candidateId": "C1"}, "ref-4")

    assert len(received) == 1
    assert received[0].startswith(b"POST /placements ")


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_refused_connection_is_a_plain_failure_nothing_was_sent(
    connect: Connect, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    monkeypatch.setenv("HUB_HTTP_TRANSPORT", transport)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        adapter = connect(plain_block(base_url=f"http://127.0.0.1:{port}"), name="nobody")

        with pytest.raises(SourceUnavailable):
            await adapter.write("application", "submit", {"candidateId": "C1"}, "ref-5")
