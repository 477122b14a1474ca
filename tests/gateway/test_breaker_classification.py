"""Breakers count the partner's failures only (issue 7, item 3; TEST-PLAN "Partner faults").

A key a client sends that a partner refuses is the client's problem: answered as missing, never
counted toward the partner's breaker, and refused by the hub itself when a national identifier
rule says it names nothing. A timeout while the gateway's own event loop was starved is the
gateway's overload, not the partner's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NewType

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.schema.config import StrawberryConfig

from adapters.partners_file import parse_partners
from demo.data import dataset
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.ids import global_id
from tests.gateway.hubkit import start_hub

NODE = "query($id: ID!) { node(id: $id) { id ... on Organisation { uai name } } }"
MALFORMED = ["garbage", "0000000", "1234567Z", "../../etablissements", "0731549M' OR '1'='1"]


def codes(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("partner")) for e in answer["errors"]]


async def test_malformed_node_ids_never_open_the_registers_breaker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The regression: five anonymous `node(id:)` with malformed academie ids opened its breaker
    for everyone. They are now refused before the register sees them."""
    hub = await start_hub(monkeypatch, partners=("academie", "sirene"))
    try:
        before = hub.calls("academie")
        for value in MALFORMED:
            answer = await hub.query(NODE, {"id": global_id("organisation", "academie", value)})
            assert answer["data"] == {"node": None} and "errors" not in answer
        assert hub.calls("academie") == before  # validated before any partner saw them
        assert hub.app.state.registry.source("academie").breaker.state == "closed"

        centre = dataset().centres[0]
        answer = await hub.query(NODE, {"id": global_id("organisation", "academie", centre.uai)})
        assert "errors" not in answer
        assert answer["data"]["node"]["uai"] == centre.uai
        assert answer["data"]["node"]["name"] == centre.name
    finally:
        await hub.aclose()


# -- a GraphQL partner whose ids no national rule describes: the partner itself must judge ------


def _ref(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("R-"):
        raise ValueError("not a reference")  # a custom scalar refusing a variable
    return value


Ref = NewType("Ref", str)


@strawberry.type
class Etab:
    ref: str
    nom: str


@strawberry.type
class RegisterQuery:
    @strawberry.field
    def etabs(self, refs: list[Ref]) -> list[Etab]:
        if "R-missing" in refs:
            raise GraphQLError("inconnu", extensions={"code": "NOT_FOUND"})
        if "R-crash" in refs:
            raise RuntimeError("database down")  # the partner's own failure
        return [Etab(ref=r, nom=f"Établissement {r}") for r in refs]


_SCHEMA = strawberry.Schema(
    query=RegisterQuery,
    config=StrawberryConfig(
        scalar_map={Ref: strawberry.scalar(name="Ref", parse_value=_ref, serialize=str)}
    ),
)


def register_app() -> Starlette:
    """A GraphQL register answering as GraphQL over HTTP says: a request error (variables its
    schema refuses) has no `data`; a field error has `data` and a path."""
    seen: list[int] = []

    async def graphql(request: Request) -> Response:
        seen.append(1)
        body = await request.json()
        result = await _SCHEMA.execute(body["query"], variable_values=body.get("variables"))
        payload: dict[str, Any] = {}
        if result.data is not None or not result.errors or result.errors[0].path:
            payload["data"] = result.data
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return JSONResponse(payload)

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    app.state.seen = seen
    return app


REGISTER = {
    "partners": {
        "register": {
            "kind": "graphql",
            "base_url": "http://register.test",
            "breaker": {"failure_threshold": 2, "cool_down_s": 30},
            "entities": {
                "organisation": {
                    "id": "ref",
                    "fields": {"name": "nom"},
                    "lookups": {
                        "id": {
                            "query": "query Q($refs: [Ref!]!) { etabs(refs: $refs) { ref nom } }",
                            "variable": "refs",
                            "items": "etabs",
                        }
                    },
                }
            },
        }
    }
}


async def test_keys_a_graphql_partner_refuses_are_missing_not_failures() -> None:
    partner = register_app()
    app = create_app(
        Settings(development=True, cache_enabled=False),
        parse_partners(REGISTER),
        {"register": httpx.ASGITransport(app=partner)},
    )
    source = app.state.registry.source("register")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:

        async def node(ref: str) -> dict[str, Any]:
            variables = {"id": global_id("organisation", "register", ref)}
            response = await client.post("/graphql", json={"query": NODE, "variables": variables})
            assert response.status_code == 200
            answer: dict[str, Any] = response.json()
            return answer

        for ref in ["garbage", "nope", "42", "R-missing", "R-missing"]:
            answer = await node(ref)
            assert answer["data"] == {"node": None}
            assert "errors" not in answer
        assert len(partner.state.seen) == 5  # the partner judged them: no rule says otherwise
        assert source.breaker.state == "closed"
        assert (await node("R-1"))["data"]["node"]["name"] == "Établissement R-1"

        # A failure of the partner itself, on a question it accepted, still counts.
        for _ in range(2):
            assert codes(await node("R-crash")) == [("SOURCE_BAD_RESPONSE", "register")]
        assert codes(await node("R-1")) == [("CIRCUIT_OPEN", "register")]
    await app.state.registry.aclose()


# -- timeouts: the partner's, or the gateway's own starvation ----------------------------------

OFFERS = """query { offers(filter: {departements: ["73"], sources: ["francetravail"]}, first: 3)
  { edges { node { id } } } }"""


async def _starve_the_loop(seconds: float) -> None:
    await asyncio.sleep(0.05)  # let the partner call start
    time.sleep(seconds)  # noqa: ASYNC251 (the point: a stall of the event loop)


async def test_a_timeout_while_the_loop_is_starved_is_not_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = await start_hub(
        monkeypatch,
        partners=("francetravail",),
        settings=Settings(development=True, cache_enabled=False),
        overrides={
            "francetravail": {
                "deadline_s": 0.5,
                "retry": {"enabled": False},
                "breaker": {"failure_threshold": 2, "cool_down_s": 30},
            }
        },
    )
    source = hub.app.state.registry.source("francetravail")
    try:
        hub.faults["francetravail"].set("slow", delay_s=0.2)  # well inside its deadline
        for _ in range(3):
            answer, _ = await asyncio.gather(hub.query(OFFERS), _starve_the_loop(0.8))
            assert codes(answer) == [("SOURCE_TIMEOUT", "francetravail")]
        assert source.breaker.state == "closed"
        answer = await hub.query(OFFERS)
        assert "errors" not in answer and answer["data"]["offers"]["edges"]

        # The same partner really slower than its deadline, the loop idle: counted.
        hub.faults["francetravail"].set("slow", delay_s=2.0)
        for _ in range(2):
            assert codes(await hub.query(OFFERS)) == [("SOURCE_TIMEOUT", "francetravail")]
        assert source.breaker.state == "open"
        assert codes(await hub.query(OFFERS)) == [("CIRCUIT_OPEN", "francetravail")]
    finally:
        await hub.aclose()
