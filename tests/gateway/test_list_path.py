"""The list path through the gateway: cursors, identity, a field's value whatever is selected."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.test_offers import walk

PAGE = """
query($filter: OfferFilter, $first: Int!, $after: String) {
  offers(filter: $filter, first: $first, after: $after) {
    totalCount totalCountIsEstimate
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title provenance { partner partnerId } } }
  }
}"""


@pytest.fixture
async def cold_hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    started = await start_hub(monkeypatch, settings=Settings(development=True, cache_enabled=False))
    yield started
    await started.aclose()


async def test_a_cursor_used_with_other_filters_is_refused_before_any_call(cold_hub: Hub) -> None:
    first = await cold_hub.query(PAGE, {"filter": {"departements": ["73"]}, "first": 5})
    cursor = first["data"]["offers"]["pageInfo"]["endCursor"]
    before = cold_hub.all_calls()

    answer = await cold_hub.query(
        PAGE, {"filter": {"departements": ["74"]}, "first": 5, "after": cursor}
    )

    assert answer["data"] is None
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "after"
    assert "filters changed" in error["message"]
    assert cold_hub.all_calls() == before


@pytest.mark.parametrize(
    "forged",
    [
        "bm90IGEgY3Vyc29y",
        base64.urlsafe_b64encode(orjson.dumps([2, "x", {}])).decode(),
        "x" * 9000,
    ],
)
async def test_a_forged_cursor_is_bad_user_input(cold_hub: Hub, forged: str) -> None:
    before = cold_hub.all_calls()
    answer = await cold_hub.query(PAGE, {"first": 5, "after": forged})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert cold_hub.all_calls() == before


async def test_a_forged_partner_position_is_bad_user_input(cold_hub: Hub) -> None:
    first = await cold_hub.query(PAGE, {"filter": {"sources": ["francetravail"]}, "first": 5})
    cursor = first["data"]["offers"]["pageInfo"]["endCursor"]
    data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data[2]["francetravail"][0] = "../../etc"  # an offset partner's position is an int
    forged = base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")

    answer = await cold_hub.query(
        PAGE, {"filter": {"sources": ["francetravail"]}, "first": 5, "after": forged}
    )
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _searches(hub: Hub) -> int:
    return int(hub.partner_apps["francetravail"].state.calls["search"])  # the token aside


async def test_one_partner_alone_costs_one_call_per_page(cold_hub: Hub) -> None:
    before = _searches(cold_hub)
    answer = await cold_hub.query(PAGE, {"filter": {"sources": ["francetravail"]}, "first": 20})
    connection = answer["data"]["offers"]

    assert len(connection["edges"]) == 20
    assert _searches(cold_hub) - before == 1
    assert connection["totalCount"] is not None
    assert connection["totalCountIsEstimate"] is False  # one partner, no filter left to it


async def test_a_walk_of_one_partner_costs_one_call_per_page(cold_hub: Hub) -> None:
    before = _searches(cold_hub)
    nodes = await walk(cold_hub, {"sources": ["francetravail"], "departements": ["73"]}, 25)
    pages = -(-len(nodes) // 25)

    assert len({n["id"] for n in nodes}) == len(nodes)
    assert _searches(cold_hub) - before <= pages + 1


async def test_one_partners_distinct_offers_are_never_merged(cold_hub: Hub) -> None:
    nodes = await walk(cold_hub, {"departements": ["74"]}, 100)
    for node in nodes:
        partners = [p["partner"] for p in node["provenance"]]
        assert len(partners) == len(set(partners)), node["provenance"]


async def test_an_organisation_has_one_id_whichever_key_found_it(cold_hub: Hub) -> None:
    found = await cold_hub.query(
        """{ trainingPrograms(first: 50) { edges { node { responsible { siret uai } } } } }"""
    )
    both = next(
        n["node"]["responsible"]
        for n in found["data"]["trainingPrograms"]["edges"]
        if n["node"]["responsible"]
        and n["node"]["responsible"]["siret"]
        and n["node"]["responsible"]["uai"]
    )
    by_siret = await cold_hub.query(
        "query($s: String) { organisation(siret: $s) { id name } }", {"s": both["siret"]}
    )
    by_uai = await cold_hub.query(
        "query($u: String) { organisation(uai: $u) { id name } }", {"u": both["uai"]}
    )
    org = by_siret["data"]["organisation"]
    assert org is not None
    assert org["id"] == by_uai["data"]["organisation"]["id"]

    node = await cold_hub.query(
        "query($id: ID!) { node(id: $id) { ... on Organisation { id siret } } }",
        {"id": org["id"]},
    )
    assert node["data"]["node"] == {"id": org["id"], "siret": both["siret"]}


EMPLOYER_FIELDS = [
    "name",
    "siret",
    "siren",
    "tradeName",
    "naf { code }",
    "address { city postalCode }",
    "opco",
    "roles",
]
RESPONSIBLE_FIELDS = ["name", "siret", "uai", "naf { code }", "address { city }", "roles"]


def _selection(fields: list[str]) -> str:
    return " ".join(fields)


def _common(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (a[k], b[k]) for k in a.keys() & b.keys() if a[k] != b[k]}


@pytest.fixture(scope="module")
def hub_holder() -> dict[str, Any]:
    return {}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    employer_a=st.lists(st.sampled_from(EMPLOYER_FIELDS), min_size=1, unique=True),
    employer_b=st.lists(st.sampled_from(EMPLOYER_FIELDS), min_size=1, unique=True),
    responsible_a=st.lists(st.sampled_from(RESPONSIBLE_FIELDS), min_size=1, unique=True),
    responsible_b=st.lists(st.sampled_from(RESPONSIBLE_FIELDS), min_size=1, unique=True),
)
async def test_a_field_has_the_same_value_whatever_else_is_selected(
    cold_hub: Hub,
    employer_a: list[str],
    employer_b: list[str],
    responsible_a: list[str],
    responsible_b: list[str],
) -> None:
    async def employers(fields: list[str]) -> list[Any]:
        answer = await cold_hub.query(
            "{ offers(first: 30) { edges { node { employer { " + _selection(fields) + " } } } } }"
        )
        assert "errors" not in answer, answer.get("errors")
        return [e["node"]["employer"] for e in answer["data"]["offers"]["edges"]]

    async def responsibles(fields: list[str]) -> list[Any]:
        answer = await cold_hub.query(
            "{ trainingPrograms(first: 30) { edges { node { responsible { "
            + _selection(fields)
            + " } } } } }"
        )
        assert "errors" not in answer, answer.get("errors")
        return [e["node"]["responsible"] for e in answer["data"]["trainingPrograms"]["edges"]]

    for first, second in [
        (await employers(employer_a), await employers(employer_b)),
        (await responsibles(responsible_a), await responsibles(responsible_b)),
    ]:
        assert len(first) == len(second)
        for a, b in zip(first, second, strict=True):
            if a is None or b is None:
                assert a == b
                continue
            assert _common(a, b) == {}
