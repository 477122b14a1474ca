"""Offers through the gateway, against the real simulated partners (in-process)."""

from __future__ import annotations

from typing import Any

from demo.data import dataset
from reference.geo import distance_km
from tests.gateway.hubkit import Hub

CHAMBERY = {"latitude": 45.5646, "longitude": 5.9178}

OFFERS = """
query($filter: OfferFilter, $first: Int!, $after: String) {
  offers(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id title romeCodes contractKinds publishedAt
      location { inseeCode city geo { latitude longitude } }
      provenance { partner partnerId fromCache }
    } }
  }
}"""


def expected_offers(
    *, rome: str, near: dict[str, float] | None = None, departement: str | None = None
) -> dict[tuple[str, str], set[str]]:
    """The seeds a correct gateway must return: partner id of each publisher, keyed by seed."""
    found: dict[tuple[str, str], set[str]] = {}
    for seed in dataset().offers:
        if seed.rome_code != rome:
            continue
        published = {p for p in seed.publishers if p in ("francetravail", "apprentissage")}
        if not published:
            continue
        if departement and seed.address.insee_code[:2] != departement:
            continue
        if (
            near
            and distance_km(
                near["latitude"], near["longitude"], seed.address.latitude, seed.address.longitude
            )
            > near["radiusKm"]
        ):
            continue
        found[(seed.key, seed.title)] = published
    return found


async def walk(hub: Hub, filter_: dict[str, Any], first: int) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(200):  # bounded: a correct walk ends long before
        answer = await hub.query(OFFERS, {"filter": filter_, "first": first, "after": after})
        assert "errors" not in answer, answer.get("errors")
        connection = answer["data"]["offers"]
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


async def test_offers_near_chambery_match_the_partners_data(hub: Hub) -> None:
    near = {**CHAMBERY, "radiusKm": 15.0}
    nodes = await walk(hub, {"near": near, "romeCodes": ["G1602"]}, first=7)
    expected = expected_offers(rome="G1602", near=near)
    assert len(expected) >= 5, "the demo data should have offers there"
    # Coordinates near the radius edge can differ by the partner's rounding: allow none missing
    # by more than what rounding explains, and every returned offer within the radius.
    for node in nodes:
        geo = node["location"]["geo"]
        assert (
            distance_km(
                CHAMBERY["latitude"], CHAMBERY["longitude"], geo["latitude"], geo["longitude"]
            )
            <= 15.0
        )
        assert node["romeCodes"] == ["G1602"] or "G1602" in node["romeCodes"]
    assert len(nodes) == len(expected)


async def test_walking_every_page_returns_each_offer_exactly_once(hub: Hub) -> None:
    nodes = await walk(hub, {"departements": ["73"], "romeCodes": ["G1602"]}, first=9)
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids))
    expected = expected_offers(rome="G1602", departement="73")
    assert len(nodes) == len(expected)
    # each merged offer carries one provenance entry per partner that published it
    by_partner_ids = {
        frozenset((p["partner"], p["partnerId"]) for p in n["provenance"]) for n in nodes
    }
    seeds = [
        s for s in dataset().offers if s.rome_code == "G1602" and s.address.insee_code[:2] == "73"
    ]
    wanted = {
        frozenset(
            (p, i) for p, i in s.publishers.items() if p in ("francetravail", "apprentissage")
        )
        for s in seeds
        if set(s.publishers) & {"francetravail", "apprentissage"}
    }
    assert by_partner_ids == wanted


async def test_an_offer_published_twice_is_one_offer_with_two_provenances(hub: Hub) -> None:
    nodes = await walk(hub, {"departements": ["74"], "romeCodes": ["G1602"]}, first=50)
    twice = [n for n in nodes if len(n["provenance"]) == 2]
    assert twice, "the demo publishes a share of offers on both partners"
    for node in twice:
        assert {p["partner"] for p in node["provenance"]} == {"francetravail", "apprentissage"}


async def test_pages_are_in_descending_publication_order(hub: Hub) -> None:
    nodes = await walk(hub, {"departements": ["73"]}, first=100)
    dates = [n["publishedAt"] for n in nodes]
    assert dates == sorted(dates, reverse=True)


async def test_employers_are_fetched_in_one_batch_per_page(hub: Hub) -> None:
    document = """
    query($filter: OfferFilter) { offers(filter: $filter, first: 50) {
      edges { node { id employer { siret name naf { code } } } } } }"""
    before = hub.calls("sirene")
    answer = await hub.query(document, {"filter": {"departements": ["74"]}})
    assert "errors" not in answer
    edges = answer["data"]["offers"]["edges"]
    assert len(edges) == 50
    named = [e for e in edges if e["node"]["employer"] and e["node"]["employer"]["siret"]]
    assert len(named) > 10
    assert hub.calls("sirene") - before == 1


async def test_a_warm_query_costs_no_partner_call_and_says_it_came_from_cache(hub: Hub) -> None:
    variables = {"filter": {"departements": ["73"], "romeCodes": ["M1805"]}, "first": 20}
    cold = await hub.query(OFFERS, variables)
    calls = hub.all_calls()
    warm = await hub.query(OFFERS, variables)
    assert hub.all_calls() == calls
    assert [e["node"]["id"] for e in warm["data"]["offers"]["edges"]] == [
        e["node"]["id"] for e in cold["data"]["offers"]["edges"]
    ]
    provenance = [p for e in warm["data"]["offers"]["edges"] for p in e["node"]["provenance"]]
    assert provenance and all(p["fromCache"] for p in provenance)
    assert not any(
        p["fromCache"] for e in cold["data"]["offers"]["edges"] for p in e["node"]["provenance"]
    )


async def test_node_routes_a_global_id_to_its_owner(hub: Hub) -> None:
    answer = await hub.query(OFFERS, {"filter": {"departements": ["73"]}, "first": 1})
    node = answer["data"]["offers"]["edges"][0]["node"]
    found = await hub.query(
        "query($id: ID!) { node(id: $id) { id ... on Offer { title provenance { partner } } } }",
        {"id": node["id"]},
    )
    assert found["data"]["node"]["id"] == node["id"]
    assert found["data"]["node"]["title"] == node["title"]


async def test_sources_restricts_the_partners_called(hub: Hub) -> None:
    before = hub.calls("apprentissage")
    answer = await hub.query(
        OFFERS, {"filter": {"sources": ["francetravail"], "departements": ["73"]}, "first": 5}
    )
    assert "errors" not in answer
    assert hub.calls("apprentissage") == before
    for edge in answer["data"]["offers"]["edges"]:
        assert edge["node"]["provenance"][0]["partner"] == "francetravail"
