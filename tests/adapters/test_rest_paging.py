"""The REST adapter reads about one page and resumes where it stopped, in every pagination style."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.rest_paging import aligned_page
from adapters.types import ListQuery, Page, SortOrder
from tests.adapters.rest_partners import (
    OFFERS,
    Recorder,
    adapter_over,
    cursor_app,
    ids,
    offer_entity,
    offset_app,
    page_app,
    range_app,
    range_entity,
    rest_config,
)

ALL_IDS = [o["id"] for o in OFFERS]


def _page_partner() -> tuple[Recorder, Any]:
    app = page_app()
    entity = offer_entity(
        list={"path": "/jobs", "items": "data"},
        pagination={
            "style": "page",
            "page_param": "page_index",
            "size_param": "page_size",
            "first_page": 1,
            "page_size": 10,
            "total": "pagination.total",
        },
    )
    return app, adapter_over(app, rest_config({"offer": entity}))


def _offset_partner() -> tuple[Recorder, Any]:
    app = offset_app()
    entity = offer_entity(
        list={"path": "/items", "items": "results"},
        pagination={"style": "offset", "page_size": 10, "total": "count"},
    )
    return app, adapter_over(app, rest_config({"offer": entity}))


def _range_partner() -> tuple[Recorder, Any]:
    app, _ = range_app()
    return app, adapter_over(app, rest_config({"offer": range_entity(page_size=10)}))


def _cursor_partner() -> tuple[Recorder, Any]:
    app = cursor_app()
    entity = offer_entity(
        list={"path": "/feed", "items": "items"},
        pagination={"style": "cursor", "page_size": 10, "next": "paging.next"},
    )
    return app, adapter_over(app, rest_config({"offer": entity}))


PARTNERS = {
    "page": _page_partner,
    "offset": _offset_partner,
    "range": _range_partner,
    "cursor": _cursor_partner,
}


async def _walk(adapter: Any, limit: int, filters: dict[str, Any] | None = None) -> list[Page]:
    pages: list[Page] = []
    resume = None
    for _ in range(50):  # bounded: 23 offers end the walk long before
        page = await adapter.list(ListQuery("offer", filters or {}, limit, resume=resume))
        pages.append(page)
        if page.exhausted:
            break
        assert page.positions is not None
        resume = page.positions[-1] if page.records else page.end
    return pages


@pytest.mark.parametrize("style", sorted(PARTNERS))
async def test_a_walk_gives_every_record_once_in_the_partners_order(style: str) -> None:
    _app, adapter = PARTNERS[style]()
    pages = await _walk(adapter, 7)

    walked = [i for page in pages for i in ids(page.records)]
    assert walked == ALL_IDS
    assert [len(p.records) for p in pages] == [7, 7, 7, 2]
    json.dumps([p.positions for p in pages])  # positions travel inside JSON cursors


@pytest.mark.parametrize("style", sorted(PARTNERS))
async def test_each_call_costs_about_one_page(style: str) -> None:
    app, adapter = PARTNERS[style]()
    app.seen.clear()
    await _walk(adapter, 7)

    # 23 offers in pages of 7: four calls, one partner request each (a page partner asks a
    # page whose size holds the wanted window; a cursor partner asks its last page again).
    assert len(app.seen) <= 5


async def test_a_page_partner_is_asked_the_page_that_holds_the_window() -> None:
    app, adapter = _page_partner()
    app.seen.clear()
    page = await adapter.list(ListQuery("offer", {}, 5, resume=13))

    assert ids(page.records) == ALL_IDS[13:18]
    assert len(app.seen) == 1
    size = int(app.seen[0].param("page_size") or 0)
    index = int(app.seen[0].param("page_index") or 0) - 1
    assert index * size <= 13 and (index + 1) * size >= 18


@given(st.integers(0, 100_000), st.integers(1, 100), st.integers(1, 500))
def test_an_aligned_page_holds_the_window(offset: int, want: int, most: int) -> None:
    size, index = aligned_page(offset, want, most)
    assert 1 <= size <= most
    assert index * size <= offset
    assert offset + min(want, most) <= (index + 1) * size or size == most


async def test_a_filter_the_partner_cannot_apply_costs_a_bounded_scan() -> None:
    _app, adapter = _page_partner()  # this partner filters nothing itself
    adapter.rest = adapter.rest.model_copy(update={"max_items": 12})
    page = await adapter.list(ListQuery("offer", {"romeCodes": ["M1805"]}, 50))

    assert {r.fields["romeCodes"][0] for r in page.records} == {"M1805"}
    assert not page.exhausted  # stopped by its bound, not by the partner's end
    assert page.end == 12
    assert not page.total_exact


async def test_a_pushed_filter_gives_an_exact_total() -> None:
    app, _ = range_app()
    config = rest_config({"offer": range_entity(filters={"romeCodes": {"param": "codeROME"}})})
    adapter = adapter_over(app, config)
    page = await adapter.list(ListQuery("offer", {"romeCodes": ["M1805"]}, 3))

    assert page.total == sum(1 for o in OFFERS if o["romeCode"] == "M1805")
    assert page.total_exact


async def test_a_declared_order_is_sent_and_the_natural_one_is_not() -> None:
    app, _ = range_app()
    sort = {"param": "tri", "values": {"-publishedAt": "date"}, "natural": "id"}
    adapter = adapter_over(app, rest_config({"offer": range_entity(sort=sort)}))
    assert adapter.orders("offer") == frozenset({"-publishedAt", "id"})

    app.seen.clear()
    await adapter.list(ListQuery("offer", {}, 3, order=SortOrder("publishedAt", True)))
    await adapter.list(ListQuery("offer", {}, 3, order=SortOrder("id")))
    assert [s.param("tri") for s in app.seen] == ["date", None]


@pytest.mark.parametrize("position", [-1, "3", [1, 2], {"a": 1}, 2.5])
async def test_a_forged_position_is_refused_before_any_call(position: Any) -> None:
    app, adapter = _offset_partner()
    app.seen.clear()
    with pytest.raises(ValueError, match="position"):
        await adapter.list(ListQuery("offer", {}, 3, resume=position))
    assert app.seen == []
