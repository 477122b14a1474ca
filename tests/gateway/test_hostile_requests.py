"""TEST-PLAN "Hostile requests", against the demo's partners in production settings.

Introspection, suggestions, GraphiQL, GET and the CSRF content types are in
``test_production_closed.py``; list amplification (cost) and the schema fuzz belong to the
cost and fuzz tests. Here: batched operations, aliases, depth, fragment cycles and 60,000 tokens
refused at validation with no partner call; bodies and variables over the size limit refused
413 before parsing; hostile ids reaching a partner as one escaped path segment, or refused by
the scalar; invalid UTF-8, a BOM, an Int beyond 2^31, NaN: a 4xx, never a 5xx.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest

from gateway.graphql_view import HubGraphQL
from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.test_logs_canary import PartnerTap, Seen

SEARCH = '{ offers(filter: {departements: ["73"]}, first: 1) { totalCount } }'
LOOKUP = "/partenaire/offresdemploi/v2/offres/"


@pytest.fixture
async def prod(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    hub = await start_hub(monkeypatch, settings=Settings(development=False))
    yield hub
    await hub.aclose()


def no_call(hub: Hub) -> bool:
    return hub.all_calls() == dict.fromkeys(hub.partner_apps, 0)


async def post_json(hub: Hub, body: bytes) -> Any:
    return await hub.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )


# --- refused at validation, no partner call ---------------------------------------------------

ABUSIVE = {
    "aliases": "{ "
    + " ".join(f"a{i}: offers(first: 1) {{ id: totalCount }}" for i in range(31))
    + " }",
    "depth": "{ offers(first: 1) { edges { node { employer { "
    + "offers(first: 1) { edges { node { employer { " * 3
    + "name"
    + " } } } }" * 4
    + " }",
    "fragment-cycle": "query { ...A } fragment A on Query { offers(first: 1) { totalCount } ...B }"
    " fragment B on Query { ...A }",
    "tokens-flat": "{ partners " + "@a" * 30_000 + " { id } }",
    "tokens-nested": "{ offers(filter: {romeCodes: "
    + "[" * 30_000
    + "]" * 30_000
    + "}) { totalCount } }",
}


@pytest.mark.parametrize("document", ABUSIVE.values(), ids=ABUSIVE.keys())
async def test_abusive_documents_are_refused_before_any_partner_call(
    prod: Hub, document: str
) -> None:
    assert len(document.encode()) < 65_536  # under the body limit: validation refuses it
    response = await prod.client.post("/graphql", json={"query": document})
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert "data" not in body and body["errors"]
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes <= {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}, codes
    assert no_call(prod)


async def test_batched_operations_are_refused(prod: Hub) -> None:
    batch = [{"query": SEARCH}, {"query": SEARCH}]
    response = await prod.client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert no_call(prod)


# --- over the size limit: 413 before parsing ----------------------------------------------


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bodies the view decoded."""
    decoded: list[int] = []
    original = HubGraphQL.decode_json

    def counting(self: HubGraphQL, data: str | bytes) -> object:
        decoded.append(len(data))
        return original(self, data)

    monkeypatch.setattr(HubGraphQL, "decode_json", counting)
    return decoded


async def test_a_declared_large_body_is_refused_unread(prod: Hub, parses: list[int]) -> None:
    sent = 0

    async def ten_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(160):
            sent += 1
            yield b" " * 65_536

    response = await prod.client.post(
        "/graphql",
        content=ten_megabytes(),
        headers={"content-type": "application/json", "content-length": str(160 * 65_536)},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {
        "code": "REQUEST_TOO_LARGE",
        "limit": 65_536,
    }
    assert parses == [] and no_call(prod)
    assert sent <= 2  # refused on the header, not after reading the body


async def test_a_streamed_body_is_cut_at_the_limit(prod: Hub, parses: list[int]) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(160):
            sent += 1
            yield b"x" * 16_384

    response = await prod.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert parses == []
    assert sent <= 6  # 64 KiB read, then the answer: not the 2.5 MB offered


async def test_variables_over_the_limit_are_a_413(prod: Hub, parses: list[int]) -> None:
    variables = {f"v{i}": "x" * 1_000 for i in range(80)}
    response = await prod.client.post("/graphql", json={"query": SEARCH, "variables": variables})
    assert response.status_code == 413
    assert parses == [] and no_call(prod)


# --- hostile ids ----------------------------------------------------------------------------

HOSTILE_IDS = [
    "../../admin",
    "a%2Fb",
    "a/b",
    "x?y=1",
    "x#y",
    "x\r\nX-Injected: 1",
    "x\x00y",
    "..",
    ".",
]


def _offer_id(partner_id: str) -> str:
    return base64.urlsafe_b64encode(f"Offer:francetravail:{partner_id}".encode()).decode()


async def test_a_hostile_partner_id_is_one_escaped_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = await start_hub(monkeypatch, ("francetravail",), settings=Settings(development=False))
    seen: list[Seen] = []
    fault = hub.faults["francetravail"]
    fault.app = PartnerTap(fault.app, "francetravail", seen)
    try:
        for partner_id in HOSTILE_IDS:
            seen.clear()
            response = await hub.client.post(
                "/graphql",
                json={
                    "query": "query($id: ID!) { node(id: $id) { id } }",
                    "variables": {"id": _offer_id(partner_id)},
                },
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"] == {"node": None}
            calls = [s.target for s in seen if not s.target.startswith("/connexion")]
            assert len(calls) == (0 if partner_id in (".", "..") else 1), calls
            for target in calls:  # a dot segment is refused before the partner (adapters.rest)
                assert target.startswith(LOOKUP), (partner_id, target)
                segment = target[len(LOOKUP) :]
                assert "/" not in segment and "?" not in segment and "#" not in segment
                assert unquote(segment) == partner_id, (partner_id, segment)
    finally:
        await hub.aclose()


@pytest.mark.parametrize(
    "document",
    [
        '{ organisation(siret: "../../etc/passwd") { name } }',
        '{ organisation(siret: "73282932000074/../x") { name } }',
        '{ organisation(siret: "7328293200%2F74") { name } }',
        '{ organisation(siret: "73282932000074\\r\\nX: 1") { name } }',
        '{ organisation(siret: "73282932000074\\u0000") { name } }',
        '{ organisation(uai: "0731234A?x=1") { name } }',
        '{ organisation(uai: "0731234A#x") { name } }',
        '{ commune(inseeCode: "73/65") { name } }',
    ],
)
async def test_a_hostile_key_is_refused_by_its_scalar(prod: Hub, document: str) -> None:
    answer = await prod.query(document)
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert no_call(prod)


# --- malformed values: a 4xx, never a 5xx ---------------------------------------------------

MALFORMED = {
    "invalid-utf8": b'{"query": "{ __typename \xff }"}',
    "overlong-utf8": b'{"query": "{ __typename \xc0\xaf }"}',
    "lone-surrogate": b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}',
    "bom": b'\xef\xbb\xbf{"query": "{ __typename }"}',
    "nan": b'{"query": "query($r: Float!) { __typename }", "variables": {"r": NaN}}',
    "infinity": b'{"query": "{ __typename }", "variables": {"r": 1e400}}',
    "int-literal-2^31": b'{"query": "{ offers(first: 2147483648) { totalCount } }"}',
    "int-variable-2^31": b'{"query": "query($f: Int!) { offers(first: $f) { totalCount } }",'
    b' "variables": {"f": 2147483648}}',
    "int-variable-2^70": b'{"query": "query($f: Int!) { offers(first: $f) { totalCount } }",'
    b' "variables": {"f": 1180591620717411303424}}',
    "float-literal-nan": b'{"query": "{ offers(filter: {near: {latitude: NaN, longitude: 5,'
    b' radiusKm: 5}}) { totalCount } }"}',
    "nul-in-document": b'{"query": "{ __typename \\u0000 }"}',
    "deep-json": b'{"query": "{ __typename }", "variables": {"a": '
    + b"[" * 5_000
    + b"]" * 5_000
    + b"}}",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_values_are_a_4xx(prod: Hub, body: bytes) -> None:
    response = await post_json(prod, body)
    assert 400 <= response.status_code < 500, response.text[:300]
    errors = response.json()["errors"]
    assert errors and all(e["extensions"]["code"] for e in errors)
    assert no_call(prod)
