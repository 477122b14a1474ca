"""Issue 6's walk over two job boards of real size: nothing lost, nothing folded, one page each.

Alpes Emploi (5,000 offers, pages of at most 500, sorted on request) and Jobs Montagne (3,000
offers, cursor pages of 100, newest first), 600 offers on both. Before the list path was
rebuilt, walking offers of 74 lost 35 % of them silently (a ``max_items`` cut and offers of one
partner folded together) and cost 456 partner calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from demo.job_boards import catalogue
from gateway.settings import Settings
from tests.gateway.hubkit import Hub, start_hub

WALK = """query($after: String, $first: Int!, $filter: OfferFilter) {
  offers(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id publishedAt provenance { partner partnerId } } }
  }
}"""


@pytest.fixture
async def boards(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    hub = await start_hub(
        monkeypatch,
        partners=("alpes-emploi", "jobs-montagne"),
        settings=Settings(development=True, cache_enabled=False),
    )
    yield hub
    await hub.aclose()


async def _walk(
    hub: Hub, first: int = 100, filter_: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], int]:
    nodes: list[dict[str, Any]] = []
    after = None
    variables = {"first": first, "filter": filter_ or {"departements": ["74"]}}
    for pages in range(1, 400):  # bounded: about 51 pages end the walk
        answer = await hub.query(WALK, {**variables, "after": after})
        assert "errors" not in answer, answer.get("errors")
        connection = answer["data"]["offers"]
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes, pages
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


async def test_walking_two_boards_gives_every_offer_once(boards: Hub) -> None:
    nodes, _ = await _walk(boards)
    expected = [o for o in catalogue().offers if o.address.insee_code.startswith("74")]

    assert len(nodes) == len({n["id"] for n in nodes}) == len(expected)
    given = {(p["partner"], p["partnerId"]) for n in nodes for p in n["provenance"]}
    assert given == {(p, i) for o in expected for p, i in o.publishers.items()}
    # twins merged across the boards, and only the real ones
    merged = [n for n in nodes if len(n["provenance"]) == 2]
    assert len(merged) == sum(1 for o in expected if len(o.publishers) == 2)
    dates = [n["publishedAt"] for n in nodes]
    assert dates == sorted(dates, reverse=True)


async def test_each_page_of_the_walk_costs_about_one_page_of_each_board(boards: Hub) -> None:
    _, pages = await _walk(boards)
    calls = boards.all_calls()
    assert calls["alpes-emploi"] <= pages + 1
    # a cursor partner resumed inside its page is asked that page again, then the next one
    assert calls["jobs-montagne"] <= 2 * pages + 1


async def test_small_pages_give_every_offer_once_and_merge_twins_across_pages(
    boards: Hub,
) -> None:
    shared = catalogue().shared()
    rome = Counter(o.rome_code for o in shared).most_common(1)[0][0]
    expected = [o for o in catalogue().offers if o.rome_code == rome]
    nodes, _ = await _walk(boards, 7, {"romeCodes": [rome]})

    assert len(nodes) == len({n["id"] for n in nodes}) == len(expected)
    given = [(p["partner"], p["partnerId"]) for n in nodes for p in n["provenance"]]
    assert len(given) == len(set(given))
    assert set(given) == {(p, i) for o in expected for p, i in o.publishers.items()}
