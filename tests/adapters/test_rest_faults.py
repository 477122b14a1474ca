"""TEST-PLAN "Partner faults", at adapter level, against real partner apps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from adapters.errors import SourceBadResponse, SourceError, SourceUnavailable
from adapters.types import ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    Recorder,
    closed_port,
    ids,
    offer_entity,
    recorded,
    rest_config,
    served,
)

CANARY = "CANARY-body-7Q2"  # planted in partner bodies: must never reach an error message
QUERY = ListQuery("offer", {}, 50)
ENTITY = offer_entity(list={"path": "/offres", "items": "resultats"})


def answering(*answers: Response) -> Recorder:
    """A partner giving ``answers`` in turn, then the last one forever."""
    queue = list(answers)

    async def offres(request: Request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return recorded([Route("/offres", offres, methods=["GET", "POST"])])


def ok(offers: list[dict[str, Any]] = OFFERS[:3]) -> Response:
    return JSONResponse({"resultats": offers})


async def test_a_500_is_retried_once_and_the_read_succeeds(connect_rest: ConnectRest) -> None:
    app = answering(Response(CANARY, status_code=500), ok())
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    page = await adapter.list(QUERY)

    assert ids(page.records) == ["OF000", "OF001", "OF002"]
    assert adapter.http.calls == 2
    assert len(app.seen) == 2


async def test_two_500s_fail_after_one_retry(connect_rest: ConnectRest) -> None:
    app = answering(Response(CANARY, status_code=500))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    with pytest.raises(SourceUnavailable) as raised:
        await adapter.list(QUERY)

    assert raised.value.code == "SOURCE_UNAVAILABLE"
    assert raised.value.partner == "partner"
    assert len(app.seen) == 2
    assert CANARY not in str(raised.value)


async def test_a_non_idempotent_request_is_never_retried(connect_rest: ConnectRest) -> None:
    app = answering(Response(status_code=500), ok())
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    with pytest.raises(SourceUnavailable):
        await adapter.http.request("POST", "/offres", json={"a": 1}, idempotent=False)

    assert len(app.seen) == 1


async def test_a_short_retry_after_is_honoured(connect_rest: ConnectRest) -> None:
    app = answering(Response(status_code=503, headers={"Retry-After": "0.05"}), ok())
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    page = await adapter.list(QUERY)

    assert len(page.records) == 3
    assert len(app.seen) == 2


async def test_a_long_retry_after_fails_fast(connect_rest: ConnectRest) -> None:
    app = answering(Response(status_code=503, headers={"Retry-After": "120"}), ok())
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    with pytest.raises(SourceUnavailable) as raised:
        await adapter.list(QUERY)

    assert raised.value.code == "SOURCE_UNAVAILABLE"
    assert raised.value.retry_after == 120
    assert len(app.seen) == 1  # no waiting, no second call


BAD_BODIES = {
    "invalid JSON": Response(f'{{"resultats": [{CANARY}', media_type="application/json"),
    "truncated JSON": Response(
        f'{{"resultats": [{{"id": "OF1", "intitule": "{CANARY}"', media_type="application/json"
    ),
    "HTML error page": Response(
        f"<html><body><h1>Erreur</h1>{CANARY}</body></html>", media_type="text/html"
    ),
    "wrong content type": Response(
        f'{{"resultats": [{{"id": "{CANARY}"}}]}}', media_type="text/plain"
    ),
    "empty body": Response(b"", media_type="application/json"),
    "object instead of array": JSONResponse({"resultats": {"id": CANARY}}),
    "array where an object is expected": JSONResponse([{"id": CANARY}]),
    "items missing": JSONResponse({"results": [{"id": CANARY}]}),
    "a bare string": JSONResponse(CANARY),
}


@pytest.mark.parametrize("answer", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_a_bad_body_is_a_bad_response_without_the_body(
    connect_rest: ConnectRest, answer: Response
) -> None:
    app = answering(answer)
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    with pytest.raises(SourceBadResponse) as raised:
        await adapter.list(QUERY)

    assert raised.value.code == "SOURCE_BAD_RESPONSE"
    assert CANARY not in str(raised.value)
    assert CANARY not in raised.value.message
    assert raised.value.__cause__ is None or CANARY not in str(raised.value.__cause__)
    assert len(app.seen) == 1  # a bad answer is not retried


async def test_a_missing_list_endpoint_is_a_bad_response(connect_rest: ConnectRest) -> None:
    adapter = connect_rest(recorded([]), rest_config({"offer": ENTITY}))

    with pytest.raises(SourceBadResponse, match="404"):
        await adapter.list(QUERY)


async def test_extra_fields_are_dropped(connect_rest: ConnectRest) -> None:
    app = answering(ok([{**OFFERS[0], "salaire": "secret", "contact": {"nom": CANARY}}]))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    page = await adapter.list(QUERY)

    (record,) = page.records
    assert set(record.fields) == {"id", "title", "romeCodes", "publishedAt", "positions"}
    assert CANARY not in repr(record.to_json())
    assert record.fields["publishedAt"] == "2024-05-01T08:00:00Z"  # coerced to a UTC instant


async def test_a_wrongly_typed_record_is_dropped_and_the_others_kept(
    connect_rest: ConnectRest,
) -> None:
    broken = [
        {**OFFERS[1], "intitule": {"fr": "not text"}},
        {**OFFERS[2], "nbPostes": "plenty"},
        {**OFFERS[3], "id": None},
    ]
    app = answering(ok([OFFERS[0], *broken, OFFERS[4]]))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    page = await adapter.list(QUERY)

    assert ids(page.records) == ["OF000", "OF004"]


async def test_an_answer_where_no_record_fits_is_a_bad_response(
    connect_rest: ConnectRest,
) -> None:
    app = answering(ok([{**o, "nbPostes": CANARY} for o in OFFERS[:4]]))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    with pytest.raises(SourceBadResponse) as raised:
        await adapter.list(QUERY)

    assert CANARY not in str(raised.value)


async def test_connection_refused_is_unavailable(connect_rest: ConnectRest) -> None:
    config = rest_config(
        {"offer": ENTITY}, base_url=f"http://127.0.0.1:{closed_port()}", deadline_s=30
    )
    adapter = connect_rest(None, config)

    # A refused connection must not wait for a timeout: the guard is far above a refusal's
    # milliseconds and far below the 30 s deadline.
    async with asyncio.timeout(10):
        with pytest.raises(SourceUnavailable) as raised:
            await adapter.list(QUERY)

    assert raised.value.code == "SOURCE_UNAVAILABLE"
    assert "127.0.0.1" not in str(raised.value)


FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"x" * (64 * 1024)


async def test_a_50_mb_answer_is_cut_at_the_size_limit_while_streaming(
    connect_rest: ConnectRest,
) -> None:
    progress = {"sent": 0, "finished": False}

    async def huge(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b'{"resultats": ["'
            while progress["sent"] < FIFTY_MB:
                progress["sent"] += len(CHUNK)
                yield CHUNK
                # Hand over to the loop between chunks, as a real producer does, so the server
                # can notice the client hung up (uvicorn drops writes to a gone client silently).
                await asyncio.sleep(0)
            yield b'"]}'
            progress["finished"] = True

        return StreamingResponse(body(), media_type="application/json")  # chunked: no length

    app = recorded([Route("/offres", huge)])
    async with served(app) as url:
        config = rest_config({"offer": ENTITY}, base_url=url, max_response_bytes=1_000_000)
        adapter = connect_rest(None, config)

        with pytest.raises(SourceBadResponse, match="larger than allowed"):
            await adapter.list(QUERY)
        await adapter.aclose()

    assert progress["finished"] is False
    assert progress["sent"] < FIFTY_MB // 2
    assert len(app.seen) == 1


async def test_a_declared_oversized_answer_is_refused_before_reading(
    connect_rest: ConnectRest,
) -> None:
    app = answering(Response(b"{}", headers={"Content-Length": str(FIFTY_MB)}))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}, max_response_bytes=1_000_000))

    with pytest.raises(SourceBadResponse, match="larger than allowed"):
        await adapter.list(QUERY)


async def test_probe_uses_the_health_path(connect_rest: ConnectRest) -> None:
    health = {"status": 200}

    async def healthz(request: Request) -> Response:
        return Response(status_code=health["status"])

    app = recorded([Route("/sante", healthz)])
    adapter = connect_rest(app, rest_config({"offer": ENTITY}, health_path="/sante"))

    await adapter.probe()
    health["status"] = 503
    with pytest.raises(SourceUnavailable):
        await adapter.probe()
    assert {s.path for s in app.seen} == {"/sante"}


async def test_probe_without_health_path_lists_one_record(connect_rest: ConnectRest) -> None:
    app = answering(ok(), JSONResponse({"resultats": "broken"}))
    entity = offer_entity(
        list={"path": "/offres", "items": "resultats"},
        pagination={"style": "offset", "page_size": 50},
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    await adapter.probe()
    assert app.seen[0].param("limit") == "1"
    with pytest.raises(SourceError):
        await adapter.probe()


async def test_etag_revalidation_reuses_the_body_on_304(connect_rest: ConnectRest) -> None:
    bodies_sent = []

    async def offres(request: Request) -> Response:
        if request.headers.get("if-none-match") == '"v1"':
            return Response(status_code=304, headers={"ETag": '"v1"'})
        bodies_sent.append(1)
        return JSONResponse({"resultats": OFFERS[:2]}, headers={"ETag": '"v1"'})

    app = recorded([Route("/offres", offres)])
    entity = offer_entity(list={"path": "/offres", "items": "resultats"}, etag=True)
    adapter = connect_rest(app, rest_config({"offer": entity}))

    first = await adapter.list(QUERY)
    second = await adapter.list(QUERY)

    assert ids(second.records) == ids(first.records) == ["OF000", "OF001"]
    assert len(bodies_sent) == 1
    assert [s.headers.get("if-none-match") for s in app.seen] == [None, '"v1"']


async def test_without_etag_no_revalidation_header_is_sent(connect_rest: ConnectRest) -> None:
    app = answering(JSONResponse({"resultats": OFFERS[:1]}, headers={"ETag": '"v1"'}))
    adapter = connect_rest(app, rest_config({"offer": ENTITY}))

    await adapter.list(QUERY)
    await adapter.list(QUERY)

    assert all("if-none-match" not in s.headers for s in app.seen)


async def test_probe_of_a_look_up_only_partner_accepts_any_answer_but_a_refusal(
    connect_rest: ConnectRest,
) -> None:
    door = {"status": 404}

    async def root(request: Request) -> Response:
        return Response(status_code=door["status"])

    app = recorded([Route("/", root)])
    entity = {
        "id": "siret",
        "fields": {"siret": "siret"},
        "lookups": {"siret": {"path": "/siret/{value}"}},
    }
    adapter = connect_rest(app, rest_config({"organisation": entity}))

    await adapter.probe()  # a 404 at the root still says the partner is there
    door["status"] = 401
    with pytest.raises(SourceUnavailable, match="credential refused"):
        await adapter.probe()
