"""Production settings are closed (issue 7 item 7): no GraphiQL, no GET, no introspection, no
field suggestions, no ``_service`` SDL unless ``HUB_FEDERATION_SDL=true``; content types read
as RFC 9110 says; a body that is not one JSON object is a 400; every error body is GraphQL-shaped
with a code; Python internals never reach a client.

Each refusal is checked against the demo's partners in ``Settings(development=False)``, and
where development differs, against ``Settings(development=True)`` too, so each test shows the
switch does something.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry

from gateway.graphql_view import HubGraphQL
from gateway.limits import RequestLimits
from gateway.settings import Settings
from resolvers.schema import HubSchema
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.logkit import json_lines, json_logging

CANARY = "QXCANARYINTERNAL3141"
PARTNER_QUERY = '{ organisation(siret: "73282932000074") { name } }'  # calls sirene


@pytest.fixture
async def prod(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    hub = await start_hub(monkeypatch, settings=Settings(development=False))
    yield hub
    await hub.aclose()


def error_body(response: httpx.Response, status: int, code: str) -> list[dict[str, Any]]:
    """The response is ``status`` with a GraphQL-shaped JSON body whose first code is
    ``code``; returns its errors."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"errors", "extensions"}, body
    errors = body["errors"]
    assert errors, body
    for error in errors:
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["extensions"]["code"], str)
    assert errors[0]["extensions"]["code"] == code, errors
    return list(errors)


async def post(hub: Hub, document: str, **variables: Any) -> httpx.Response:
    return await hub.client.post("/graphql", json={"query": document, "variables": variables})


# --- the switch -------------------------------------------------------------------------------


def test_settings_are_production_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUB_DEVELOPMENT", "HUB_FEDERATION_SDL"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().development is False and Settings().service_sdl is False
    monkeypatch.setenv("HUB_FEDERATION_SDL", "true")
    assert Settings().development is False and Settings().service_sdl is True
    monkeypatch.setenv("HUB_DEVELOPMENT", "true")
    monkeypatch.delenv("HUB_FEDERATION_SDL")
    assert Settings().development is True and Settings().service_sdl is True


async def test_production_serves_no_page_and_no_get(prod: Hub, hub: Hub) -> None:
    page = await prod.client.get("/graphql", headers={"accept": "text/html"})
    error_body(page, 405, "METHOD_NOT_ALLOWED")
    assert page.headers["allow"] == "POST"
    query = await prod.client.get("/graphql", params={"query": PARTNER_QUERY})
    error_body(query, 405, "METHOD_NOT_ALLOWED")
    head = await prod.client.head("/graphql")
    assert head.status_code == 405
    assert prod.all_calls() == dict.fromkeys(prod.partner_apps, 0)
    # Development: the page for a browser, and still no query over GET.
    assert (await hub.client.get("/graphql", headers={"accept": "text/html"})).status_code == 200
    get_query = await hub.client.get("/graphql", params={"query": PARTNER_QUERY})
    error_body(get_query, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_a_graphql_shaped_405(prod: Hub, method: str) -> None:
    response = await prod.client.request(method, "/graphql", json={"query": "{ __typename }"})
    error_body(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "document",
    [
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Offer") { name fields { name } } }',
        "query { ...F } fragment F on Query { __schema { types { name } } }",
        '{ offers(first: 1) { edges { node { __type(name: "Offer") { name } } } } }',
    ],
    ids=["schema", "type", "in-fragment", "nested"],
)
async def test_production_refuses_introspection(prod: Hub, hub: Hub, document: str) -> None:
    errors = error_body(await post(prod, document), 400, "GRAPHQL_VALIDATION_FAILED")
    assert any("introspection" in e["message"] or "__type" in e["message"] for e in errors)
    if "nested" not in document and "edges" not in document:
        assert "data" in (await hub.query(document))  # development explores the schema
    assert prod.all_calls() == dict.fromkeys(prod.partner_apps, 0)


async def test_typename_is_not_introspection(prod: Hub) -> None:
    assert (await prod.query("{ __typename }"))["data"] == {"__typename": "Query"}


SUGGESTED = [
    ("{ ofers(first: 1) { totalCount } }", {}),
    ("{ offers(frist: 1) { totalCount } }", {}),
    ("{ offers(first: 1) { totalCont } }", {}),
    ("query($f: OferFilter) { offers(filter: $f) { totalCount } }", {}),
    ("{ offers(filter: {contractKinds: [APPRENTICESHP]}) { totalCount } }", {}),
    ('{ offers(filter: {departement: ["73"]}) { totalCount } }', {}),
    (
        "query($k: [ContractKind!]) { offers(filter: {contractKinds: $k}) { totalCount } }",
        {"k": ["APPRENTICESHP"]},
    ),
]


@pytest.mark.parametrize(("document", "variables"), SUGGESTED)
async def test_production_suggests_no_field(
    prod: Hub, hub: Hub, document: str, variables: dict[str, Any]
) -> None:
    closed = (await post(prod, document, **variables)).json()["errors"]
    assert closed and not any("Did you mean" in e["message"] for e in closed), closed
    assert all(e["extensions"]["code"] for e in closed)
    opened = (await post(hub, document, **variables)).json()["errors"]
    assert any("Did you mean" in e["message"] for e in opened), opened  # the switch matters


async def test_service_sdl_only_for_a_composer(monkeypatch: pytest.MonkeyPatch, prod: Hub) -> None:
    document = "{ _service { sdl } }"
    error_body(await post(prod, document), 400, "GRAPHQL_VALIDATION_FAILED")
    composer = await start_hub(
        monkeypatch, ("sirene",), settings=Settings(development=False, federation_sdl=True)
    )
    try:
        sdl = (await composer.query(document))["data"]["_service"]["sdl"]
        assert "type Query" in sdl
        # Still production: no introspection beside it.
        error_body(
            await post(composer, "{ __schema { types { name } } }"),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        )
    finally:
        await composer.aclose()


# --- content types and bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON; charset=utf-8",
        'application/json;charset="UTF-8"',
        "APPLICATION/JSON ; Charset=utf-8",
    ],
)
async def test_json_media_types_are_read_as_rfc_9110_says(prod: Hub, content_type: str) -> None:
    response = await prod.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
        "application/graphql",
        None,
    ],
)
async def test_other_media_types_are_a_415_before_execution(
    prod: Hub, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = f'{{"query": "{PARTNER_QUERY.replace(chr(34), chr(92) + chr(34))}"}}'.encode()
    response = await prod.client.post("/graphql", content=body, headers=headers)
    error_body(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert prod.all_calls() == dict.fromkeys(prod.partner_apps, 0)


@pytest.mark.parametrize(
    "body",
    [
        b'"hello"',
        b"42",
        b"null",
        b"true",
        b'[{"query": "{ __typename }"}]',
        b"[]",
        b"{}",
        b'{"query": 42}',
        b'{"query": null}',
        b'{"query": "{ __typename }", "variables": [1]}',
        b'{"query": "{ __typename }", "variables": "x"}',
        b'{"query": "{ __typename }", "operationName": 5}',
        b'{"query": "{ __typename }", "extensions": 1}',
        b'{"query": "{ __ty',
        b"",
    ],
)
async def test_a_body_that_is_not_one_json_object_is_a_400(prod: Hub, body: bytes) -> None:
    response = await prod.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    error_body(response, 400, "BAD_REQUEST")


async def test_every_refusal_has_the_graphql_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(
        monkeypatch,
        ("francetravail",),
        settings=Settings(development=False, request_deadline_s=0.3),
        overrides={"francetravail": {"deadline_s": 5.0}},
    )
    try:
        client = hub.client
        bad = await client.post(
            "/graphql", content=b"{", headers={"content-type": "application/json"}
        )
        error_body(bad, 400, "BAD_REQUEST")
        error_body(await post(hub, "{ nope }"), 400, "GRAPHQL_VALIDATION_FAILED")
        error_body(await post(hub, "{ offers("), 400, "GRAPHQL_PARSE_FAILED")
        error_body(await client.delete("/graphql"), 405, "METHOD_NOT_ALLOWED")
        big = await post(hub, "{ __typename }", pad="x" * 70_000)
        assert error_body(big, 413, "REQUEST_TOO_LARGE")[0]["extensions"]["limit"] == 65536
        error_body(
            await client.post("/graphql", data={"query": "{ __typename }"}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        hub.faults["francetravail"].set("slow", delay_s=3)
        late = await post(hub, '{ offers(filter: {departements: ["73"]}) { totalCount } }')
        # partner deadlines compose with the request's: a partial answer, before the backstop
        assert late.status_code == 200
        assert late.json()["errors"][0]["extensions"]["code"] == "SOURCE_TIMEOUT"
    finally:
        await hub.aclose()


# --- Python internals never reach a client ---------------------------------------------------


@strawberry.type
class _Item:
    index: int

    @strawberry.field
    def value(self) -> str | None:
        return {"known": "x"}[CANARY]  # KeyError quoting a value


@strawberry.type
class _Nested:
    @strawberry.field
    def null(self) -> str:
        return None  # type: ignore[return-value]  # a non-null field left null


@strawberry.type
class _Broken:
    @strawberry.field
    def type_error(self) -> str | None:
        raise TypeError(f"resolve() got an unexpected keyword argument {CANARY!r}")

    @strawberry.field
    def attribute_error(self) -> str | None:
        return str(getattr(42, "pop")())  # noqa: B009 - the AttributeError of a bug

    @strawberry.field
    def nested(self) -> _Nested | None:
        return _Nested()

    @strawberry.field
    def items(self) -> list[_Item]:
        return [_Item(index=i) for i in range(100)]


@pytest.fixture
async def broken(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    """The hub's view and limits around a schema whose resolvers fail as bugs do."""
    settings = Settings(development=request.param == "development")
    hub = await start_hub(monkeypatch, ("sirene",), settings=settings)
    view = HubGraphQL(hub.app.state.registry, settings, schema=HubSchema(query=_Broken))
    app = RequestLimits(view, max_body_bytes=65536, json_paths=("/graphql",))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield client
    await client.aclose()
    await hub.aclose()


INTERNALS = re.compile(r"unexpected keyword|has no attribute|Cannot return null|KeyError|Traceback")


@pytest.mark.parametrize("broken", ["production", "development"], indirect=True)
async def test_a_fault_is_an_internal_error_with_the_id_of_its_log_line(
    broken: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    document = "{ typeError attributeError nested { null } items { index value } }"
    with json_logging("INFO"):
        response = await broken.post("/graphql", json={"query": document})
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert len(errors) == 103
    assert {e["message"] for e in errors} == {"internal error"}
    assert {e["extensions"]["code"] for e in errors} == {"INTERNAL_ERROR"}
    ids = {str(e["path"][0]): e["extensions"]["errorId"] for e in errors if e["path"][0] != "items"}
    item_ids = {e["extensions"]["errorId"] for e in errors if e["path"][0] == "items"}
    assert len(set(ids.values()) | item_ids) == 4  # one id per fault, the 100 items share one
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids.values())
    assert not INTERNALS.search(response.text) and CANARY not in response.text

    written = capfd.readouterr().err
    lines = json_lines(written)
    faults = {line["error_id"]: line for line in lines if line["msg"] == "internal error"}
    assert set(faults) == set(ids.values()) | item_ids
    assert faults[item_ids.pop()]["count"] == 100
    assert faults[ids["typeError"]]["exc"][-1]["type"] == "TypeError"
    assert faults[ids["attributeError"]]["exc"][-1]["type"] == "AttributeError"
    assert any("in type_error" in frame for frame in faults[ids["typeError"]]["exc"][-1]["frames"])
    summary = [line for line in lines if line["msg"] == "graphql errors"]
    assert summary[0]["codes"] == {"INTERNAL_ERROR": 103}
    assert CANARY not in written
    assert "has no attribute" not in written  # the exception's message stays in the process


async def test_a_fault_outside_execution_is_a_500_with_an_id(
    prod: Hub, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    async def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise AttributeError(f"'int' object has no attribute 'pop' {CANARY}")

    monkeypatch.setattr(HubGraphQL, "get_context", boom)
    with json_logging("INFO"):
        response = await post(prod, "{ __typename }")
    error_id = error_body(response, 500, "INTERNAL_ERROR")[0]["extensions"]["errorId"]
    assert response.json()["errors"][0]["message"] == "internal error"
    lines = json_lines(capfd.readouterr().err)
    logged = [line for line in lines if line.get("error_id") == error_id]
    assert len(logged) == 1 and logged[0]["exc"][-1]["type"] == "AttributeError"
    assert CANARY not in str(lines)


@pytest.mark.parametrize(
    "document",
    [
        "{ _entities(representations: [1]) { __typename } }",
        '{ _entities(representations: [{__typename: "Organisation", siret: "73282932000074"}])'
        " { __typename } }",
        '{ _entities(representations: [{__typename: "Nope"}]) { __typename } }',
        '{ _entities(representations: [{siret: "1"}]) { __typename } }',
    ],
)
async def test_the_hubs_own_internals_stay_inside(prod: Hub, document: str) -> None:
    response = await post(prod, document)
    assert response.status_code < 500
    errors = response.json().get("errors") or []
    for error in errors:
        assert error["extensions"]["code"]
        assert not INTERNALS.search(error["message"]), error
        assert "object" not in error["message"] and "argument" not in error["message"], error
