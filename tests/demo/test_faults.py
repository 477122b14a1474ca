"""FaultInjector: each mode alters the partner's answer as TEST-PLAN "Partner faults" needs."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from demo import sirene
from demo.data import dataset
from demo.faults import FaultInjector
from tests.demo.conftest import ClientFor

HEADERS = {sirene.API_KEY_HEADER: sirene.API_KEY}


@pytest.fixture
def faulty() -> FaultInjector:
    return FaultInjector(sirene.create_app())


@pytest.fixture
def client(faulty: FaultInjector, client_for: ClientFor) -> httpx.AsyncClient:
    return client_for(faulty, headers=HEADERS)


def siret_path() -> str:
    return f"/siret/{dataset().employers[0].siret}"


async def test_ok_passes_through(faulty: FaultInjector, client: httpx.AsyncClient) -> None:
    answer = await client.get(siret_path())
    assert answer.status_code == 200
    assert faulty.faults == 0


async def test_error_once_then_ok(faulty: FaultInjector, client: httpx.AsyncClient) -> None:
    faulty.mode = "error_once"
    assert (await client.get(siret_path())).status_code == 500
    assert (await client.get(siret_path())).status_code == 200
    assert faulty.mode == "ok"


async def test_unavailable_says_when_to_come_back(
    faulty: FaultInjector, client: httpx.AsyncClient
) -> None:
    faulty.set("unavailable", retry_after_s=2)
    answer = await client.get(siret_path())
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "2"


@pytest.mark.parametrize(
    ("mode", "content_type"),
    [
        ("bad_json", "application/json"),
        ("truncated_json", "application/json"),
        ("html", "text/html; charset=utf-8"),
        ("wrong_content_type", "text/plain; charset=utf-8"),
        ("empty", "application/json"),
    ],
)
async def test_undecodable_answers(
    faulty: FaultInjector, client: httpx.AsyncClient, mode: str, content_type: str
) -> None:
    faulty.mode = mode
    answer = await client.get(siret_path())
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    if mode == "wrong_content_type":
        assert orjson.loads(answer.content)["etablissement"]  # the body itself is intact
    else:
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(answer.content)


async def test_wrong_types_keeps_the_envelope(
    faulty: FaultInjector, client: httpx.AsyncClient
) -> None:
    faulty.mode = "wrong_types"
    body = (await client.get(siret_path())).json()
    assert body["header"] == {"statut": 200, "message": "ok"}
    record = body["etablissement"]
    assert record["etablissementSiege"] == "peut-être"
    assert record["champInattendu"] == "valeur inattendue"
    assert record["siret"] == dataset().employers[0].siret  # strings are kept: still identifiable


async def test_huge_streams_valid_looking_json(
    faulty: FaultInjector, client: httpx.AsyncClient
) -> None:
    faulty.set("huge", huge_mb=1)
    answer = await client.get(siret_path())
    assert "content-length" not in answer.headers
    assert len(answer.content) >= 1024 * 1024 * 0.9
    assert len(orjson.loads(answer.content)["resultats"]) > 500


async def test_slow_and_drip_hold_the_answer_back(
    faulty: FaultInjector, client: httpx.AsyncClient
) -> None:
    faulty.set("slow", delay_s=10)
    with pytest.raises(asyncio.TimeoutError):
        async with asyncio.timeout(0.2):
            await client.get(siret_path())
    faulty.set("drip", drip_interval_s=0.01, drip_body=b'{"data": []}')
    async with client.stream("GET", siret_path()) as answer:
        chunks = [chunk async for chunk in answer.aiter_raw()]
    assert b"".join(chunks) == b'{"data": []}'
    assert faulty.faults == 2


async def test_only_paths_limits_the_fault(
    faulty: FaultInjector, client: httpx.AsyncClient
) -> None:
    faulty.set("unavailable", only_paths=("/siret/",))
    assert (await client.get(siret_path())).status_code == 503
    answer = await client.post("/siret", json={"sirets": [dataset().employers[0].siret]})
    assert answer.status_code == 200


def test_unknown_modes_and_parameters_are_refused(faulty: FaultInjector) -> None:
    with pytest.raises(ValueError, match="mode"):
        faulty.set("flaky")
    with pytest.raises(ValueError, match="parameter"):
        faulty.set("slow", delay=3)


async def test_slow_answer_has_handled_the_request_before_it_stalls(
    client_for: ClientFor,
) -> None:
    handled: list[str] = []

    async def partner(scope: Scope, receive: Receive, send: Send) -> None:
        handled.append(scope["method"])
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b'{"id": "x"}'})

    faulty = FaultInjector(partner)
    faulty.set("slow_answer", delay_s=10, only_methods=("POST",))
    client = client_for(faulty)
    with pytest.raises(asyncio.TimeoutError):
        async with asyncio.timeout(0.2):
            await client.post("/placements", json={})
    assert handled == ["POST"]  # applied, though its answer never came
    answer = await client.get("/placements")  # a read is not faulted
    assert answer.status_code == 201
    assert faulty.faults == 1
