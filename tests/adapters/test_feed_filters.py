"""A feed filters its snapshot with the gateway's own meaning of every filter it declares.

The gateway re-applies every filter to what a partner returns; if a feed's in-memory filter
were stricter, a page would silently miss records; looser, and ``limit`` would cut real
matches. So the two must agree, record for record, on the demo catalogue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import xml_feed
from adapters.feed import FeedAdapter
from adapters.filtering import keep, normalise, predicates
from adapters.predicates import FILTER_PREDICATES
from adapters.syntax import FILTERS
from adapters.types import GeoFilter, ListQuery, Record
from demo import carif
from tests.adapters.test_xml_feed_carif import carif_block


@pytest.fixture
async def catalogue() -> AsyncIterator[FeedAdapter]:
    adapter = xml_feed.create("carif", carif_block(), httpx.ASGITransport(app=carif.create_app()))
    yield adapter
    await adapter.aclose()


def gateway_view(records: list[Record], filters: dict[str, Any]) -> list[str]:
    for record in records:
        normalise(record)
    return [r.fields["id"] for r in keep(records, predicates("training_program", filters))]


async def both(adapter: FeedAdapter, filters: dict[str, Any]) -> tuple[list[str], list[str]]:
    everything = await adapter.list(ListQuery("training_program", {}, 10_000))
    pushed = await adapter.list(ListQuery("training_program", filters, 10_000))
    return [r.fields["id"] for r in pushed.records], gateway_view(everything.records, filters)


ANNECY = GeoFilter(45.8992, 6.1294, 12)


@pytest.mark.parametrize(
    "filters",
    [
        {"departements": ["74"]},
        {"communes": ["73065", "74010"]},
        {"levels": [3, 4]},
        {"romeCodes": ["M1805", "G1602"]},
        {"rncp": ["RNCP36140"]},
        {"responsibleUai": ["0732727T"]},
        {"near": ANNECY},
        {"near": ANNECY, "levels": [5], "departements": ["74"]},
        {"departements": ["01"]},
    ],
    ids=lambda f: "+".join(f),
)
async def test_in_memory_filters_agree_with_the_gateway(
    catalogue: FeedAdapter, filters: dict[str, Any]
) -> None:
    pushed, gateway = await both(catalogue, filters)
    assert pushed == gateway
    if filters != {"departements": ["01"]}:
        assert pushed, "a filter test that matches nothing proves little"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    latitude=st.floats(45.0, 46.5),
    longitude=st.floats(5.5, 7.2),
    radius=st.floats(0, 60),
)
async def test_near_agrees_with_the_gateway_anywhere_in_the_territory(
    catalogue: FeedAdapter, latitude: float, longitude: float, radius: float
) -> None:
    pushed, gateway = await both(catalogue, {"near": GeoFilter(latitude, longitude, radius)})
    assert pushed == gateway


def test_declared_filters_are_the_common_ones_the_feed_applies(catalogue: FeedAdapter) -> None:
    pushed = catalogue.pushed_filters("training_program")
    assert set(FILTERS["training_program"]) <= pushed
    assert pushed == set(FILTER_PREDICATES["training_program"])
    assert catalogue.pushed_filters("offer") == frozenset()  # not an entity of this feed


async def test_a_filter_the_feed_does_not_know_is_ignored(catalogue: FeedAdapter) -> None:
    everything = await catalogue.list(ListQuery("training_program", {}, 10_000))
    page = await catalogue.list(ListQuery("training_program", {"opco": "AKTO"}, 10_000))
    assert page.total == everything.total == len(everything.records)
