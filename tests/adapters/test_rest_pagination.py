"""The REST adapter walks every pagination style, and stops at the limit."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters import request_memo
from adapters.types import ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    cursor_app,
    echo_app,
    ids,
    offer,
    offer_entity,
    offset_app,
    page_app,
    plain_app,
    range_app,
    range_entity,
    rest_config,
)

ALL_IDS = [o["id"] for o in OFFERS]


def everything(limit: int = 1000) -> ListQuery:
    return ListQuery("offer", {}, limit)


async def test_range_walk_returns_every_offer_once_in_order(connect_rest: ConnectRest) -> None:
    app, _ = range_app()
    adapter = connect_rest(app, rest_config({"offer": range_entity(page_size=5)}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS
    assert page.total == 23
    assert page.truncated is False
    assert sorted(s.param("range") or "" for s in app.seen) == sorted(
        ["0-4", "5-9", "10-14", "15-19", "20-24"]
    )
    assert adapter.http.calls == 5


async def test_range_pages_after_the_first_are_fetched_concurrently_and_bounded(
    connect_rest: ConnectRest,
) -> None:
    app, gauge = range_app(in_flight_pause=0.02)
    config = rest_config({"offer": range_entity(page_size=2)}, max_concurrency=6)
    adapter = connect_rest(app, config)

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS  # order kept although pages came back concurrently
    assert gauge["peak"] > 1
    assert gauge["peak"] <= 3  # max_concurrency // 2


async def test_range_stops_at_the_limit_and_says_truncated(connect_rest: ConnectRest) -> None:
    app, _ = range_app()
    adapter = connect_rest(app, rest_config({"offer": range_entity(page_size=5)}))

    page = await adapter.list(everything(limit=7))

    assert ids(page.records) == ALL_IDS[:7]
    assert page.total == 23
    assert page.truncated is True
    assert [s.param("range") for s in app.seen] == ["0-4", "5-6"]  # only what is missing


async def test_a_limit_under_the_page_size_asks_for_that_many(connect_rest: ConnectRest) -> None:
    app, _ = range_app()
    adapter = connect_rest(app, rest_config({"offer": range_entity(page_size=150)}))

    page = await adapter.list(everything(limit=3))

    assert ids(page.records) == ALL_IDS[:3]
    assert [s.param("range") for s in app.seen] == ["0-2"]


async def test_range_204_is_an_empty_answer(connect_rest: ConnectRest) -> None:
    app, _ = range_app(offers=[])
    adapter = connect_rest(app, rest_config({"offer": range_entity()}))

    page = await adapter.list(everything())

    assert page.records == []
    assert page.truncated is False
    assert len(app.seen) == 1


async def test_max_items_caps_what_is_read(connect_rest: ConnectRest) -> None:
    app, _ = range_app()
    config = rest_config({"offer": range_entity(page_size=4)}, max_items=10)
    adapter = connect_rest(app, config)

    page = await adapter.list(everything(limit=100))

    assert ids(page.records) == ALL_IDS[:10]
    assert page.truncated is True
    assert len(app.seen) == 3  # 0-3, 4-7, 8-11: nothing past the cap


async def test_page_style_from_page_one_with_total(connect_rest: ConnectRest) -> None:
    app = page_app()
    entity = offer_entity(
        list={"path": "/jobs", "items": "data"},
        pagination={
            "style": "page",
            "page_param": "page_index",
            "size_param": "page_size",
            "page_size": 10,
            "first_page": 1,
            "total": "pagination.total",
        },
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS
    assert page.total == 23
    assert sorted(s.param("page_index") or "" for s in app.seen) == ["1", "2", "3"]
    assert {s.param("page_size") for s in app.seen} == {"10"}


async def test_page_style_without_total_reads_until_a_short_page(
    connect_rest: ConnectRest,
) -> None:
    app = page_app(with_total=False)
    entity = offer_entity(
        list={"path": "/jobs", "items": "data"},
        pagination={
            "style": "page",
            "page_param": "page_index",
            "size_param": "page_size",
            "page_size": 10,
            "first_page": 1,
        },
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS
    assert page.total is None
    assert [s.param("page_index") for s in app.seen] == ["1", "2", "3"]


async def test_page_style_without_total_stops_on_an_empty_page(connect_rest: ConnectRest) -> None:
    app = page_app(offers=OFFERS[:20], with_total=False)
    entity = offer_entity(
        list={"path": "/jobs", "items": "data"},
        pagination={
            "style": "page",
            "page_param": "page_index",
            "size_param": "page_size",
            "page_size": 10,
            "first_page": 1,
        },
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS[:20]
    assert [s.param("page_index") for s in app.seen] == ["1", "2", "3"]
    assert page.truncated is False


async def test_offset_style_with_a_total_written_as_text(connect_rest: ConnectRest) -> None:
    app = offset_app()
    entity = offer_entity(
        list={"path": "/items", "items": "results"},
        pagination={"style": "offset", "page_size": 8, "total": "count"},
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS
    assert page.total == 23
    assert sorted(int(s.param("offset") or -1) for s in app.seen) == [0, 8, 16]


async def test_cursor_style_follows_next_until_absent(connect_rest: ConnectRest) -> None:
    app = cursor_app()
    entity = offer_entity(
        list={"path": "/feed", "items": "items"},
        pagination={"style": "cursor", "page_size": 6, "next": "paging.next"},
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert ids(page.records) == ALL_IDS
    assert len(app.seen) == 4
    assert app.seen[0].param("cursor") is None
    assert all(s.param("cursor") for s in app.seen[1:])


async def test_cursor_going_round_in_circles_is_not_followed_forever(
    connect_rest: ConnectRest,
) -> None:
    app = cursor_app(loop_at=6)  # after the first page, the partner hands out one cursor forever
    entity = offer_entity(
        list={"path": "/feed", "items": "items"},
        pagination={"style": "cursor", "page_size": 6, "next": "paging.next"},
    )
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert len(app.seen) <= 3
    assert ids(page.records)[:6] == ALL_IDS[:6]


async def test_no_pagination_reads_the_array_and_cuts_at_the_limit(
    connect_rest: ConnectRest,
) -> None:
    app = plain_app()
    adapter = connect_rest(app, rest_config({"offer": offer_entity(list={"path": "/all"})}))

    page = await adapter.list(everything(limit=5))

    assert ids(page.records) == ALL_IDS[:5]
    assert page.truncated is True
    assert page.total == 23
    assert len(app.seen) == 1


async def test_an_entity_without_a_list_endpoint_lists_nothing(connect_rest: ConnectRest) -> None:
    app = echo_app()
    entity = offer_entity(lookups={"id": {"path": "/offres/{value}"}})
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(everything())

    assert page.records == []
    assert app.seen == []


def _one_rare_offer(total: int, rare_at: int) -> list[dict[str, Any]]:
    common = [{**offer(n), "romeCode": "M1805"} for n in range(total)]
    common[rare_at]["romeCode"] = "G1602"
    return common


async def test_a_filter_the_partner_cannot_apply_reads_growing_pages(
    connect_rest: ConnectRest,
) -> None:
    """One match at raw record 150: pages of 1, 2, 4 ... up to the partner's 100, not 151
    pages of the one record asked for."""
    app, _ = range_app(offers=_one_rare_offer(200, 150))
    adapter = connect_rest(app, rest_config({"offer": range_entity(page_size=100)}))

    page = await adapter.list(ListQuery("offer", {"romeCodes": ["G1602"]}, 1))

    assert ids(page.records) == ["OF150"]
    assert len(app.seen) <= 9, [s.param("range") for s in app.seen]


async def test_lists_of_one_request_share_the_partner_pages_they_both_read(
    connect_rest: ConnectRest,
) -> None:
    """Two lists differing only by a filter the partner cannot apply send it the same
    requests: inside one request each is made once (outside, each list makes its own)."""
    app, _ = range_app(offers=_one_rare_offer(60, 40))
    adapter = connect_rest(app, rest_config({"offer": range_entity(page_size=10)}))
    rare = ListQuery("offer", {"romeCodes": ["G1602"]}, 5)
    other = ListQuery("offer", {"romeCodes": ["F1201"]}, 5)  # matches nothing: reads all 60

    alone = len((await adapter.list(other), app.seen)[1])
    app.seen.clear()
    with request_memo.scoped():
        pages = await asyncio.gather(adapter.list(rare), adapter.list(other))

    assert ids(pages[0].records) == ["OF040"] and pages[1].records == []
    assert len(app.seen) == alone  # the second list's pages were all the first's
    assert len({(s.param("range")) for s in app.seen}) == len(app.seen)  # none asked twice
